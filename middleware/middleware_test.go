package middleware

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// readCount is a handler that reports the session's "n" and whether it is
// new.
func readCount(w http.ResponseWriter, r *http.Request) {
	s := Get(r)
	n, err := session.GetOr(s, "n", 0)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	isNew, _ := s.IsNew()
	fmt.Fprintf(w, "n=%d new=%v", n, isNew)
}

func TestCookieVerificationBeforeStore(t *testing.T) {
	f := newFixture(t, nil)
	good := f.seed(t, "good-id", map[string]any{"n": 7})
	val := strings.TrimPrefix(good, "session=")
	forged := "session=" + Sign("good-id", "some other secret of 32+ bytes!!")
	tests := []struct {
		name    string
		cookies []string
		want    string
		loads   int64
	}{
		{"valid", []string{good}, "n=7 new=false", 1},
		{"valid, quoted", []string{`session="` + val + `"`}, "n=7 new=false", 1},
		{"valid, not url-encoded", []string{"session=s:good-id." + sigText("good-id", testSecret)}, "n=7 new=false", 1},
		{"no cookie", nil, "n=0 new=true", 0},
		{"other cookies only", []string{"a=1; connect.sid=" + val}, "n=0 new=true", 0},
		{"unsigned", []string{"session=good-id"}, "n=0 new=true", 0},
		{"empty", []string{"session="}, "n=0 new=true", 0},
		{"signed with an unknown secret", []string{forged}, "n=0 new=true", 0},
		{"tampered id", []string{strings.Replace(good, "good-id", "good-ie", 1)}, "n=0 new=true", 0},
		{"tampered signature", []string{good[:len(good)-2] + "AA"}, "n=0 new=true", 0},
		{"doubled, forged first", []string{forged + "; " + good}, "n=0 new=true", 0},
		{"doubled, forged in first header line", []string{forged, good}, "n=0 new=true", 0},
		{"doubled, valid first", []string{good + "; " + forged}, "n=7 new=false", 1},
		{"valid, unknown session", []string{"session=" + Sign("gone", testSecret)}, "n=0 new=true", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.store.loads.Load()
			w := f.serve(readCount, "GET", "/", tt.cookies...)
			if got := w.Body.String(); got != tt.want {
				t.Errorf("body %q, want %q", got, tt.want)
			}
			if n := f.store.loads.Load() - before; n != tt.loads {
				t.Errorf("%d store loads, want %d", n, tt.loads)
			}
			if sc := setCookies(w); len(sc) != 0 {
				t.Errorf("Set-Cookie %q on a read-only request", sc)
			}
		})
	}
	if f.store.saves.Load()+f.store.touches.Load()+f.store.deletes.Load() != 0 {
		t.Errorf("writes to the store by read-only requests")
	}
}

func TestRawPlusInID(t *testing.T) {
	f := newFixture(t, nil)
	const id = "a+b/c=d"
	f.seed(t, id, map[string]any{"n": 3})
	for name, c := range map[string]string{
		"raw":     "session=s:" + id + "." + sigText(id, testSecret),
		"encoded": "session=" + Sign(id, testSecret),
	} {
		t.Run(name, func(t *testing.T) {
			w := f.serve(readCount, "GET", "/", c)
			if got := w.Body.String(); got != "n=3 new=false" {
				t.Fatalf("body %q: the session under %q was not found", got, id)
			}
		})
	}
}

func TestLazyLoad(t *testing.T) {
	f := newFixture(t, nil)
	good := f.seed(t, "lazy", map[string]any{"n": 1})
	handlers := map[string]http.HandlerFunc{
		"never asks":         func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") },
		"gets but never use": func(w http.ResponseWriter, r *http.Request) { _ = Get(r); io.WriteString(w, "hi") },
		"writes nothing":     func(w http.ResponseWriter, r *http.Request) { _ = Get(r) },
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			before := f.store.calls()
			w := f.serve(h, "GET", "/", good)
			if n := f.store.calls() - before; n != 0 {
				t.Fatalf("%d store calls for a request that never used its session", n)
			}
			if sc := setCookies(w); len(sc) != 0 {
				t.Fatalf("Set-Cookie %q", sc)
			}
		})
	}
}

