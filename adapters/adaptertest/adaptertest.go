// Package adaptertest checks a session adapter for a web framework: that
// handlers reach the session through it and that it commits the session as
// the net/http middleware does. Each adapter's test calls Run with a
// Harness that mounts the suite's routes on the framework.
//
// It lives in the library's module and imports no framework, so the
// adapters, each in a module of its own, share it without the library
// depending on any of them.
package adaptertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/boltstore"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// Reply is what a route asks the framework to answer, through the
// framework's own response API.
type Reply struct {
	// Status and Body are the response to write (as text).
	Status int
	Body   string
	// Err asks for the framework's error path instead: the handler returns
	// (or records) an error that the framework turns into a response with
	// Status, such as echo.NewHTTPError(Status) or fiber.NewError(Status).
	Err bool
	// Panic asks the handler to panic; the framework's recovery, installed
	// outside the adapter, answers 500.
	Panic bool
	// After, when set, is called once the framework has been asked to
	// write Body.
	After func()
}

// Route is one handler of the suite.
type Route struct {
	Method, Path string
	// Handle does the route's session work on the session the adapter
	// gave the handler, and says what to answer.
	Handle func(s *session.Session) Reply
}

// Harness mounts the suite on a framework.
type Harness struct {
	// Start serves routes on the framework, with the adapter for mw in
	// front of them, at a loopback address, and returns its base URL
	// ("http://127.0.0.1:port"). Each handler gets the session through the
	// adapter's accessor and passes it to Route.Handle. The server must
	// stop when the test ends (t.Cleanup).
	Start func(t *testing.T, mw *middleware.Middleware, routes []Route) string

	// Buffered says the framework holds the whole response until the
	// handler returns (fasthttp does), so the adapter commits then: a
	// change made after the body was written is still saved. Otherwise it
	// must fail with session.ErrCommitted.
	Buffered bool
}

// failStore counts and can fail the calls to the store it wraps.
type failStore struct {
	session.Store
	mu       sync.Mutex
	failSave bool
	calls    int
}

func (f *failStore) count() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.failSave
}

func (f *failStore) Load(ctx context.Context, id string) ([]byte, time.Time, bool, error) {
	f.count()
	return f.Store.Load(ctx, id)
}

func (f *failStore) Save(ctx context.Context, id string, data []byte, exp time.Time) error {
	if f.count() {
		return context.DeadlineExceeded
	}
	return f.Store.Save(ctx, id, data, exp)
}

func (f *failStore) Touch(ctx context.Context, id string, exp time.Time) error {
	f.count()
	return f.Store.Touch(ctx, id, exp)
}

func (f *failStore) Delete(ctx context.Context, id string) error {
	f.count()
	return f.Store.Delete(ctx, id)
}

func (f *failStore) set(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failSave = fail
}

func (f *failStore) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Secret signs the suite's cookies.
const Secret = "adaptertest-secret-0123456789abcdef"

// storeDown is the body the suite's ErrorHandler answers with.
const storeDown = "session store down"

