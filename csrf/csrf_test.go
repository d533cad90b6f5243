package csrf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

const secret = "0123456789abcdef0123456789abcdef"

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

// failStore fails every Load once armed.
type failStore struct {
	session.Store
	fail bool
}

func (f *failStore) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	if f.fail {
		return nil, time.Time{}, false, context.DeadlineExceeded
	}
	return f.Store.Load(ctx, id)
}

// app serves /form (a token), /login (renews the session), /act (an
// unsafe action that counts) behind the Protection.
type app struct {
	t       *testing.T
	h       http.Handler
	store   *failStore
	actions int
}

func newApp(t *testing.T, store session.Store) *app {
	a := &app{t: t, store: &failStore{Store: store}}
	mgr, err := session.New(session.Config{Store: a.store, Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	a.h = mw.Handler(p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/form":
			tok, err := p.Token(r)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Write([]byte(tok))
		case "/login":
			if err := middleware.Get(r).Renew(); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			tok, _ := p.Token(r)
			w.Write([]byte(tok))
		default:
			a.actions++
		}
	})))
	return a
}

// do serves one request with the cookie and returns the status, body and
// the cookie to use next.
func (a *app) do(method, path, cookie string, form url.Values, hdr map[string]string) (int, string, string) {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	if c := w.Result().Cookies(); len(c) > 0 {
		cookie = c[0].Name + "=" + c[0].Value
	}
	return w.Code, w.Body.String(), cookie
}

func TestProtection(t *testing.T) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			a := newApp(t, open(t))
			_, tok, cookie := a.do("GET", "/form", "", nil, nil)
			if cookie == "" || len(tok) < 80 {
				t.Fatalf("form: token %q, cookie %q", tok, cookie)
			}
			_, tok2, _ := a.do("GET", "/form", cookie, nil, nil)
			if tok2 == tok {
				t.Errorf("two pages got the same masked token")
			}

			ok := func(what string, code int) {
				t.Helper()
				if code != 200 {
					t.Errorf("%s: status %d, want 200", what, code)
				}
			}
			refused := func(what string, code int) {
				t.Helper()
				if code != 403 {
					t.Errorf("%s: status %d, want 403", what, code)
				}
			}
			code, _, _ := a.do("POST", "/act", cookie, url.Values{"csrf_token": {tok}}, nil)
			ok("form field", code)
			code, _, _ = a.do("POST", "/act", cookie, url.Values{"csrf_token": {tok2}}, nil)
			ok("second page's token", code)
			code, _, _ = a.do("DELETE", "/act", cookie, nil, map[string]string{"X-CSRF-Token": tok})
			ok("header", code)
			code, _, _ = a.do("GET", "/act", "", nil, nil)
			ok("GET without a token", code)
			if a.actions != 4 {
				t.Errorf("%d actions ran, want 4", a.actions)
			}

			before := a.actions
			code, _, _ = a.do("POST", "/act", cookie, url.Values{}, nil)
			refused("no token", code)
			code, _, _ = a.do("PUT", "/act", cookie, nil, map[string]string{"X-CSRF-Token": tok[:len(tok)-2] + "AA"})
			refused("tampered token", code)
			code, _, _ = a.do("POST", "/act", "", url.Values{"csrf_token": {tok}}, nil)
			refused("token without its session", code)
			_, otherTok, otherCookie := a.do("GET", "/form", "", nil, nil)
			code, _, _ = a.do("POST", "/act", cookie, url.Values{"csrf_token": {otherTok}}, nil)
			refused("another session's token", code)
			code, _, _ = a.do("POST", "/act", otherCookie, url.Values{"csrf_token": {tok}}, nil)
			refused("this token in another session", code)

			// Renew rotates: the old tokens stop working, the new one works.
			code, newTok, newCookie := a.do("POST", "/login", cookie, url.Values{"csrf_token": {tok}}, nil)
			ok("login", code)
			if newCookie == cookie || newTok == "" {
				t.Fatalf("login did not renew: cookie %q", newCookie)
			}
			code, _, _ = a.do("POST", "/act", newCookie, url.Values{"csrf_token": {tok}}, nil)
			refused("token from before Renew", code)
			code, _, _ = a.do("POST", "/act", newCookie, url.Values{"csrf_token": {newTok}}, nil)
			ok("token after Renew", code)
			if a.actions != before+1 {
				t.Errorf("%d refused actions ran", a.actions-before-1)
			}

			a.store.fail = true
			code, _, _ = a.do("POST", "/act", newCookie, url.Values{"csrf_token": {newTok}}, nil)
			if code != http.StatusServiceUnavailable {
				t.Errorf("store down: status %d, want 503", code)
			}
		})
	}
}

func TestMasking(t *testing.T) {
	s := make([]byte, secretLen)
	for i := range s {
		s[i] = byte(i)
	}
	a, b := mask(s), mask(s)
	if a == b || !matches(a, s) || !matches(b, s) {
		t.Fatalf("mask: %q, %q", a, b)
	}
	other := append([]byte(nil), s...)
	other[0] ^= 1
	for _, bad := range []string{"", "x", a[:len(a)-1], a + "A", "!!" + a[2:]} {
		if matches(bad, s) {
			t.Errorf("%q matched", bad)
		}
	}
	if matches(a, other) {
		t.Error("token matched another secret")
	}
}

func TestConfigRefusesReservedKey(t *testing.T) {
	if _, err := New(Config{Key: "cookie"}); err == nil {
		t.Error(`Key "cookie" accepted`)
	}
}
