package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// Secrets of at least middleware.MinSecretLen bytes, shared by both sides.
// The new one is not ASCII: both sides must key the HMAC with its UTF-8
// bytes.
const (
	secretOld = "interop-old-secret-0123456789abcdef"
	secretNew = "interop-new-s\u00e9cret-\u2713-fedcba9876543210"
)

// unavailable fails the test under CI, where a missing dependency is a
// defect, and skips it otherwise with a one-line hint.
func unavailable(t testing.TB, what, hint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true, so this fails): %s", what, hint)
	}
	t.Skipf("%s; %s", what, hint)
}

// nodeModules lists the packages server.js loads.
var nodeModules = []string{"express", "express-session", "connect-pg-simple", "pg", "connect-redis", "redis"}

// requireNode checks that node and the packages of nodePackages() are
// installed.
func requireNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not installed", "install Node.js (18.19 or later) to run the interop tests")
	}
	dir := nodePackages()
	for _, m := range nodeModules {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			unavailable(t, "interop/"+dir+"/node_modules lacks "+m, "run scripts/test (it runs npm ci in interop/"+dir+")")
		}
	}
	return node
}

// syncBuffer collects a child process's output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// portWriter is the child's stdout: it keeps everything and hands over the
// first line, the port, once.
type portWriter struct {
	out   *syncBuffer
	mu    sync.Mutex
	line  []byte
	sent  bool
	ready chan string
}

func (w *portWriter) Write(p []byte) (int, error) {
	w.out.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.sent {
		w.line = append(w.line, p...)
		if i := bytes.IndexByte(w.line, '\n'); i >= 0 {
			w.sent = true
			w.ready <- strings.TrimSpace(string(w.line[:i]))
		}
	}
	return len(p), nil
}

// nodeApp is a running node/server.js.
type nodeApp struct {
	URL string
	out *syncBuffer
}

// pendingNode is a node/server.js that was started and may not listen yet.
type pendingNode struct {
	t     testing.TB
	cmd   *exec.Cmd
	out   *syncBuffer
	ready chan string
	done  chan error
}

// launchNode starts node/server.js with env added to the environment, without
// waiting for it; wait does. The process is killed when the test ends, and
// its output is shown if the test failed.
func launchNode(t testing.TB, env map[string]string) *pendingNode {
	t.Helper()
	node := requireNode(t)
	out := &syncBuffer{}
	pw := &portWriter{out: out, ready: make(chan string, 1)}
	cmd := exec.Command(node, "server.js")
	cmd.Dir = "node"
	cmd.Env = os.Environ()
	pkgs, err := filepath.Abs(nodePackages())
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, "NODE_PACKAGES="+pkgs)
	for _, k := range []string{"PORT", "STORE", "DATABASE_URL", "PG_SCHEMA", "PG_TABLE", "PGOPTIONS",
		"REDIS_URL", "REDIS_PREFIX", "SECRETS", "COOKIE_MAX_AGE", "DISABLE_TOUCH", "COOKIE_SECURE", "TRUST_PROXY",
		"GENID", "NODE_ENV"} {
		cmd.Env = append(cmd.Env, k+"=")
	}
	cmd.Env = append(cmd.Env, "PORT=0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = pw
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	p := &pendingNode{t: t, cmd: cmd, out: out, ready: pw.ready, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("node server.js (packages of interop/%s) output:\n%s", nodePackages(), out.String())
		}
	})
	return p
}

// wait returns the app once it listens.
func (p *pendingNode) wait() *nodeApp {
	p.t.Helper()
	// Loading express and the stores takes seconds on a busy machine.
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	select {
	case port := <-p.ready:
		return &nodeApp{URL: "http://127.0.0.1:" + port, out: p.out}
	case err := <-p.done:
		p.done <- err
		p.t.Fatalf("node server.js exited before listening (%v):\n%s", err, p.out.String())
	case <-timer.C:
		p.t.Fatalf("node server.js did not print its port within 60s:\n%s", p.out.String())
	}
	return nil
}

// startNode starts node/server.js and waits until it listens.
func startNode(t testing.TB, env map[string]string) *nodeApp {
	t.Helper()
	return launchNode(t, env).wait()
}

// secretsJSON is the SECRETS value for server.js.
func secretsJSON(secrets ...string) string {
	b, _ := json.Marshal(secrets)
	return string(b)
}

