package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/stores"
)

const testSecret = "0123456789abcdef0123456789abcdef-example"

// env is a test's environment for run.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// syncBuffer collects the server's log; the server writes from its
// goroutines while the test may read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is one run of the example server inside the test process.
type server struct {
	Base string
	Log  *syncBuffer
	stop func() error
}

// Stop shuts the server down gracefully and returns run's error.
func (s *server) Stop() error { return s.stop() }

// start runs the server with args and e until Stop or the end of the test.
func start(t *testing.T, e env, args ...string) *server {
	t.Helper()
	log := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, args, e.get, log, func(a string) { addrc <- a }) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("server: %v\n%s", err, log)
		}
	})
	select {
	case a := <-addrc:
		return &server{Base: "http://" + a, Log: log, stop: stop}
	case err := <-done:
		once.Do(func() { runErr = nil })
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, log)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start in 30s\n%s", log)
	}
	return nil
}

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) do(method, path string, form url.Values) string {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("%s %s: %s: %s", method, path, resp.Status, page)
	}
	return string(page)
}

func (b *browser) cookieNamed(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) cookie() string { return b.cookieNamed("session") }

func wantIn(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Fatalf("page lacks %q:\n%s", w, page)
		}
	}
}

func TestExampleFlow(t *testing.T) {
	base := start(t, env{"SESSION_SECRET": testSecret, "SESSION_STORE": "memory://"}).Base
	a := newBrowser(t, base)
	wantIn(t, a.do("GET", "/", nil), `id="login-btn"`, `<b id="backend">memory</b>`)
	if a.cookie() != "" {
		t.Error("an anonymous visit got a session cookie")
	}
	wantIn(t, a.do("POST", "/login", url.Values{"user": {"ana"}}), `<b id="user">ana</b>`, `<b id="count">0</b>`, "Welcome, ana.")
	a.do("POST", "/count", url.Values{})
	wantIn(t, a.do("POST", "/count", url.Values{}), `<b id="count">2</b>`)

	before := a.cookie()
	wantIn(t, a.do("POST", "/renew", url.Values{}), `<b id="count">2</b>`, "new ID")
	if after := a.cookie(); after == before || after == "" {
		t.Error("renew did not change the session cookie")
	}

	b := newBrowser(t, base)
	b.do("POST", "/login", url.Values{"user": {"ana"}})
	page := a.do("GET", "/", nil)
	if n := strings.Count(page, "<li>"); n != 2 {
		t.Fatalf("ana's session list shows %d sessions, want 2:\n%s", n, page)
	}
	wantIn(t, a.do("POST", "/revoke-others", url.Values{}), "Signed out 1 other session(s).")
	wantIn(t, b.do("GET", "/", nil), `id="login-btn"`)

	wantIn(t, a.do("POST", "/logout", url.Values{}), "Signed out.", `id="login-btn"`)
}

func TestSecretRequired(t *testing.T) {
	for name, e := range map[string]env{
		"unset": {"SESSION_STORE": "memory://"},
		"short": {"SESSION_STORE": "memory://", "SESSION_SECRET": "too-short"},
	} {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, e.get, &log, func(string) { t.Error("the server started") })
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(log.String(), "SESSION_SECRET") {
				t.Fatalf("run = %v, log %q; want a usage error naming SESSION_SECRET", err, log.String())
			}
		})
	}
}

