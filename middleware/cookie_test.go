package middleware

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// expressABC is what express-session sends for id "abc" signed with
// "keyboard cat".
const expressABC = "s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU"

func TestSignExpressVector(t *testing.T) {
	if got := Sign("abc", "keyboard cat"); got != expressABC {
		t.Fatalf("Sign(abc, keyboard cat) = %q, want %q", got, expressABC)
	}
	kr := newKeyring([]string{"keyboard cat"})
	if got := kr.sign("abc"); got != expressABC {
		t.Fatalf("keyring sign = %q, want %q", got, expressABC)
	}
}

func TestVerify(t *testing.T) {
	const rawABC = "s:abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU"
	cat := []string{"keyboard cat"}
	rotated := []string{"a new secret", "keyboard cat"}
	tests := []struct {
		name    string
		value   string
		secrets []string
		wantID  string // empty: must not verify
	}{
		{"express vector", expressABC, cat, "abc"},
		{"not url-encoded", rawABC, cat, "abc"},
		{"old secret second in list", expressABC, rotated, "abc"},
		{"new secret first in list", Sign("abc", "a new secret"), rotated, "abc"},
		{"unknown secret", expressABC, []string{"another"}, ""},
		{"no secrets", expressABC, nil, ""},
		{"unsigned", "abc", cat, ""},
		{"unsigned with dot", "abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU", cat, ""},
		{"tampered id", strings.Replace(expressABC, "abc", "abd", 1), cat, ""},
		{"tampered signature", strings.Replace(expressABC, "Bpx", "Bpy", 1), cat, ""},
		{"truncated signature", expressABC[:len(expressABC)-1], cat, ""},
		{"padded signature", rawABC + "=", cat, ""},
		{"extra byte after signature", rawABC + "A", cat, ""},
		{"empty", "", cat, ""},
		{"prefix only", "s:", cat, ""},
		{"empty id", Sign("", "keyboard cat"), cat, ""},
		{"uppercase prefix", strings.Replace(rawABC, "s:", "S:", 1), cat, ""},
		{"id with dots", Sign("a.b.c", "keyboard cat"), cat, "a.b.c"},
		{"id with raw plus", "s:a+b." + sigText("a+b", "keyboard cat"), cat, "a+b"},
		{"id with space", Sign("a b", "keyboard cat"), cat, "a b"},
		{"id with percent", Sign("100%", "keyboard cat"), cat, "100%"},
		{"bad escape kept raw", "s:a%zz." + sigText("a%zz", "keyboard cat"), cat, "a%zz"},
		{"unicode id", Sign("sé✓", "keyboard cat"), cat, "sé✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := Verify(tt.value, tt.secrets)
			if ok != (tt.wantID != "") || id != tt.wantID {
				t.Fatalf("Verify(%q) = %q, %v; want %q", tt.value, id, ok, tt.wantID)
			}
			if len(tt.secrets) == 0 {
				return
			}
			kid, kok := newKeyring(tt.secrets).verify(tt.value)
			if kid != id || kok != ok {
				t.Fatalf("keyring verify(%q) = %q, %v; Verify gives %q, %v", tt.value, kid, kok, id, ok)
			}
		})
	}
}

// sigText is the unencoded signature of id.
func sigText(id, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id))
	return base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSignRotationSignsWithFirst(t *testing.T) {
	kr := newKeyring([]string{"new-secret", "old-secret"})
	v := kr.sign("xyz")
	if _, ok := Verify(v, []string{"new-secret"}); !ok {
		t.Fatalf("value %q is not signed with the first secret", v)
	}
	if _, ok := Verify(v, []string{"old-secret"}); ok {
		t.Fatalf("value %q verifies with the second secret", v)
	}
}

func TestVerifyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	const id = "0123456789abcdefghijklmnopqrstuv"
	// The second secret is the one that matches, so both are tried.
	kr := newKeyring([]string{testSecret, "second secret, for rotation....."})
	tests := []struct {
		name   string
		value  string
		ok     bool
		allocs float64
	}{
		{"raw", "s:" + id + "." + sigText(id, "second secret, for rotation....."), true, 0},
		{"encoded: the ID only", Sign(id, "second secret, for rotation....."), true, 1},
		{"forged", Sign(id, "an unknown secret"), false, 0},
	}
	for _, tt := range tests {
		allocs := testing.AllocsPerRun(100, func() {
			if got, ok := kr.verify(tt.value); ok != tt.ok || (ok && got != id) {
				t.Fatalf("%s: verify = %q, %v", tt.name, got, ok)
			}
		})
		if allocs != tt.allocs {
			t.Errorf("%s: verify allocates %v times, want %v", tt.name, allocs, tt.allocs)
		}
	}
}

func TestReadCookie(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		want   string
		wantOK bool
	}{
		{"none", nil, "", false},
		{"other cookie", []string{"a=1; b=2"}, "", false},
		{"only", []string{"sid=v"}, "v", true},
		{"among others", []string{"a=1; sid=v; b=2"}, "v", true},
		{"first wins", []string{"sid=first; sid=second"}, "first", true},
		{"first line wins", []string{"sid=first", "sid=second"}, "first", true},
		{"spaces and tabs", []string{" a=1 ;\tsid = v \t; b=2"}, "v", true},
		{"quoted", []string{`sid="v"`}, "v", true},
		{"lone quote kept", []string{`sid="`}, `"`, true},
		{"empty value", []string{"sid=; sid=later"}, "", true},
		{"pair without =", []string{"sid; sid=v"}, "v", true},
		{"name is case-sensitive", []string{"SID=x; sid=v"}, "v", true},
		{"prefix of another name", []string{"sidx=x; xsid=y; sid=v"}, "v", true},
		{"value with =", []string{"sid=a=b"}, "a=b", true},
		{"empty parts", []string{";;; sid=v;"}, "v", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := readCookie(http.Header{"Cookie": tt.lines}, "sid")
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("readCookie(%q) = %q, %v; want %q, %v", tt.lines, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSetCookieText(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600))
	base := session.CookieOptions{Name: "sid", Path: "/", SameSite: session.SameSiteLax}
	tests := []struct {
		name      string
		edit      func(*session.CookieOptions)
		secure    bool
		set, gone string
	}{
		{"defaults", nil, false,
			"sid=VAL; Path=/; Expires=Wed, 02 Jan 2030 02:04:05 GMT; HttpOnly; SameSite=Lax",
			"sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax"},
		{"secure by request", nil, true,
			"sid=VAL; Path=/; Expires=Wed, 02 Jan 2030 02:04:05 GMT; Secure; HttpOnly; SameSite=Lax",
			"sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; SameSite=Lax"},
		{"everything", func(o *session.CookieOptions) {
			o.Path, o.Domain, o.SameSite, o.Partitioned, o.Priority = "/app", "example.com", session.SameSiteNone, true, session.PriorityHigh
		}, true,
			"sid=VAL; Path=/app; Domain=example.com; Expires=Wed, 02 Jan 2030 02:04:05 GMT; Secure; HttpOnly; SameSite=None; Partitioned; Priority=High",
			"sid=; Path=/app; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; SameSite=None; Partitioned; Priority=High"},
		{"browser session, script accessible, strict, low", func(o *session.CookieOptions) {
			o.BrowserSession, o.ScriptAccessible, o.SameSite, o.Priority = true, true, session.SameSiteStrict, session.PriorityLow
		}, false,
			"sid=VAL; Path=/; SameSite=Strict; Priority=Low",
			"sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; SameSite=Strict; Priority=Low"},
		{"samesite off, medium", func(o *session.CookieOptions) { o.SameSite, o.Priority = session.SameSiteOff, session.PriorityMedium }, false,
			"sid=VAL; Path=/; Expires=Wed, 02 Jan 2030 02:04:05 GMT; HttpOnly; Priority=Medium",
			"sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Priority=Medium"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			if tt.edit != nil {
				tt.edit(&o)
			}
			c := newCookieSpec(o)
			if got := c.setCookie("VAL", exp, o.BrowserSession, tt.secure); got != tt.set {
				t.Errorf("set:\n got %s\nwant %s", got, tt.set)
			}
			if got := c.clearCookie(tt.secure); got != tt.gone {
				t.Errorf("clear:\n got %s\nwant %s", got, tt.gone)
			}
		})
	}
}