// The values both apps put in a session at login, in the same order and
// shape: server.js builds the same object.
type prefs struct {
	Theme string   `json:"theme"`
	Langs []string `json:"langs"`
	Beta  bool     `json:"beta"`
	Ratio float64  `json:"ratio"`
}

type profile struct {
	Name    string  `json:"name"`
	Email   string  `json:"email"`
	Prefs   prefs   `json:"prefs"`
	Manager *string `json:"manager"`
	Note    string  `json:"note"`
}

// loginNote exercises the characters JSON encoders disagree on: non-ASCII,
// HTML, quotes, backslash, U+2028 and a character outside the BMP.
const loginNote = "h\u00e9llo \u2713 <b>&amp;</b> \"q\" \\ \u2028 \U0001F600"

func loginProfile(user string) profile {
	return profile{
		Name:  user,
		Email: user + "@example.com",
		Prefs: prefs{Theme: "dark", Langs: []string{"en", "ja"}, Beta: false, Ratio: 0.5},
		Note:  loginNote,
	}
}

var loginRoles = []string{"admin", "editor"}

const loginUserID = 42

// goApp serves the same routes as server.js through the middleware's
// express preset.
func goApp(t testing.TB, cfg session.Config, secrets ...string) *httptest.Server {
	t.Helper()
	srv, _ := goAppManager(t, cfg, secrets...)
	return srv
}

// goAppManager is goApp, also returning the Manager behind it.
func goAppManager(t testing.TB, cfg session.Config, secrets ...string) (*httptest.Server, *session.Manager) {
	t.Helper()
	mw, err := express.New(cfg, secrets...)
	if err != nil {
		t.Fatalf("express.New: %v", err)
	}
	return goAppServe(t, mw), mw.Manager()
}

// goAppServe serves goApp's routes through mw, a middleware the test built
// itself (to set its AutoSecure, say).
func goAppServe(t testing.TB, mw *middleware.Middleware) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		user := r.URL.Query().Get("user")
		if user == "" {
			user = "anonymous"
		}
		if err := s.Renew(); err != nil {
			httpError(w, err)
			return
		}
		for _, kv := range []struct {
			k string
			v any
		}{{"roles", loginRoles}, {"user", loginProfile(user)}, {"userId", loginUserID}} {
			if err := s.Put(kv.k, kv.v); err != nil {
				httpError(w, err)
				return
			}
		}
		id, err := s.ID()
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, 200, map[string]any{"sessionID": id})
	})
	mux.HandleFunc("GET /session", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		if isNew, err := s.IsNew(); err != nil || isNew {
			writeJSON(w, 401, map[string]any{"error": "no session"})
			return
		}
		keys, err := s.Keys()
		if err != nil {
			httpError(w, err)
			return
		}
		values := map[string]any{}
		for _, k := range keys {
			if values[k], err = session.Get[any](s, k); err != nil {
				httpError(w, err)
				return
			}
		}
		id, _ := s.ID()
		writeJSON(w, 200, map[string]any{"sessionID": id, "session": values})
	})
	// GET /typed reads the login values into Go types.
	mux.HandleFunc("GET /typed", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		var out struct {
			UserID  int      `json:"userId"`
			User    profile  `json:"user"`
			Roles   []string `json:"roles"`
			Created int64    `json:"created"`
		}
		var err error
		if out.UserID, err = session.Get[int](s, "userId"); err != nil {
			httpError(w, err)
			return
		}
		if out.User, err = session.Get[profile](s, "user"); err != nil {
			httpError(w, err)
			return
		}
		if out.Roles, err = session.Get[[]string](s, "roles"); err != nil {
			httpError(w, err)
			return
		}
		created, err := s.CreatedAt()
		if err != nil {
			httpError(w, err)
			return
		}
		if !created.IsZero() {
			out.Created = created.UnixMilli()
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, 400, map[string]any{"error": "body must be a JSON object"})
			return
		}
		for k, v := range body {
			if err := s.Put(k, v); err != nil {
				httpError(w, err)
				return
			}
		}
		id, _ := s.ID()
		writeJSON(w, 200, map[string]any{"sessionID": id})
	})
	mux.HandleFunc("POST /renew", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		if isNew, err := s.IsNew(); err != nil || isNew {
			writeJSON(w, 401, map[string]any{"error": "no session"})
			return
		}
		if err := s.Renew(); err != nil {
			httpError(w, err)
			return
		}
		id, _ := s.ID()
		writeJSON(w, 200, map[string]any{"sessionID": id})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := middleware.Get(r).Destroy(); err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true})
	})
	srv := httptest.NewServer(mw.Handler(mux))
	t.Cleanup(srv.Close)
	return srv
}

