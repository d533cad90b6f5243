package middleware

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func FuzzVerify(f *testing.F) {
	const secret = "keyboard cat"
	f.Add("connect.sid=" + expressABC)
	f.Add("a=1; connect.sid=\"" + expressABC + "\"; connect.sid=x")
	f.Add("connect.sid=s:abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU")
	f.Add("connect.sid=s%3A%E2%9C%93.%zz; connect.sid=")
	f.Add("connect.sid=s:a.b.c." + sigText("a.b.c", secret))
	f.Add(";;connect.sid\t=\ts:.")
	kr := newKeyring([]string{"another secret", secret})
	f.Fuzz(func(t *testing.T, header string) {
		value, found := readCookie(http.Header{"Cookie": {header}}, "connect.sid")
		if !found && value != "" {
			t.Fatalf("no cookie but value %q", value)
		}
		dec, decoded := decodeValue(nil, value)
		if want, err := url.PathUnescape(value); err == nil && strings.Contains(value, "%") {
			if !decoded || string(dec) != want {
				t.Fatalf("decodeValue(%q) = %q, %v; PathUnescape gives %q", value, dec, decoded, want)
			}
		} else if decoded || string(dec) != value {
			t.Fatalf("decodeValue(%q) = %q, %v; want it kept as received", value, dec, decoded)
		}
		id, ok := Verify(value, []string{secret})
		kid, kok := kr.verify(value)
		if kid != id || kok != ok {
			t.Fatalf("keyring verify %q, %v; Verify %q, %v", kid, kok, id, ok)
		}
		if !ok {
			if id != "" {
				t.Fatalf("failed verification returned id %q", id)
			}
			return
		}
		if id == "" {
			t.Fatal("verified an empty id")
		}
		// A value that verifies re-signs to one that verifies to the same
		// ID, through both the exported functions and the keyring.
		for _, v := range []string{Sign(id, secret), kr.sign(id)} {
			again, ok := Verify(v, []string{"another secret", secret})
			if !ok || again != id {
				t.Fatalf("id %q re-signed as %q verifies to %q, %v", id, v, again, ok)
			}
		}
	})
}
