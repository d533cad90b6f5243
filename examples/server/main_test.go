package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
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
	"github.com/sessionkit/sessionkit/internal/pgtest"
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

// TestDevSecretKept runs -dev twice on one bbolt file, as the README's first
// command does: the generated secret is kept beside the file (0600) and
// reused, so a login survives the restart, and the log says which happened
// without showing the secret.
func TestDevSecretKept(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := start(t, env{}, "-dev")
	b := newBrowser(t, s.Base)
	wantIn(t, b.do("POST", "/login", url.Values{"user": {"ana"}}), `<b id="user">ana</b>`)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sessions.db"+devSecretSuffix)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no secret file beside sessions.db: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	secret, _ := os.ReadFile(file)
	if len(strings.TrimSpace(string(secret))) < middleware.MinSecretLen {
		t.Errorf("secret file holds %d bytes", len(secret))
	}
	first := s.Log.String()
	if !strings.Contains(first, "generated a secret") || strings.Contains(first, strings.TrimSpace(string(secret))) {
		t.Errorf("first run's log must say a secret was generated and not show it:\n%s", first)
	}

	s2 := start(t, env{}, "-dev")
	b.base = s2.Base
	wantIn(t, b.do("GET", "/", nil), `<b id="user">ana</b>`)
	if log := s2.Log.String(); !strings.Contains(log, "reusing the secret") || strings.Contains(log, strings.TrimSpace(string(secret))) {
		t.Errorf("second run's log must say the kept secret is reused, without showing it:\n%s", log)
	}
}

// TestDevSecretBadFile: a secret file that is too short is refused with a
// message naming it, never silently replaced (that would log everyone out).
func TestDevSecretBadFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(filepath.Join(dir, "sessions.db"+devSecretSuffix), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	err := run(context.Background(), []string{"-dev", "-addr", "127.0.0.1:0"}, env{}.get, &log, func(string) { t.Error("the server started") })
	if err == nil || !strings.Contains(log.String(), devSecretSuffix) {
		t.Fatalf("run = %v; want an error naming the secret file:\n%s", err, log.String())
	}
}

// TestDevSecretMemory: with a store that keeps nothing across restarts the
// secret is random per run and kept nowhere.
func TestDevSecretMemory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := start(t, env{"SESSION_STORE": "memory://"}, "-dev")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Log.String(), "random secret") {
		t.Errorf("log does not say the secret is random:\n%s", s.Log)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("-dev on memory:// left files: %v", ents)
	}
}

func TestStoreSelection(t *testing.T) {
	for _, tc := range []struct {
		env  env
		want string
	}{
		{env{}, defaultStore + "?on_damage=reset"},
		{env{"SESSION_STORE": "bbolt:///s.db?bucket=b"}, "bbolt:///s.db?bucket=b&on_damage=reset"},
		{env{"SESSION_STORE": "bbolt:///s.db?on_damage=fail"}, "bbolt:///s.db?on_damage=fail"},
		{env{"DATABASE_URL": "redis://h/0"}, "redis://h/0"},
		{env{"DATABASE_URL": "redis://h/0", "SESSION_STORE": "memory://"}, "memory://"},
		// The URL is used as given: create_table stays the operator's choice.
		{env{"DATABASE_URL": "postgres://h/db"}, "postgres://h/db"},
		{env{"SESSION_STORE": "postgres://h/db?sslmode=disable"}, "postgres://h/db?sslmode=disable"},
		{env{"SESSION_STORE": "postgres://h/db?create_table=true"}, "postgres://h/db?create_table=true"},
		{env{"SESSION_STORE": "mysql://u@h:3306/db?table=s"}, "mysql://u@h:3306/db?table=s"},
	} {
		tc.env["SESSION_SECRET"] = testSecret
		c, err := parseConfig(nil, tc.env.get, io.Discard)
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

// TestDamagedDefaultBbolt damages the default file between two runs: the
// server moves it aside (boltstore logs it, tested there) and starts with no
// sessions.
func TestDamagedDefaultBbolt(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := start(t, env{"SESSION_SECRET": testSecret})
	newBrowser(t, s.Base).do("POST", "/login", url.Values{"user": {"bo"}})
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sessions.db")
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	page := int64(os.Getpagesize())
	_, err = f.WriteAt(make([]byte, fi.Size()-2*page), 2*page) // every page but the metas
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	s = start(t, env{"SESSION_SECRET": testSecret})
	b := newBrowser(t, s.Base)
	wantIn(t, b.do("POST", "/login", url.Values{"user": {"cy"}}), `<b id="user">cy</b>`)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(file + ".damaged-*")
	if len(aside) != 1 {
		t.Fatalf("damaged file not moved aside: %v", aside)
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

// TestPostgresMissingTable: the server does not create the table behind the
// operator's back; it stops before listening with a message saying how.
func TestPostgresMissingTable(t *testing.T) {
	pool := pgtest.Pool(t, nil)
	schema := pgtest.Schema(t, pool)
	u, err := url.Parse(pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	var log bytes.Buffer
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0"}, env{"SESSION_SECRET": testSecret, "SESSION_STORE": u.String()}.get, &log,
		func(string) { t.Error("the server started without its table") })
	if err == nil || !strings.Contains(log.String(), "create_table=true") || !strings.Contains(log.String(), "sessionctl schema") {
		t.Fatalf("run = %v; want a failure naming create_table=true and sessionctl schema:\n%s", err, log.String())
	}
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("tables in the schema: %d, %v; want none created", n, err)
	}
}

// TestBadFlagsBeforeListening: a flag mistake is reported as a usage error
// before the server listens or logs "listening", and the message lists the
// same SameSite values as the flag's help.
func TestBadFlagsBeforeListening(t *testing.T) {
	var help bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, env{}.get, &help, nil); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, tc := range [][]string{
		{"-samesite", "sideways"},
		{"-samesite", "none"}, // without -secure
		{"-addr"},
		{"extra"},
	} {
		var log bytes.Buffer
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tc...), env{"SESSION_SECRET": testSecret, "SESSION_STORE": "memory://"}.get, &log,
			func(string) { t.Errorf("%q: the server started", tc) })
		var ue usageError
		if !errors.As(err, &ue) || exitCode(err) != 2 {
			t.Errorf("%q: run = %v (exit %d); want a usage error, exit 2", tc, err, exitCode(err))
		}
		if strings.Contains(log.String(), "listening") {
			t.Errorf("%q: logged listening:\n%s", tc, log.String())
		}
		if tc[0] == "-samesite" && tc[1] == "sideways" && (!strings.Contains(log.String(), sameSiteValues) || !strings.Contains(help.String(), sameSiteValues)) {
			t.Errorf("%q: error and help must both list %q:\nerror: %s\nhelp: %s", tc, sameSiteValues, log.String(), help.String())
		}
	}
}

// TestHelp: -h prints the usage, with the environment variables, and is no
// error: exit 0 and nothing logged at ERROR.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{arg}, env{}.get, &out, func(string) { t.Error("the server started") })
		if exitCode(err) != 0 {
			t.Errorf("%s: exit %d (%v), want 0", arg, exitCode(err), err)
		}
		for _, want := range []string{"-samesite", "SESSION_SECRET", "SESSION_STORE"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: usage lacks %s:\n%s", arg, want, out.String())
			}
		}
		if strings.Contains(out.String(), "level=ERROR") {
			t.Errorf("%s logged an error:\n%s", arg, out.String())
		}
	}
}