func TestUntouchedNewSession(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"ignored":     func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") },
		"read":        readCount,
		"id asked":    func(w http.ResponseWriter, r *http.Request) { Get(r).ID() },
		"put, delete": func(w http.ResponseWriter, r *http.Request) { s := Get(r); s.Put("a", 1); s.Delete("a") },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.serve(h, "GET", "/")
			if sc := setCookies(w); len(sc) != 0 && name != "put, delete" {
				t.Fatalf("Set-Cookie %q for an untouched new session", sc)
			}
			if name == "put, delete" {
				return // modified, then reverted: saving it is allowed
			}
			if n := f.store.calls(); n != 0 {
				t.Fatalf("%d store calls for an untouched new session", n)
			}
			if w.Header().Get("Cache-Control") != "" {
				t.Fatalf("Cache-Control %q on a response without a cookie", w.Header().Get("Cache-Control"))
			}
		})
	}
}

// jarClient returns a client for srv that keeps cookies.
func jarClient(t *testing.T, srv *httptest.Server) *http.Client {
	t.Helper()
	c := srv.Client()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	return c
}

func TestLoginCounterRenewLogout(t *testing.T) {
	f := newFixture(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		if err := s.Renew(); err != nil {
			t.Error(err)
		}
		s.SetUser(r.FormValue("u"))
	})
	mux.HandleFunc("/inc", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		n, err := session.GetOr(s, "n", 0)
		if err != nil {
			http.Error(w, "store", 503)
			return
		}
		s.Put("n", n+1)
		fmt.Fprint(w, n+1)
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		u, _ := s.User()
		n, _ := session.GetOr(s, "n", 0)
		id, _ := s.ID()
		fmt.Fprintf(w, "%s %d %s", u, n, id)
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) { Get(r).Renew() })
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { Get(r).Destroy() })
	srv := httptest.NewServer(f.mw.Handler(mux))
	defer srv.Close()
	c := jarClient(t, srv)

	get := func(path string) (string, *http.Response) {
		t.Helper()
		res, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), res
	}
	me := func() (user string, n int, id string) {
		t.Helper()
		body, _ := get("/me")
		fmt.Sscanf(body, "%s %d %s", &user, &n, &id)
		if strings.HasPrefix(body, " ") { // no user
			user = ""
			fmt.Sscanf(body, " %d %s", &n, &id)
		}
		return
	}

	get("/inc")
	get("/inc")
	if _, n, _ := me(); n != 2 {
		t.Fatalf("counter %d before login, want 2", n)
	}
	_, _, anonID := me()

	if _, res := get("/login?u=alice"); len(res.Header.Values("Set-Cookie")) != 1 {
		t.Fatalf("login: Set-Cookie %q", res.Header.Values("Set-Cookie"))
	}
	user, n, loginID := me()
	if user != "alice" || n != 2 {
		t.Fatalf("after login: user %q, counter %d; want alice, 2", user, n)
	}
	if loginID == anonID || f.stored(t, anonID) {
		t.Fatalf("login kept the pre-login ID (stored: %v)", f.stored(t, anonID))
	}

	get("/inc")
	get("/renew")
	user, n, renewID := me()
	if user != "alice" || n != 3 || renewID == loginID || f.stored(t, loginID) {
		t.Fatalf("after renew: user %q, counter %d, new ID %v, old stored %v", user, n, renewID != loginID, f.stored(t, loginID))
	}

	body, res := get("/logout")
	sc := res.Header.Values("Set-Cookie")
	if len(sc) != 1 || !strings.Contains(sc[0], "Max-Age=0") || body != "" {
		t.Fatalf("logout: Set-Cookie %q, want one clearing cookie", sc)
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Vary") != "Cookie" {
		t.Fatalf("logout: Cache-Control %q, Vary %q", res.Header.Get("Cache-Control"), res.Header.Get("Vary"))
	}
	if f.stored(t, renewID) {
		t.Fatal("logout left the session in the store")
	}
	if user, n, _ := me(); user != "" || n != 0 {
		t.Fatalf("after logout: user %q, counter %d", user, n)
	}
}

