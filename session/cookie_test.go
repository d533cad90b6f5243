package session

import (
	"strings"
	"testing"
	"time"
)

// TestCookieOptions checks the one place cookie options are checked: what
// browsers reject, or what defeats the cookie's protection, fails New with
// an error that says why.
func TestCookieOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    CookieOptions
		want string // in the error; empty: accepted
	}{
		{"defaults", CookieOptions{}, ""},
		{"typed values", CookieOptions{SameSite: SameSiteStrict, Priority: PriorityHigh}, ""},
		{"bad samesite", CookieOptions{SameSite: "sometimes"}, `Cookie.SameSite "sometimes": want SameSiteLax, SameSiteStrict, SameSiteNone or SameSiteOff`},
		{"capitalised samesite", CookieOptions{SameSite: "Lax"}, `Cookie.SameSite "Lax"`},
		{"bad priority", CookieOptions{Priority: "urgent"}, `Cookie.Priority "urgent": want PriorityLow, PriorityMedium, PriorityHigh or empty`},
		{"samesite none without secure", CookieOptions{SameSite: SameSiteNone}, "SameSite=None requires Secure"},
		{"samesite none, secure", CookieOptions{SameSite: SameSiteNone, Secure: true}, ""},
		{"partitioned without secure", CookieOptions{Partitioned: true}, "Partitioned cookie requires Secure"},
		{"__Secure- without secure", CookieOptions{Name: "__Secure-sid"}, "__Secure- name requires Secure"},
		{"__secure- lower case without secure", CookieOptions{Name: "__secure-sid"}, "__Secure- name requires Secure"},
		{"__Secure-, secure", CookieOptions{Name: "__Secure-sid", Secure: true, Domain: "example.com"}, ""},
		{"__Host- without secure", CookieOptions{Name: "__Host-sid"}, "__Host- name requires"},
		{"__Host- with domain", CookieOptions{Name: "__Host-sid", Secure: true, Domain: "example.com"}, "__Host- name requires"},
		{"__Host- with path", CookieOptions{Name: "__Host-sid", Secure: true, Path: "/app"}, "__Host- name requires"},
		{"__Host-, secure, root", CookieOptions{Name: "__Host-sid", Secure: true}, ""},
		{"bad name", CookieOptions{Name: "s id"}, "not a valid cookie name"},
		{"name with ;", CookieOptions{Name: "a;b"}, "not a valid cookie name"},
		{"path injection", CookieOptions{Path: "/; Domain=evil"}, "Cookie.Path"},
		{"relative path", CookieOptions{Path: "app"}, "Cookie.Path"},
		{"domain injection", CookieOptions{Domain: "a.com; Secure"}, "Cookie.Domain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Store: newTestStore(time.Now), Codec: testCodec{}, Cookie: tt.o})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseSameSiteAndPriority(t *testing.T) {
	for in, want := range map[string]SameSite{"": SameSiteLax, "Lax": SameSiteLax, " strict ": SameSiteStrict, "NONE": SameSiteNone, "off": SameSiteOff} {
		if got, err := ParseSameSite(in); got != want || err != nil {
			t.Errorf("ParseSameSite(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSameSite("sometimes"); err == nil || !strings.Contains(err.Error(), "want lax, strict, none or off") {
		t.Errorf("ParseSameSite(sometimes): %v", err)
	}
	for in, want := range map[string]Priority{"": "", "High": PriorityHigh, "low": PriorityLow, "medium": PriorityMedium} {
		if got, err := ParsePriority(in); got != want || err != nil {
			t.Errorf("ParsePriority(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePriority("urgent"); err == nil || !strings.Contains(err.Error(), "want low, medium, high or empty") {
		t.Errorf("ParsePriority(urgent): %v", err)
	}
}