// revokeScenario logs user 42 in twice at node and once at goURL, and
// another user once at node, then revokes user 42 through m. The session Go
// created must end on both sides, and the other user's must not. The two
// Node created must end too when nodeIndexed is set; otherwise the store
// cannot know them (its user index is filled by Go alone) and the test only
// reports whether they survived.
func revokeScenario(t *testing.T, node, goURL string, m *session.Manager, nodeIndexed bool) {
	t.Helper()
	type victim struct {
		b       *browser
		creator string
	}
	var victims []victim
	for _, app := range []struct{ side, url string }{{"node", node}, {"node", node}, {"go", goURL}, {"node, then read by go", node}} {
		b := newBrowser(t)
		b.login(app.url, "rita")
		if app.side == "node, then read by go" {
			// Go links a session another app wrote when it first loads it.
			b.must(200, "GET", goURL+"/session", nil)
		}
		victims = append(victims, victim{b, app.side})
	}
	other := newBrowser(t)
	other.login(node, "sam")
	other.must(200, "POST", node+"/set", map[string]any{"userId": 7})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := m.RevokeUser(ctx, strconv.Itoa(loginUserID))
	if err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	want := 2 // the Go-made session and the Node-made one Go has read
	if nodeIndexed {
		want = len(victims)
	}
	if n != want {
		t.Errorf("RevokeUser ended %d sessions, want %d", n, want)
	}
	for i, v := range victims {
		for _, app := range []struct{ side, url string }{{"node", node}, {"go", goURL}} {
			r := v.b.do("GET", app.url+"/session", nil)
			switch {
			case r.Status == 401:
			case v.creator == "node" && !nodeIndexed:
				t.Logf("known gap: session %d, created by node, survives RevokeUser on %s (status %d)", i, app.side, r.Status)
			default:
				t.Errorf("session %d of the revoked user, created by %s, is still served by %s: status %d", i, v.creator, app.side, r.Status)
			}
		}
	}
	for _, app := range []string{node, goURL} {
		other.session(app)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, err error) {
	status := 500
	if errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrType) {
		status = 422
	}
	writeJSON(w, status, map[string]any{"error": err.Error()})
}

// browser is one user agent. It keeps the connect.sid cookie itself rather
// than in a cookie jar, so that a test says which app each cookie goes to and
// can replay an old one.
type browser struct {
	t      testing.TB
	client *http.Client
	cookie string // the value as received, URL-encoded; "" for none
	// header, when set, is sent as the whole Cookie header instead.
	header string
	// proto, when set, is sent as X-Forwarded-Proto: "https" stands for a
	// TLS-terminating proxy in front of an app that trusts it.
	proto string
}

func newBrowser(t testing.TB) *browser {
	return &browser{t: t, client: &http.Client{Timeout: 30 * time.Second}}
}

// response is one answer, decoded.
type response struct {
	Status    int
	Body      []byte
	SetCookie []string // raw Set-Cookie header lines for connect.sid
}

// sessionBody is what GET /session answers.
type sessionBody struct {
	SessionID string         `json:"sessionID"`
	Session   map[string]any `json:"session"`
}

// do sends a request with the browser's cookie and takes any connect.sid
// cookie from the answer: a value replaces the cookie, an expired one
// removes it.
func (b *browser) do(method, url string, body any) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.proto != "" {
		req.Header.Set("X-Forwarded-Proto", b.proto)
	}
	switch {
	case b.header != "":
		req.Header.Set("Cookie", b.header)
	case b.cookie != "":
		req.Header.Set("Cookie", express.CookieName+"="+b.cookie)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	out := response{Status: resp.StatusCode, Body: data}
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != express.CookieName {
			continue
		}
		out.SetCookie = append(out.SetCookie, line)
		if c.MaxAge < 0 || (!c.Expires.IsZero() && !c.Expires.After(time.Now())) {
			b.cookie = ""
		} else {
			b.cookie = c.Value
		}
	}
	return out
}

// must is do, failing the test unless the status is want.
func (b *browser) must(want int, method, url string, body any) response {
	b.t.Helper()
	r := b.do(method, url, body)
	if r.Status != want {
		b.t.Fatalf("%s %s: status %d, want %d; body: %s", method, url, r.Status, want, r.Body)
	}
	return r
}

