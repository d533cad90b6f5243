package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// backends returns the stores these tests run against: the in-process map
// and a bbolt file.
func backends() map[string]func(t *testing.T) session.Store {
	return map[string]func(t *testing.T) session.Store{
		"memstore": func(t *testing.T) session.Store {
			s := memstore.New()
			t.Cleanup(func() { s.Close() })
			return s
		},
		"boltstore": func(t *testing.T) session.Store {
			s, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// newOn builds a Middleware over store with cfg (Manager and Secrets
// filled in when empty).
func newOn(t *testing.T, store session.Store, cookie string, cfg Config) *Middleware {
	t.Helper()
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New(), Cookie: session.CookieOptions{Name: cookie}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Manager = mgr
	if cfg.Secrets == nil {
		cfg.Secrets = []string{testSecret}
	}
	mw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// tokenApp is the handler the header-token tests drive: log in (renew and
// set the user), read the user, renew, log out.
func tokenApp(w http.ResponseWriter, r *http.Request) {
	s := Get(r)
	var err error
	switch r.URL.Path {
	case "/login":
		if err = s.Renew(); err == nil {
			err = s.SetUser("alice")
		}
	case "/renew":
		err = s.Renew()
	case "/logout":
		err = s.Destroy()
	}
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	u, err := s.User()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Write([]byte("user=" + u))
}

func TestTokenHeaderOnly(t *testing.T) {
	for name, open := range backends() {
		for _, hdr := range []string{"X-Session-Token", "Authorization"} {
			t.Run(name+"/"+hdr, func(t *testing.T) {
				mw := newOn(t, open(t), "session", Config{TokenHeader: hdr, HeaderOnly: true})
				h := mw.Handler(http.HandlerFunc(tokenApp))
				respHdr := "X-Session-Token"
				do := func(path, token string) *httptest.ResponseRecorder {
					t.Helper()
					r := httptest.NewRequest("POST", path, nil)
					if token != "" {
						if hdr == "Authorization" {
							token = "Bearer " + token
						}
						r.Header.Set(hdr, token)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if sc := w.Result().Header.Values("Set-Cookie"); len(sc) != 0 {
						t.Errorf("%s: Set-Cookie %q in header-only mode", path, sc)
					}
					if v := w.Result().Header.Get("Vary"); v != hdr {
						t.Errorf("%s: Vary %q, want %q", path, v, hdr)
					}
					return w
				}
				w := do("/login", "")
				tok := w.Result().Header.Get(respHdr)
				if _, ok := Verify(tok, []string{testSecret}); !ok || w.Body.String() != "user=alice" {
					t.Fatalf("login: token %q, body %q", tok, w.Body.String())
				}
				if cc := w.Result().Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("login: Cache-Control %q, want no-store", cc)
				}

				w = do("/read", tok)
				if w.Body.String() != "user=alice" {
					t.Errorf("read: body %q", w.Body.String())
				}
				if _, sent := w.Result().Header[respHdr]; sent {
					t.Errorf("read: token header sent for an unchanged session")
				}

				w = do("/renew", tok)
				renewed := w.Result().Header.Get(respHdr)
				if renewed == "" || renewed == tok {
					t.Fatalf("renew: token %q (was %q)", renewed, tok)
				}
				if w = do("/read", tok); w.Body.String() != "user=" {
					t.Errorf("old token after renew: body %q, want an empty session", w.Body.String())
				}
				if w = do("/read", renewed); w.Body.String() != "user=alice" {
					t.Errorf("renewed token: body %q", w.Body.String())
				}

				w = do("/logout", renewed)
				if v, sent := w.Result().Header[respHdr]; !sent || len(v) != 1 || v[0] != "" {
					t.Errorf("logout: %s = %q (sent %v), want one empty value", respHdr, v, sent)
				}
				if w = do("/read", renewed); w.Body.String() != "user=" {
					t.Errorf("token after logout: body %q", w.Body.String())
				}

				// A cookie is ignored in header-only mode.
				r := httptest.NewRequest("GET", "/read", nil)
				r.Header.Set("Cookie", "session="+tok)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Body.String() != "user=" {
					t.Errorf("cookie in header-only mode was read: %q", rec.Body.String())
				}
			})
		}
	}
}

// TestTokenAndCookie checks the order when both are on: the header wins,
// and the response answers on the channel the request came on.
func TestTokenAndCookie(t *testing.T) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			mw := newOn(t, open(t), "session", Config{TokenHeader: "X-Session-Token"})
			h := mw.Handler(http.HandlerFunc(tokenApp))
			serve := func(path string, hdrs map[string]string) *http.Response {
				r := httptest.NewRequest("POST", path, nil)
				for k, v := range hdrs {
					r.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Result()
			}
			body := func(res *http.Response) string {
				b, _ := io.ReadAll(res.Body)
				return string(b)
			}

			// Neither: both channels answer, with the same signed ID.
			res := serve("/login", nil)
			tok := res.Header.Get("X-Session-Token")
			sc := res.Header.Get("Set-Cookie")
			if tok == "" || sc == "" || cookieID(t, sc) != mustVerify(t, tok) {
				t.Fatalf("login with neither: token %q, Set-Cookie %q", tok, sc)
			}
			if v := res.Header.Values("Vary"); strings.Join(v, ",") != "Cookie,X-Session-Token" {
				t.Errorf("Vary %q", v)
			}
			cookie := "session=" + tok // the token is the cookie's value

			// Header only: the token comes back, no cookie.
			res = serve("/renew", map[string]string{"X-Session-Token": tok})
			if res.Header.Get("Set-Cookie") != "" || res.Header.Get("X-Session-Token") == "" {
				t.Errorf("renew by header: Set-Cookie %q, token %q", res.Header.Get("Set-Cookie"), res.Header.Get("X-Session-Token"))
			}
			tok = res.Header.Get("X-Session-Token")

			// Both, header valid and cookie stale: the header wins.
			if res = serve("/read", map[string]string{"X-Session-Token": tok, "Cookie": cookie}); body(res) != "user=alice" {
				t.Errorf("header and stale cookie: not the header's session")
			}
			// Both, header forged: a new session, the cookie not consulted.
			res = serve("/read", map[string]string{"X-Session-Token": Sign("x", "a forged secret, thirty-two bytes"), "Cookie": "session=" + tok})
			if b := body(res); b != "user=" {
				t.Errorf("forged header with a valid cookie: %q, want a new session", b)
			}

			// Cookie only: the cookie comes back, no token.
			res = serve("/renew", map[string]string{"Cookie": "session=" + tok})
			if res.Header.Get("Set-Cookie") == "" {
				t.Errorf("renew by cookie: no Set-Cookie")
			}
			if _, sent := res.Header["X-Session-Token"]; sent {
				t.Errorf("renew by cookie: token header sent")
			}
		})
	}
}

func mustVerify(t *testing.T, v string) string {
	t.Helper()
	id, ok := Verify(v, []string{testSecret})
	if !ok {
		t.Fatalf("%q does not verify", v)
	}
	return id
}

// TestTokenSecretRotation checks that a token signed with an older secret
// is still accepted, as a cookie is.
func TestTokenSecretRotation(t *testing.T) {
	old := "an older secret of thirty-two bytes"
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	before := newOn(t, store, "session", Config{TokenHeader: "Authorization", HeaderOnly: true, Secrets: []string{old}})
	after := newOn(t, store, "session", Config{TokenHeader: "Authorization", HeaderOnly: true, Secrets: []string{testSecret, old}})
	w := httptest.NewRecorder()
	before.Handler(http.HandlerFunc(tokenApp)).ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	tok := w.Result().Header.Get("X-Session-Token")
	r := httptest.NewRequest("GET", "/read", nil)
	r.Header.Set("Authorization", "bearer "+tok)
	w = httptest.NewRecorder()
	after.Handler(http.HandlerFunc(tokenApp)).ServeHTTP(w, r)
	if w.Body.String() != "user=alice" {
		t.Errorf("token signed with the old secret: %q", w.Body.String())
	}
}

func TestTokenReadRules(t *testing.T) {
	good := Sign("id", testSecret)
	tests := []struct {
		hdr, value string
		want       string
		ok         bool
	}{
		{"X-Session-Token", good, good, true},
		{"X-Session-Token", "  " + good + " ", good, true},
		{"X-Session-Token", "", "", false},
		{"Authorization", "Bearer " + good, good, true},
		{"Authorization", "BEARER  " + good, good, true},
		{"Authorization", "Basic dXNlcjpwYXNz", "", false},
		{"Authorization", "Bearer", "", false},
		{"Authorization", "Bearer ", "", false},
		{"Authorization", good, "", false},
	}
	for _, tt := range tests {
		spec, err := newTokenSpec(Config{TokenHeader: tt.hdr})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(tt.hdr, tt.value)
		got, ok := spec.read(h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %q: got %q, %v; want %q, %v", tt.hdr, tt.value, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTokenConfigRefusals(t *testing.T) {
	for _, cfg := range []Config{
		{HeaderOnly: true},
		{TokenResponseHeader: "X-Token"},
		{TokenHeader: "Cookie"},
		{TokenHeader: "X Token"},
		{TokenHeader: "X-Token", TokenResponseHeader: "Set-Cookie"},
		{TokenHeader: "X-Token", TokenResponseHeader: "authorization"},
	} {
		if _, err := newTokenSpec(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func FuzzTokenRead(f *testing.F) {
	f.Add("Bearer " + Sign("abc", testSecret))
	f.Add("bearer\t x")
	f.Add("Basic abc")
	f.Add("Bearer")
	f.Add(" BEARER  s%3Aabc. ")
	bearer, _ := newTokenSpec(Config{TokenHeader: "Authorization"})
	named, _ := newTokenSpec(Config{TokenHeader: "X-Session-Token"})
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Authorization": {v}, "X-Session-Token": {v}}
		for _, spec := range []tokenSpec{bearer, named} {
			tok, ok := spec.read(h)
			if ok != (tok != "") {
				t.Fatalf("%s: %q gives %q, %v", spec.request, v, tok, ok)
			}
			if ok && trimOWS(tok) != tok {
				t.Fatalf("%s: token %q keeps surrounding space", spec.request, tok)
			}
			if ok && spec.bearer && !strings.HasPrefix(strings.ToLower(trimOWS(v)), "bearer ") {
				t.Fatalf("%q read as a Bearer token", v)
			}
			if ok && !spec.bearer && tok != trimOWS(v) {
				t.Fatalf("%q read as %q", v, tok)
			}
		}
	})
}