func TestSetCookieHeaders(t *testing.T) {
	tests := []struct {
		name   string
		cookie session.CookieOptions
		mw     Config
		tls    bool
		proto  string
		attrs  string // after the Expires attribute
		// secure is the record's "secure": express-session's secure:
		// 'auto' stores the request's scheme, as AutoSecure does.
		secure bool
	}{
		{name: "defaults", attrs: "; HttpOnly; SameSite=Lax"},
		{name: "secure", cookie: session.CookieOptions{Secure: true}, attrs: "; Secure; HttpOnly; SameSite=Lax", secure: true},
		{name: "https without auto secure", tls: true, proto: "https", mw: Config{TrustProxy: true}, attrs: "; HttpOnly; SameSite=Lax"},
		{name: "auto secure over tls", mw: Config{AutoSecure: true}, tls: true, attrs: "; Secure; HttpOnly; SameSite=Lax", secure: true},
		{name: "auto secure over http", mw: Config{AutoSecure: true}, attrs: "; HttpOnly; SameSite=Lax"},
		{name: "auto secure, untrusted proxy", mw: Config{AutoSecure: true}, proto: "https", attrs: "; HttpOnly; SameSite=Lax"},
		{name: "auto secure, trusted proxy", mw: Config{AutoSecure: true, TrustProxy: true}, proto: "HTTPS, http", attrs: "; Secure; HttpOnly; SameSite=Lax", secure: true},
		{name: "auto secure, trusted proxy says http", mw: Config{AutoSecure: true, TrustProxy: true}, proto: "http", attrs: "; HttpOnly; SameSite=Lax"},
		{name: "host prefix, none, partitioned, priority",
			cookie: session.CookieOptions{Name: "__Host-sid", Secure: true, SameSite: session.SameSiteNone, Partitioned: true, Priority: session.PriorityHigh},
			attrs:  "; Secure; HttpOnly; SameSite=None; Partitioned; Priority=High", secure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(sc *session.Config, mc *Config) {
				sc.Cookie = tt.cookie
				mc.AutoSecure, mc.TrustProxy = tt.mw.AutoSecure, tt.mw.TrustProxy
			})
			r := httptest.NewRequest("GET", "/", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			w := httptest.NewRecorder()
			f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Get(r).Put("k", "v")
				w.Header().Set("Vary", "Accept-Encoding")
				w.Header().Set("Cache-Control", "public, max-age=60")
				io.WriteString(w, "ok")
			})).ServeHTTP(w, r)
			sc := setCookies(w)
			if len(sc) != 1 {
				t.Fatalf("Set-Cookie %q, want one", sc)
			}
			id := cookieID(t, sc[0])
			data, exp, found, _ := f.store.Store.Load(context.Background(), id)
			if !found {
				t.Fatal("session not saved")
			}
			if want := fmt.Sprintf(`"secure":%v`, tt.secure); !strings.Contains(string(data), want) {
				t.Fatalf("stored %s; want %s", data, want)
			}
			name := f.mgr.Config().Cookie.Name
			want := name + "=" + Sign(id, testSecret) + "; Path=/; Expires=" + exp.UTC().Format(http.TimeFormat) + tt.attrs
			if sc[0] != want {
				t.Fatalf("Set-Cookie\n got %s\nwant %s", sc[0], want)
			}
			if got := w.Header().Values("Vary"); len(got) != 2 || got[0] != "Accept-Encoding" || got[1] != "Cookie" {
				t.Fatalf("Vary %q, want the handler's value and Cookie", got)
			}
			if got := w.Header().Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
				t.Fatalf("Cache-Control %q, want no-store", got)
			}
		})
	}
}