// Run runs the suite against the memory and bbolt stores, once with the
// session in a cookie and once in the X-Session-Token header
// (middleware.Config.HeaderOnly): login, read, renew, logout; commit before
// the body; the middleware's ErrorHandler when the store fails; the
// framework's own error path; a panic; and a request that never touches its
// session.
func Run(t *testing.T, h Harness) {
	backends := map[string]func(t *testing.T) session.Store{
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
	for name, open := range backends {
		for _, token := range []bool{false, true} {
			mode := "cookie"
			if token {
				mode = "token-header"
			}
			t.Run(name+"/"+mode, func(t *testing.T) { run(t, h, open(t), token) })
		}
	}
}

// tokenHeader carries the session in the suite's header-only runs.
const tokenHeader = "X-Session-Token"

func run(t *testing.T, h Harness, store session.Store, token bool) {
	fs := &failStore{Store: store}
	mgr, err := session.New(session.Config{Store: fs, Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := middleware.Config{
		Manager: mgr,
		Secrets: []string{Secret},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, storeDown)
		},
	}
	vary := "Cookie"
	if token {
		cfg.TokenHeader, cfg.HeaderOnly = tokenHeader, true
		vary = tokenHeader
	}
	mw, err := middleware.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var lateMu sync.Mutex
	var lateErr error
	ok := func(body string) Reply { return Reply{Status: http.StatusOK, Body: body} }
	try := func(err error, body string) Reply {
		if err != nil {
			return Reply{Status: http.StatusInternalServerError, Body: err.Error()}
		}
		return ok(body)
	}
	routes := []Route{
		{"POST", "/login", func(s *session.Session) Reply {
			err := s.Renew()
			if err == nil {
				err = s.SetUser("alice")
			}
			return try(err, "hello alice")
		}},
		{"GET", "/read", func(s *session.Session) Reply {
			u, err := s.User()
			keys, _ := s.Keys()
			return try(err, "user="+u+" keys="+strings.Join(keys, ","))
		}},
		{"POST", "/renew", func(s *session.Session) Reply { return try(s.Renew(), "renewed") }},
		{"POST", "/logout", func(s *session.Session) Reply { return try(s.Destroy(), "bye") }},
		{"POST", "/late", func(s *session.Session) Reply {
			r := try(s.Put("early", 1), "body")
			r.After = func() {
				lateMu.Lock()
				defer lateMu.Unlock()
				lateErr = s.Put("late", 1)
			}
			return r
		}},
		{"POST", "/fail", func(s *session.Session) Reply { return try(s.Put("x", 1), "the handler's body") }},
		{"POST", "/error", func(s *session.Session) Reply {
			if err := s.Put("before_error", 1); err != nil {
				return try(err, "")
			}
			return Reply{Status: http.StatusTeapot, Err: true}
		}},
		{"POST", "/panic", func(s *session.Session) Reply {
			if err := s.Put("before_panic", 1); err != nil {
				return try(err, "")
			}
			return Reply{Panic: true}
		}},
		{"GET", "/untouched", func(s *session.Session) Reply { return ok("ok") }},
	}
	base := h.Start(t, mw, routes)
	c := &client{t: t, base: base, token: token}

	// Login, read, renew, logout.
	res := c.do("POST", "/login", "")
	login := res.cookie
	if res.status != 200 || res.body != "hello alice" || login == "" {
		t.Fatalf("login: %d %q, cookie %q", res.status, res.body, login)
	}
	if !strings.Contains(res.header.Get("Vary"), vary) || res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("login: Vary %q, Cache-Control %q", res.header.Get("Vary"), res.header.Get("Cache-Control"))
	}
	if res = c.do("GET", "/read", login); res.body != "user=alice keys=user_id" || res.cookie != "" {
		t.Errorf("read: %q, Set-Cookie %q", res.body, res.cookie)
	}
	res = c.do("POST", "/renew", login)
	renewed := res.cookie
	if renewed == "" || renewed == login {
		t.Fatalf("renew: cookie %q (login's %q)", renewed, login)
	}
	if res = c.do("GET", "/read", login); res.body != "user= keys=" {
		t.Errorf("login's cookie after renew: %q, want a new session", res.body)
	}
	if res = c.do("GET", "/read", renewed); res.body != "user=alice keys=user_id" {
		t.Errorf("read after renew: %q", res.body)
	}
	res = c.do("POST", "/logout", renewed)
	if !res.cleared {
		t.Errorf("logout did not clear the cookie: Set-Cookie %q", res.header.Values("Set-Cookie"))
	}
	if res = c.do("GET", "/read", renewed); res.body != "user= keys=" {
		t.Errorf("cookie after logout: %q, want a new session", res.body)
	}

	// Commit before the body.
	res = c.do("POST", "/late", "")
	if res.status != 200 || res.body != "body" || res.cookie == "" {
		t.Fatalf("late: %d %q, cookie %q", res.status, res.body, res.cookie)
	}
	lateMu.Lock()
	gotLate := lateErr
	lateMu.Unlock()
	keys := c.do("GET", "/read", res.cookie).body
	switch {
	case h.Buffered && (gotLate != nil || keys != "user= keys=early,late"):
		t.Errorf("buffered framework: change after the body: %v, stored %q; want it saved", gotLate, keys)
	case !h.Buffered && (!errors.Is(gotLate, session.ErrCommitted) || keys != "user= keys=early"):
		t.Errorf("change after the body: %v, stored %q; want session.ErrCommitted and only the earlier change", gotLate, keys)
	}

	// The middleware's ErrorHandler answers when the commit fails.
	fs.set(true)
	res = c.do("POST", "/fail", "")
	fs.set(false)
	if res.status != http.StatusServiceUnavailable || res.body != storeDown || res.cookie != "" {
		t.Errorf("store failing: %d %q, cookie %q; want 503 %q from the ErrorHandler, no cookie", res.status, res.body, res.cookie, storeDown)
	}

	// The framework's error path: its status, and the session committed.
	res = c.do("POST", "/error", "")
	if res.status != http.StatusTeapot || res.cookie == "" {
		t.Errorf("error path: %d, cookie %q; want 418 and the session cookie", res.status, res.cookie)
	} else if keys := c.do("GET", "/read", res.cookie).body; keys != "user= keys=before_error" {
		t.Errorf("error path: stored %q", keys)
	}

	// A panic commits nothing.
	before := fs.n()
	res = c.do("POST", "/panic", "")
	if res.status != http.StatusInternalServerError || res.cookie != "" || fs.n() != before {
		t.Errorf("panic: %d, cookie %q, %d store calls; want 500, no cookie, none", res.status, res.cookie, fs.n()-before)
	}

	// A request that does not use its session costs nothing.
	before = fs.n()
	res = c.do("GET", "/untouched", renewed)
	if res.status != 200 || res.cookie != "" || res.cleared || fs.n() != before {
		t.Errorf("untouched: %d, Set-Cookie %q, %d store calls", res.status, res.header.Values("Set-Cookie"), fs.n()-before)
	}
}

// client is an HTTP client with no cookie jar: the suite carries the
// cookie, or the token, itself.
type client struct {
	t     *testing.T
	base  string
	token bool // the session travels in tokenHeader, not a cookie
}

type result struct {
	status int
	body   string
	header http.Header
	// cookie is what names the session in the next request: "session=…"
	// or, in token mode, the token; empty when none was set.
	cookie  string
	cleared bool // the session cookie was expired, or the token declared dead
}

func (c *client) do(method, path, cookie string) result {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	switch {
	case cookie == "":
	case c.token:
		req.Header.Set(tokenHeader, cookie)
	default:
		req.Header.Set("Cookie", cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := result{status: res.StatusCode, body: string(b), header: res.Header}
	if c.token {
		if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
			c.t.Errorf("%s %s: Set-Cookie %q in header-only mode", method, path, sc)
		}
		if v, ok := res.Header[tokenHeader]; ok {
			r.cookie = v[0]
			r.cleared = v[0] == ""
		}
		return r
	}
	for _, ck := range res.Cookies() {
		if ck.Name != "session" {
			continue
		}
		if ck.MaxAge < 0 || ck.Value == "" {
			r.cleared = true
			continue
		}
		r.cookie = ck.Name + "=" + ck.Value
	}
	return r
}