// login logs in at app and returns the new session's ID.
func (b *browser) login(app, user string) string {
	b.t.Helper()
	r := b.must(200, "POST", app+"/login?user="+user, nil)
	var out struct{ SessionID string }
	if err := json.Unmarshal(r.Body, &out); err != nil || out.SessionID == "" {
		b.t.Fatalf("POST %s/login: body %s: %v", app, r.Body, err)
	}
	if b.cookie == "" {
		b.t.Fatalf("POST %s/login set no %s cookie", app, express.CookieName)
	}
	return out.SessionID
}

// session reads GET /session at app, which must answer 200.
func (b *browser) session(app string) sessionBody {
	b.t.Helper()
	r := b.must(200, "GET", app+"/session", nil)
	var out sessionBody
	if err := json.Unmarshal(r.Body, &out); err != nil {
		b.t.Fatalf("GET %s/session: %v; body %s", app, err, r.Body)
	}
	return out
}

// cookieID returns the session ID that the browser's cookie carries,
// checking its signature against secrets.
func (b *browser) cookieID(secrets ...string) (string, bool) {
	return middleware.Verify(b.cookie, secrets)
}

// with returns a second browser holding this one's cookie, for replaying it
// later.
func (b *browser) with() *browser {
	c := *b
	return &c
}

// expectedLogin is the session both apps' /login create, as GET /session
// answers it (JSON numbers as float64).
func expectedLogin(user string) map[string]any {
	var v map[string]any
	data, _ := json.Marshal(map[string]any{"roles": loginRoles, "user": loginProfile(user), "userId": loginUserID})
	_ = json.Unmarshal(data, &v)
	return v
}

// jsonEqual reports whether a and b encode to the same JSON (maps compare
// with sorted keys).
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// withoutMeta drops sessionkit's metadata key, which Node shows as one more
// value.
func withoutMeta(v map[string]any) map[string]any {
	out := map[string]any{}
	for k, x := range v {
		if k != "__sessionkit" {
			out[k] = x
		}
	}
	return out
}

// checkValues fails unless got holds exactly want, ignoring sessionkit's
// metadata key.
func checkValues(t testing.TB, where string, got, want map[string]any) {
	t.Helper()
	if g := withoutMeta(got); !jsonEqual(g, want) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(want)
		t.Fatalf("%s: session values\n got %s\nwant %s", where, gj, wj)
	}
}

func fmtCookies(lines []string) string { return fmt.Sprintf("%q", lines) }

// app is one side of a shared-session pair: its name and base URL.
type app struct{ name, url string }

// logoutCases logs in at one app and out at another, for each pair, and
// checks that neither app serves the session afterwards and that stored no
// longer finds its record.
func logoutCases(t *testing.T, node, goURL string, pairs [][2]app, stored func(t *testing.T, id string) bool) {
	t.Helper()
	for _, p := range pairs {
		login, logout := p[0], p[1]
		t.Run(login.name+"-login-"+logout.name+"-logout", func(t *testing.T) {
			b := newBrowser(t)
			id := b.login(login.url, "frank")
			kept := b.with()
			b.must(200, "POST", logout.url+"/logout", nil)
			for _, u := range []string{node, goURL} {
				if r := kept.do("GET", u+"/session", nil); r.Status != 401 {
					t.Errorf("%s still serves the session after logout: status %d, body %s", u, r.Status, r.Body)
				}
			}
			if stored(t, id) {
				t.Errorf("the session's record is still stored after logout")
			}
		})
	}
}

// sameDocument logs the same user in on both sides and checks that they
// store the same document, byte for byte, apart from the expiry instants and
// sessionkit's metadata; doc reads a session's stored document.
func sameDocument(t *testing.T, node, goURL string, doc func(t *testing.T, id string) string) {
	t.Helper()
	t.Run("same-document", func(t *testing.T) {
		bn, bg := newBrowser(t), newBrowser(t)
		nodeDoc, goDoc := doc(t, bn.login(node, "grace")), doc(t, bg.login(goURL, "grace"))
		t.Logf("node stored %s", nodeDoc)
		t.Logf("  go stored %s", goDoc)
		if n, g := normalizeDoc(nodeDoc), normalizeDoc(goDoc); n != g {
			t.Errorf("the same login stores different documents (expiry and metadata masked):\nnode %s\n  go %s", n, g)
		}
	})
}