func TestCacheHeaderRules(t *testing.T) {
	tests := []struct {
		vary, cc         []string
		wantVary, wantCC []string
	}{
		{nil, nil, []string{"Cookie"}, []string{"no-store"}},
		{[]string{"cookie"}, []string{"private, no-store"}, []string{"cookie"}, []string{"private, no-store"}},
		{[]string{"*"}, []string{"no-cache", "No-Store"}, []string{"*"}, []string{"no-cache", "No-Store"}},
		{[]string{"Accept, Origin"}, []string{"max-age=60"}, []string{"Accept, Origin", "Cookie"}, []string{"no-store"}},
		{[]string{"X-Cookie"}, []string{"no-storex"}, []string{"X-Cookie", "Cookie"}, []string{"no-store"}},
	}
	for _, tt := range tests {
		h := http.Header{"Vary": tt.vary, "Cache-Control": tt.cc}
		addVary(h, []string{"Cookie"})
		noStore(h)
		if fmt.Sprint(h["Vary"]) != fmt.Sprint(tt.wantVary) || fmt.Sprint(h["Cache-Control"]) != fmt.Sprint(tt.wantCC) {
			t.Errorf("Vary %q, Cache-Control %q: got %q, %q; want %q, %q", tt.vary, tt.cc, h["Vary"], h["Cache-Control"], tt.wantVary, tt.wantCC)
		}
	}
}

// TestConfigRefusals checks what New itself refuses; session.New checks the
// cookie options (see its tests), so a Manager never carries bad ones.
func TestConfigRefusals(t *testing.T) {
	mgrWith := func(o session.CookieOptions) *session.Manager {
		t.Helper()
		m, err := session.New(session.Config{Store: &countingStore{}, Codec: nopCodec{}, Cookie: o})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ok := mgrWith(session.CookieOptions{})
	tests := []struct {
		name string
		cfg  Config
		want string // in the error; empty: accepted
	}{
		{"valid", Config{Manager: ok, Secrets: []string{testSecret}}, ""},
		{"valid, rotation", Config{Manager: ok, Secrets: []string{testSecret, testSecret + "x"}}, ""},
		{"no manager", Config{Secrets: []string{testSecret}}, "Manager"},
		{"no secret", Config{Manager: ok}, "Secrets is empty"},
		{"empty secret", Config{Manager: ok, Secrets: []string{""}}, "Secrets[0] is 0 bytes"},
		{"short secret", Config{Manager: ok, Secrets: []string{"keyboard cat"}}, "Secrets[0] is 12 bytes"},
		{"short second secret, verify only", Config{Manager: ok, Secrets: []string{testSecret, "keyboard cat"}}, ""},
		{"short first, long second", Config{Manager: ok, Secrets: []string{"keyboard cat", testSecret}}, "Secrets[0] is 12 bytes"},
		{"empty second secret", Config{Manager: ok, Secrets: []string{testSecret, ""}}, "Secrets[1] is empty"},
		{"samesite none, secure", Config{Manager: mgrWith(session.CookieOptions{SameSite: session.SameSiteNone, Secure: true}), Secrets: []string{testSecret}}, ""},
		{"__Secure-, secure", Config{Manager: mgrWith(session.CookieOptions{Name: "__Secure-sid", Secure: true, Domain: "example.com"}), Secrets: []string{testSecret}}, ""},
		{"__Host-, secure, root", Config{Manager: mgrWith(session.CookieOptions{Name: "__Host-sid", Secure: true}), Secrets: []string{testSecret}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if tt.want == "" {
				if err != nil || m == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v, want one containing %q", err, tt.want)
			}
			for _, s := range tt.cfg.Secrets {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Fatalf("error %q reveals a secret", err)
				}
			}
		})
	}
}

// nopCodec is enough for a Manager that is never used.
type nopCodec struct{}

func (nopCodec) Name() string                          { return "nop" }
func (nopCodec) Encode(*session.State) ([]byte, error) { return nil, nil }
func (nopCodec) Decode([]byte, *session.State) error   { return nil }

// opError is a network failure as a driver reports it.
var opError = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}

