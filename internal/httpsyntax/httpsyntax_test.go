package httpsyntax

import "testing"

func TestToken(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"connect.sid", true},
		{"X-Session-Token", true},
		{"__Host-id", true},
		{"", false},
		{"a b", false},
		{"a;b", false},
		{"a=b", false},
		{"a\x7f", false},
		{"é", false},
		{"a\tb", false},
	} {
		if got := Token(tc.s); got != tc.want {
			t.Errorf("Token(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