func TestDevSecretIsRandom(t *testing.T) {
	var secrets []string
	for range 2 {
		var log bytes.Buffer
		c, err := parseConfig([]string{"-dev"}, env{}.get, slog.New(slog.NewTextHandler(&log, nil)), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Secrets) != 1 || len(c.Secrets[0]) < middleware.MinSecretLen {
			t.Fatalf("dev secrets %d long", len(c.Secrets))
		}
		if !strings.Contains(log.String(), "random secret") || strings.Contains(log.String(), c.Secrets[0]) {
			t.Errorf("dev mode log %q must say the secret is random and not show it", log.String())
		}
		secrets = append(secrets, c.Secrets[0])
	}
	if secrets[0] == secrets[1] {
		t.Error("two dev runs used the same secret")
	}
	c, err := parseConfig([]string{"-dev"}, env{"SESSION_SECRET": testSecret}.get, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil || c.Secrets[0] != testSecret {
		t.Errorf("dev mode ignored SESSION_SECRET: %v", err)
	}
}

func TestStoreSelection(t *testing.T) {
	for _, tc := range []struct {
		env  env
		want string
	}{
		{env{}, defaultStore},
		{env{"DATABASE_URL": "redis://h/0"}, "redis://h/0"},
		{env{"DATABASE_URL": "redis://h/0", "SESSION_STORE": "memory://"}, "memory://"},
		{env{"DATABASE_URL": "postgres://h/db"}, "postgres://h/db?create_table=true"},
		{env{"SESSION_STORE": "postgres://h/db?sslmode=disable"}, "postgres://h/db?sslmode=disable&create_table=true"},
		{env{"SESSION_STORE": "postgres://h/db?create_table=false"}, "postgres://h/db?create_table=false"},
		{env{"SESSION_STORE": "mysql://u@h:3306/db?table=s"}, "mysql://u@h:3306/db?table=s&create_table=true"},
	} {
		tc.env["SESSION_SECRET"] = testSecret
		c, err := parseConfig(nil, tc.env.get, slog.New(slog.DiscardHandler), io.Discard)
		if err != nil || c.StoreURL != tc.want {
			t.Errorf("%v: store %q, %v; want %q", tc.env, c.StoreURL, err, tc.want)
		}
	}
}

// TestDefaultBbolt runs with only SESSION_SECRET set, as the README's first
// command does: the sessions go to sessions.db in the working directory.
func TestDefaultBbolt(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := start(t, env{"SESSION_SECRET": testSecret})
	b := newBrowser(t, s.Base)
	wantIn(t, b.do("POST", "/login", url.Values{"user": {"bo"}}), `<b id="backend">bbolt</b>`, `<b id="user">bo</b>`)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sessions.db")); err != nil {
		t.Fatalf("no sessions.db in the working directory: %v", err)
	}
}

// TestExpressMode checks the cookie and the stored document a Node app on
// the same store would read.
func TestExpressMode(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	e := env{"SESSION_SECRET": testSecret, "SESSION_STORE": "bbolt://" + db}
	s := start(t, e, "-express")
	b := newBrowser(t, s.Base)
	b.do("POST", "/login", url.Values{"user": {"cy"}})
	if b.cookie() != "" {
		t.Error("express mode set a cookie named session")
	}
	id, ok := middleware.Verify(b.cookieNamed(express.CookieName), []string{testSecret})
	if !ok {
		t.Fatalf("no valid connect.sid cookie: %q", b.cookieNamed(express.CookieName))
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	st, err := stores.Open(context.Background(), e["SESSION_STORE"])
	if err != nil {
		t.Fatal(err)
	}
	data, _, found, err := st.Load(context.Background(), id)
	st.(io.Closer).Close()
	if err != nil || !found {
		t.Fatalf("the session is not in the store: %v", err)
	}
	for _, w := range []string{`"cookie":{`, `"user_id":"cy"`} {
		if !bytes.Contains(data, []byte(w)) {
			t.Errorf("stored document lacks %s: %s", w, data)
		}
	}

	e["SESSION_EXPRESS"] = "true"
	b = newBrowser(t, start(t, e).Base)
	b.do("POST", "/login", url.Values{"user": {"cy"}})
	if b.cookieNamed(express.CookieName) == "" {
		t.Error("SESSION_EXPRESS=true did not select express mode")
	}
}

func TestMetricsAndHealth(t *testing.T) {
	s := start(t, env{"SESSION_SECRET": testSecret, "SESSION_STORE": "memory://"})
	b := newBrowser(t, s.Base)
	b.do("POST", "/login", url.Values{"user": {"di"}})
	wantIn(t, b.do("GET", "/healthz", nil), "ok")
	m := b.do("GET", "/metrics", nil)
	wantIn(t, m, `sessionkit_store_calls_total{backend="memory",op="save",result="ok"} 2`,
		`sessionkit_session_events_total{backend="memory",event="created"} 1`,
		`sessionkit_sessions_live{backend="memory"} 1`)
	if b.cookie() == "" {
		t.Error("login lost its cookie")
	}
}

func TestStorePasswordNotLogged(t *testing.T) {
	var log bytes.Buffer
	e := env{"SESSION_SECRET": testSecret, "SESSION_STORE": "redis://app:Pa55-S3CRET@127.0.0.1:1/0?dial_timeout=500ms"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, nil, e.get, &log, nil); err == nil {
		t.Fatal("run succeeded on an unreachable store")
	}
	if strings.Contains(log.String(), "S3CRET") || !strings.Contains(log.String(), "app:xxxxx@") {
		t.Errorf("log shows the password or not the redacted URL: %s", log.String())
	}
}