func TestStoreFailureGoesToErrorHandler(t *testing.T) {
	tests := []struct {
		name     string
		op       session.Op
		err      error
		cookie   bool
		wantCode int
	}{
		{"save, network", session.OpSave, opError, false, 503},
		{"save, deadline", session.OpSave, fmt.Errorf("wrapped: %w", context.DeadlineExceeded), false, 503},
		{"save, closed", session.OpSave, session.ErrClosed, false, 503},
		{"save, other", session.OpSave, errors.New("disk full"), false, 500},
		{"touch, network", session.OpTouch, opError, true, 503},
		{"renew, delete fails", session.OpDelete, errors.New("boom"), true, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			var cookies []string
			if tt.cookie {
				cookies = append(cookies, f.seed(t, "victim-session-id", map[string]any{"secret": "s3cr3t-data"}))
				if tt.op == session.OpTouch {
					// An expiry far enough behind that reading it touches.
					exp := time.Now().Add(time.Hour)
					f.store.Store.Touch(context.Background(), "victim-session-id", exp)
				}
			}
			f.store.setFail(tt.op, tt.err)
			var writeErr error
			w := f.serve(func(w http.ResponseWriter, r *http.Request) {
				s := Get(r)
				if _, err := session.Get[string](s, "secret"); err != nil && tt.cookie {
					t.Errorf("reading the seeded session: %v", err)
				}
				if tt.op != session.OpTouch {
					s.Put("secret", "s3cr3t-data")
				}
				if tt.op == session.OpDelete {
					s.Renew()
				}
				w.Header().Set("X-Handler", "yes")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(201)
				_, writeErr = io.WriteString(w, `{"secret":"handler body"}`)
			}, "POST", "/", cookies...)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tt.wantCode)
			}
			body := w.Body.String()
			if want := http.StatusText(tt.wantCode) + "\n"; body != want {
				t.Fatalf("body %q, want %q", body, want)
			}
			for _, leak := range []string{"s3cr3t", "handler body", "victim"} {
				if strings.Contains(body, leak) || strings.Contains(f.logs.String(), leak) {
					t.Fatalf("%q leaked into the body or logs", leak)
				}
			}
			if w.Header().Get("X-Handler") != "" || w.Header().Get("Set-Cookie") != "" {
				t.Fatalf("handler headers survived: %v", w.Header())
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			if !errors.Is(writeErr, ErrDiscarded) {
				t.Fatalf("handler's Write returned %v, want ErrDiscarded", writeErr)
			}
		})
	}
}

func TestCustomErrorHandler(t *testing.T) {
	var got error
	f := newFixture(t, func(_ *session.Config, mc *Config) {
		mc.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			if Get(r) == nil {
				t.Error("Get(r) is nil in the error handler")
			}
			http.Error(w, "custom", 418)
		}
	})
	f.store.setFail(session.OpSave, opError)
	w := f.serve(func(w http.ResponseWriter, r *http.Request) { Get(r).Put("a", 1) }, "GET", "/")
	if w.Code != 418 || w.Body.String() != "custom\n" {
		t.Fatalf("got %d %q from the custom handler", w.Code, w.Body.String())
	}
	if !errors.As(got, new(*net.OpError)) {
		t.Fatalf("error handler got %v, want the store's error", got)
	}
}

func TestLateChange(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name string
		h    func(w http.ResponseWriter, r *http.Request) error
	}{
		{"put after write", func(w http.ResponseWriter, r *http.Request) error {
			s := Get(r)
			s.Put("early", 1)
			io.WriteString(w, "body")
			return s.Put("late", 1)
		}},
		{"first use after write", func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(204)
			return Get(r).Put("late", 1)
		}},
		{"renew after flush", func(w http.ResponseWriter, r *http.Request) error {
			http.NewResponseController(w).Flush()
			return Get(r).Renew()
		}},
		{"destroy after ReadFrom", func(w http.ResponseWriter, r *http.Request) error {
			io.Copy(w, strings.NewReader("streamed"))
			return Get(r).Destroy()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.store.saves.Load()
			var err error
			w := f.serve(func(w http.ResponseWriter, r *http.Request) { err = tt.h(w, r) }, "GET", "/")
			if !errors.Is(err, session.ErrCommitted) {
				t.Fatalf("late change returned %v, want ErrCommitted", err)
			}
			if !strings.Contains(f.logs.String(), "after the response was committed") {
				t.Fatalf("late change not logged; logs:\n%s", f.logs)
			}
			saved := f.store.saves.Load() - before
			if tt.name == "put after write" {
				if saved != 1 || len(setCookies(w)) != 1 {
					t.Fatalf("early change: %d saves, Set-Cookie %q", saved, setCookies(w))
				}
				id := cookieID(t, setCookies(w)[0])
				s := f.mgr.Open(context.Background(), id)
				if has, _ := s.Has("late"); has {
					t.Fatal("late change was saved")
				}
			} else if saved != 0 {
				t.Fatalf("%d saves", saved)
			}
		})
	}
}

func TestLateChangeAfterHandlerReturns(t *testing.T) {
	f := newFixture(t, nil)
	done := make(chan error)
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := Get(r)
		go func() { time.Sleep(10 * time.Millisecond); done <- s.Put("late", 1) }()
	}, "GET", "/")
	if err := <-done; !errors.Is(err, session.ErrCommitted) {
		t.Fatalf("change from a goroutine after the handler returned: %v, want ErrCommitted", err)
	}
	if f.store.saves.Load() != 0 {
		t.Fatal("late change saved")
	}
}

func TestInformationalHeaderDoesNotCommit(t *testing.T) {
	f := newFixture(t, nil)
	var err error
	srv := httptest.NewServer(f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		err = Get(r).Put("after hints", 1)
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	res, gerr := srv.Client().Get(srv.URL)
	if gerr != nil {
		t.Fatal(gerr)
	}
	res.Body.Close()
	if err != nil {
		t.Fatalf("Put after 103: %v", err)
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 1 || f.store.saves.Load() != 1 {
		t.Fatalf("Set-Cookie %q, %d saves; want the change after 103 saved", sc, f.store.saves.Load())
	}
}

func TestGetOutsideMiddleware(t *testing.T) {
	if s := Get(httptest.NewRequest("GET", "/", nil)); s != nil {
		t.Fatalf("Get outside the middleware = %v, want nil", s)
	}
}

func TestGetReturnsSameSession(t *testing.T) {
	f := newFixture(t, nil)
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		ch := make(chan *session.Session, 8)
		for range 8 {
			go func() { ch <- Get(r) }()
		}
		first := <-ch
		for range 7 {
			if <-ch != first {
				t.Error("Get returned different sessions for one request")
			}
		}
	}, "GET", "/")
}

func TestPanicDoesNotCommit(t *testing.T) {
	f := newFixture(t, nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the handler's panic was swallowed")
			}
		}()
		f.serve(func(w http.ResponseWriter, r *http.Request) {
			Get(r).Put("half-done", 1)
			panic(http.ErrAbortHandler)
		}, "GET", "/")
	}()
	if n := f.store.calls(); n != 0 {
		t.Fatalf("%d store calls after a panicking handler, want 0", n)
	}
}

func TestRequestContext(t *testing.T) {
	f := newFixture(t, nil)
	type outerKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), outerKey{}, "outer"))
	r := httptest.NewRequest("GET", "/", nil).WithContext(parent)
	f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if ctx.Value(outerKey{}) != "outer" {
			t.Error("a value of the outer context is lost")
		}
		if Get(r) == nil || Get(r.WithContext(context.WithValue(ctx, outerKey{}, "x"))) != Get(r) {
			t.Error("Get through a derived context does not find the session")
		}
		child, stop := context.WithCancel(ctx)
		defer stop()
		cancel()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Error("cancelling the request's context does not reach a derived one")
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("request context error %v", ctx.Err())
		}
	})).ServeHTTP(httptest.NewRecorder(), r)
}
