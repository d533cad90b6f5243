package interop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/mysqlstore"
)

// mysqlNodeModules lists the packages mysql-node/server.js loads from its
// own node_modules; express and express-session come from the package set
// of this run (nodePackages), so the second run checks express-mysql-session
// with the current express-session.
var mysqlNodeModules = []string{"express-mysql-session", "mysql2"}

// launchMySQLNode starts mysql-node/server.js with env added to the
// environment, without waiting for it. The process is killed when the test
// ends, and its output is shown if the test failed.
func launchMySQLNode(t testing.TB, env map[string]string) *pendingNode {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not installed", "install Node.js (18.19 or later) to run the interop tests")
	}
	for _, m := range mysqlNodeModules {
		if _, err := os.Stat(filepath.Join("mysql-node", "node_modules", m, "package.json")); err != nil {
			unavailable(t, "interop/mysql-node/node_modules lacks "+m, "run scripts/test (it runs npm ci in interop/mysql-node)")
		}
	}
	for _, m := range []string{"express", "express-session"} {
		if _, err := os.Stat(filepath.Join(nodePackages(), "node_modules", m, "package.json")); err != nil {
			unavailable(t, "interop/"+nodePackages()+"/node_modules lacks "+m, "run scripts/test (it runs npm ci in interop/"+nodePackages()+")")
		}
	}
	pkgs, err := filepath.Abs(nodePackages())
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	pw := &portWriter{out: out, ready: make(chan string, 1)}
	cmd := exec.Command(node, "server.js")
	cmd.Dir = "mysql-node"
	cmd.Env = os.Environ()
	for _, k := range []string{"PORT", "MYSQL_URL", "MYSQL_TABLE", "MYSQL_TIME_ZONE", "CREATE_TABLE",
		"SECRETS", "COOKIE_MAX_AGE", "DISABLE_TOUCH", "NODE_ENV", "DEBUG", "NODE_PACKAGES"} {
		cmd.Env = append(cmd.Env, k+"=")
	}
	cmd.Env = append(cmd.Env, "PORT=0", "NODE_PACKAGES="+pkgs)
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
			t.Logf("node mysql-node/server.js (express-session of interop/%s) output:\n%s", nodePackages(), out.String())
		}
	})
	return p
}

// mysqlEnv is one test's MySQL side: a handle whose connections run with
// time_zone tz (the server's when empty), a fresh table dropped when the
// test ends, and our store on it.
type mysqlEnv struct {
	tz    string
	db    *sql.DB
	table string
	store *mysqlstore.Store
}

// newMySQLEnv makes the env. With nodeCreates, express-mysql-session
// creates its own table (the usual deployment: Node came first), so the
// store opens only once node is up; see open.
func newMySQLEnv(t *testing.T, tz string) *mysqlEnv {
	t.Helper()
	var vars map[string]string
	if tz != "" {
		vars = map[string]string{"time_zone": "'" + tz + "'"}
	}
	db := mysqltest.DB(t, vars)
	return &mysqlEnv{tz: tz, db: db, table: mysqltest.Table(t)}
}

// open opens the store on the table, creating it unless Node did.
func (e *mysqlEnv) open(t *testing.T, create bool) {
	t.Helper()
	e.openOptions(t, mysqlstore.Options{CreateTable: create})
}

// openOptions is open with options; Table and PruneInterval are set here.
func (e *mysqlEnv) openOptions(t *testing.T, opts mysqlstore.Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Table, opts.PruneInterval = e.table, -1
	s, err := mysqlstore.New(ctx, e.db, opts)
	if err != nil {
		t.Fatalf("mysqlstore.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	e.store = s
}

// node starts server.js on the env's table and time zone.
func (e *mysqlEnv) node(t *testing.T, maxAge time.Duration, createTable bool, extra map[string]string) *pendingNode {
	t.Helper()
	env := map[string]string{
		"MYSQL_URL":      mysqltest.URL(),
		"MYSQL_TABLE":    e.table,
		"SECRETS":        secretsJSON(secretNew),
		"COOKIE_MAX_AGE": strconv.FormatInt(maxAge.Milliseconds(), 10),
	}
	if createTable {
		env["CREATE_TABLE"] = "1"
	}
	if e.tz != "" {
		env["MYSQL_TIME_ZONE"] = e.tz
	}
	for k, v := range extra {
		env[k] = v
	}
	return launchMySQLNode(t, env)
}

func (e *mysqlEnv) goApp(t *testing.T, idle, touch time.Duration) *httptest.Server {
	t.Helper()
	return goApp(t, session.Config{Store: e.store, IdleTimeout: idle, TouchInterval: touch}, secretNew)
}

// row reads id's row as stored.
func (e *mysqlEnv) row(t *testing.T, id string) (data string, expires int64, found bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := e.db.QueryRowContext(ctx, "SELECT data, expires FROM "+e.store.Table()+" WHERE session_id = ?", id).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false
	}
	if err != nil {
		t.Fatalf("read row: %v", err)
	}
	return data, expires, true
}

func (e *mysqlEnv) mustRow(t *testing.T, id string) (string, int64) {
	t.Helper()
	data, exp, ok := e.row(t, id)
	if !ok {
		t.Fatalf("no row for the session")
	}
	return data, exp
}

// roundedCookieExpiry is Math.round(sess.cookie.expires in ms / 1000), the
// expires express-mysql-session derives from a document.
func roundedCookieExpiry(t *testing.T, doc string) int64 {
	t.Helper()
	var d struct {
		Cookie struct {
			Expires string `json:"expires"`
		} `json:"cookie"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("stored data: %v: %s", err, doc)
	}
	exp, err := time.Parse(time.RFC3339Nano, d.Cookie.Expires)
	if err != nil {
		t.Fatalf("cookie.expires %q: %v", d.Cookie.Expires, err)
	}
	return int64(math.Floor(float64(exp.UnixMilli())/1000 + 0.5))
}

// TestMySQLBothWays shares one express-mysql-session table between the
// Express app and the Go service, on the table Node creates and on the one
// Go creates, with both sides' connections in UTC and in another time zone:
// every change made on one side is seen on the other.
func TestMySQLBothWays(t *testing.T) {
	for _, c := range []struct{ creator, tz string }{{"node", "+00:00"}, {"node", "+09:00"}, {"go", "+00:00"}, {"go", "-07:00"}} {
		creator := c.creator
		t.Run(creator+"-creates-table/time_zone"+c.tz, func(t *testing.T) {
			t.Parallel()
			e := newMySQLEnv(t, c.tz)
			if creator == "go" {
				e.open(t, true)
			}
			node := e.node(t, time.Hour, creator == "node", nil).wait().URL
			if creator == "node" {
				e.open(t, false)
			}
			checkMySQLTimeZone(t, e, node)
			goURL := e.goApp(t, time.Hour, 0).URL
			mysqlBothWays(t, e, node, goURL)
		})
	}
}

func mysqlBothWays(t *testing.T, e *mysqlEnv, node, goURL string) {
	t.Run("node-login-go-reads", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "alice")
		before, _ := e.mustRow(t, id)
		r := b.must(200, "GET", goURL+"/session", nil)
		var got sessionBody
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if got.SessionID != id {
			t.Fatalf("go: sessionID %q, want node's %q", got.SessionID, id)
		}
		checkValues(t, "go", got.Session, expectedLogin("alice"))
		if len(r.SetCookie) != 0 {
			t.Errorf("go set a cookie on a read-only request: %s", fmtCookies(r.SetCookie))
		}
		checkTyped(t, b, goURL, "alice")
		if after, _ := e.mustRow(t, id); after != before {
			t.Errorf("go rewrote an unmodified session:\nbefore %s\n after %s", before, after)
		}
	})

	t.Run("go-login-node-reads", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(goURL, "bob")
		got := b.session(node)
		if got.SessionID != id {
			t.Fatalf("node: sessionID %q, want go's %q", got.SessionID, id)
		}
		checkValues(t, "node", got.Session, expectedLogin("bob"))
		doc, exp := e.mustRow(t, id)
		if want := roundedCookieExpiry(t, doc); exp != want {
			t.Errorf("go stored expires %d, express-mysql-session would store %d for its document", exp, want)
		}
	})

	t.Run("go-modifies-node-sees", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "carol")
		set := map[string]any{"theme": "light", "visits": 3, "cart": map[string]any{"items": []any{1, "two", nil}}}
		b.must(200, "POST", goURL+"/set", set)
		if got, ok := b.cookieID(secretNew); !ok || got != id {
			t.Fatalf("go changed the session's ID on a modification: %q (ok=%v), want %q", got, ok, id)
		}
		want := expectedLogin("carol")
		for k, v := range set {
			want[k] = v
		}
		want = roundTrip(want)
		checkValues(t, "node", b.session(node).Session, want)
		checkValues(t, "go", b.session(goURL).Session, want)
	})

	t.Run("node-modifies-go-sees", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(goURL, "dave")
		created := typed(t, b, goURL).Created
		set := map[string]any{"theme": "sepia", "visits": 7}
		b.must(200, "POST", node+"/set", set)
		if got, ok := b.cookieID(secretNew); !ok || got != id {
			t.Fatalf("node changed the session's ID on a modification: %q (ok=%v), want %q", got, ok, id)
		}
		want := expectedLogin("dave")
		for k, v := range set {
			want[k] = v
		}
		checkValues(t, "go", b.session(goURL).Session, roundTrip(want))
		if c := typed(t, b, goURL).Created; c != created || c == 0 {
			t.Errorf("session creation time after a Node save: %d, want %d", c, created)
		}
	})

	for _, tc := range []struct{ name, renewAt, otherAt string }{
		{"go-renews-node-follows", goURL, node},
		{"node-renews-go-follows", node, goURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			oldID := b.login(tc.otherAt, "erin")
			old := b.with()
			b.must(200, "POST", tc.renewAt+"/renew", nil)
			newID, ok := b.cookieID(secretNew)
			if !ok || newID == oldID {
				t.Fatalf("renew: cookie carries %q (ok=%v), want a new ID", newID, ok)
			}
			for _, app := range []string{node, goURL} {
				got := b.session(app)
				if got.SessionID != newID {
					t.Errorf("%s: sessionID %q after renew, want %q", app, got.SessionID, newID)
				}
				checkValues(t, app, got.Session, expectedLogin("erin"))
				if r := old.do("GET", app+"/session", nil); r.Status != 401 {
					t.Errorf("%s accepted the cookie of the renewed-away ID: status %d, body %s", app, r.Status, r.Body)
				}
			}
			if _, _, found := e.row(t, oldID); found {
				t.Errorf("the old ID's row is still stored after renew")
			}
		})
	}

	// A Node save between Go's load and Go's conditional write is seen as
	// a conflict: the token is the data, whoever wrote it.
	t.Run("node-write-is-a-conflict", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "fay")
		ctx := context.Background()
		_, _, version, found, err := e.store.LoadVersion(ctx, id)
		if err != nil || !found {
			t.Fatalf("LoadVersion: %v, %v", found, err)
		}
		b.must(200, "GET", node+"/session", nil) // a Node touch: no conflict
		if _, _, v, _, _ := e.store.LoadVersion(ctx, id); string(v) != string(version) {
			t.Errorf("a Node touch changed the version")
		}
		b.must(200, "POST", node+"/set", map[string]any{"step": 1})
		err = e.store.Replace(ctx, id, []byte(`{"cookie":{},"lost":true}`), time.Now().Add(time.Hour), version)
		if !errors.Is(err, session.ErrConflict) {
			t.Fatalf("Replace after a Node save = %v, want ErrConflict", err)
		}
		if got := b.session(node).Session["step"]; got != float64(1) {
			t.Errorf("Node's write was lost: step = %v", got)
		}
	})

	n, g := app{"node", node}, app{"go", goURL}
	logoutCases(t, node, goURL, [][2]app{{n, g}, {g, n}, {n, n}, {g, g}}, func(t *testing.T, id string) bool {
		_, _, found := e.row(t, id)
		return found
	})
	sameDocument(t, node, goURL, func(t *testing.T, id string) string { return first(e.mustRow(t, id)) })
}

// TestMySQLExpiry checks that Go and Node decide a session's end the same
// way, to the second, with the connections' time_zone UTC and two others:
// expires is Unix seconds, written as round(ms / 1000) and live while it is
// at least round(now ms / 1000), on both sides.
func TestMySQLExpiry(t *testing.T) {
	for _, tz := range []string{"+00:00", "+09:00", "-07:00"} {
		t.Run(tz, func(t *testing.T) {
			t.Parallel()
			const maxAge = 2500 * time.Millisecond
			e := newMySQLEnv(t, tz)
			e.open(t, true)
			// Reads must not push the expiry out: Node without store
			// touches, Go with a touch interval longer than the session.
			pending := e.node(t, maxAge, false, map[string]string{"DISABLE_TOUCH": "1"})
			goURL := e.goApp(t, maxAge, time.Hour).URL
			node := pending.wait().URL
			checkMySQLTimeZone(t, e, node)
			for attempt := 1; !mysqlExpiryRound(t, e, node, goURL); attempt++ {
				if attempt == 3 {
					t.Fatalf("three rounds in a row, the probes before the deadline finished after it; the machine is too busy to decide")
				}
			}
		})
	}
}

// checkMySQLTimeZone checks that both sides' connections run with e.tz, so
// that the test is not vacuous.
func checkMySQLTimeZone(t *testing.T, e *mysqlEnv, node string) {
	t.Helper()
	var goTZ string
	if err := e.db.QueryRow("SELECT @@session.time_zone").Scan(&goTZ); err != nil {
		t.Fatal(err)
	}
	var nodeTZ struct{ Timezone string }
	r := newBrowser(t).must(200, "GET", node+"/debug/timezone", nil)
	if err := json.Unmarshal(r.Body, &nodeTZ); err != nil {
		t.Fatal(err)
	}
	if goTZ != e.tz || nodeTZ.Timezone != e.tz {
		t.Fatalf("connection time_zone: go %q, node %q; want both %q", goTZ, nodeTZ.Timezone, e.tz)
	}
}

// mysqlExpiryRound logs in on each side and probes both sessions from both
// sides just before and just after their end, half a second past their
// expires second. It returns false when the probes before the end finished
// too late to prove anything.
func mysqlExpiryRound(t *testing.T, e *mysqlEnv, node, goURL string) bool {
	t.Helper()
	type row struct {
		side string
		b    *browser
		id   string
	}
	rows := []*row{{side: "node", b: newBrowser(t)}, {side: "go", b: newBrowser(t)}}
	rows[0].id = rows[0].b.login(node, "ivan")
	rows[1].id = rows[1].b.login(goURL, "judy")
	first, last := int64(math.MaxInt64), int64(0)
	for _, r := range rows {
		doc, exp := e.mustRow(t, r.id)
		if want := roundedCookieExpiry(t, doc); exp != want {
			t.Fatalf("%s stored expires %d under time_zone %s, want round(cookie.expires) = %d", r.side, exp, e.tz, want)
		}
		_, goEnd, found, err := e.store.Load(context.Background(), r.id)
		if err != nil || !found || !goEnd.Equal(time.Unix(exp, 499e6)) {
			t.Fatalf("store.Load of the %s-written row: end %v found=%v err=%v, want %v", r.side, goEnd, found, err, time.Unix(exp, 499e6))
		}
		first, last = min(first, exp), max(last, exp)
	}

	probe := func(phase string) map[string]bool {
		seen := map[string]bool{}
		for _, r := range rows {
			for _, app := range []struct{ side, url string }{{"node", node}, {"go", goURL}} {
				resp := r.b.do("GET", app.url+"/session", nil)
				switch resp.Status {
				case 200, 401:
				default:
					t.Fatalf("%s: %s reading the %s-written session: status %d, body %s", phase, app.side, r.side, resp.Status, resp.Body)
				}
				seen[app.side+" reads "+r.side+"'s"] = resp.Status == 200
			}
		}
		return seen
	}

	// A row is live while round(now) <= expires: until expires + 0.5 s.
	end := time.UnixMilli(first*1000 + 500)
	time.Sleep(time.Until(end.Add(-600 * time.Millisecond)))
	before := probe("before expiry")
	if time.Now().After(end) {
		t.Logf("probes before expiry ended %v after the end; retrying", time.Since(end))
		return false
	}
	for what, alive := range before {
		if !alive {
			t.Errorf("just before the end (%s, time_zone %s): %s session is already gone", end.UTC().Format(time.RFC3339Nano), e.tz, what)
		}
	}
	// 200 ms after the end: a side that rounded "now" down, or compared
	// with > instead of >=, would still see the session alive here.
	time.Sleep(time.Until(time.UnixMilli(last*1000 + 700)))
	for what, alive := range probe("after expiry") {
		if alive {
			t.Errorf("just after the end (%s, time_zone %s): %s session is still alive", time.Unix(last, 5e8).UTC().Format(time.RFC3339Nano), e.tz, what)
		}
	}
	return true
}

// TestMySQLTouch checks that a read on either side keeps a session alive on
// both: Node's touch and Go's each carry the session past the expiry the
// other side last set, and neither rewrites the data.
func TestMySQLTouch(t *testing.T) {
	const maxAge = 4 * time.Second
	e := newMySQLEnv(t, "+09:00")
	e.open(t, true)
	pending := e.node(t, maxAge, false, nil)
	goURL := e.goApp(t, maxAge, 0).URL
	node := pending.wait().URL

	for _, origin := range []struct{ side, url string }{{"node", node}, {"go", goURL}} {
		t.Run("login-at-"+origin.side, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			id := b.login(origin.url, "nina")
			doc0, x0 := e.mustRow(t, id)

			time.Sleep(maxAge / 2)
			b.must(200, "GET", node+"/session", nil)
			_, x1 := e.mustRow(t, id)
			if x1 <= x0 {
				t.Fatalf("a Node read did not move the expiry: %d, then %d", x0, x1)
			}
			// Past the end set at login: alive only through Node's touch.
			time.Sleep(time.Until(time.UnixMilli(x0*1000 + 800)))
			b.must(200, "GET", goURL+"/session", nil)
			_, x2 := e.mustRow(t, id)
			if x2 <= x1 {
				t.Fatalf("a Go read did not move the expiry: %d, then %d", x1, x2)
			}
			// Past the end Node's touch set: alive only through Go's.
			time.Sleep(time.Until(time.UnixMilli(x1*1000 + 800)))
			checkValues(t, "node", b.session(node).Session, expectedLogin("nina"))
			b.must(200, "GET", goURL+"/session", nil)
			if doc, _ := e.mustRow(t, id); doc != doc0 {
				t.Errorf("a touch rewrote the data:\nbefore %s\n after %s", doc0, doc)
			}
		})
	}
}

// TestMySQLRevokeUser ends the sessions of a user from Go, Node's included:
// the store reads the user from the document.
func TestMySQLRevokeUser(t *testing.T) {
	e := newMySQLEnv(t, "")
	pending := e.node(t, time.Hour, true, nil)
	node := pending.wait().URL
	e.openOptions(t, mysqlstore.Options{UserKey: "userId"})
	srv, m := goAppManager(t, session.Config{Store: e.store, IdleTimeout: time.Hour, UserKey: "userId"}, secretNew)
	revokeScenario(t, node, srv.URL, m, true)
}

// TestMySQLNodePackageVersions checks that mysql-node/server.js runs
// express-mysql-session 3 with the express-session of this run's package
// set.
func TestMySQLNodePackageVersions(t *testing.T) {
	e := newMySQLEnv(t, "")
	e.open(t, true)
	app := e.node(t, time.Hour, false, nil).wait()
	r := newBrowser(t).must(200, "GET", app.URL+"/debug/versions", nil)
	var got map[string]string
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("interop/mysql-node with interop/%s: %v", nodePackages(), got)
	want := map[string]string{"express-session": wantVersions[nodePackages()]["express-session"], "express-mysql-session": "3."}
	for name, prefix := range want {
		if !strings.HasPrefix(got[name], prefix) {
			t.Errorf("loads %s %s, want %s*", name, got[name], prefix)
		}
	}
}

// TestMySQLNodeWriteMerges saves a session from Go while Node changed it
// after Go loaded it: Go's conditional save sees the change (the version is
// the stored document's hash), reloads and re-applies its own change, so
// both the key Node set and the key Go set survive, on both sides. A plain
// save would have written Go's stale copy over Node's change.
func TestMySQLNodeWriteMerges(t *testing.T) {
	e := newMySQLEnv(t, "")
	e.open(t, true)
	pending := e.node(t, time.Hour, false, nil)
	srv, m := goAppManager(t, session.Config{Store: e.store, IdleTimeout: time.Hour}, secretNew)
	node := pending.wait().URL

	for _, origin := range []app{{"node", node}, {"go", srv.URL}} {
		t.Run("login-at-"+origin.name, func(t *testing.T) {
			b := newBrowser(t)
			id := b.login(origin.url, "olga")
			ctx := context.Background()

			s := m.Open(ctx, id)
			if _, err := session.Get[float64](s, "userId"); err != nil {
				t.Fatalf("Go's load: %v", err)
			}
			b.must(200, "POST", node+"/set", map[string]any{"fromNode": "n1", "theme": "node"})
			if err := s.Put("fromGo", "g1"); err != nil {
				t.Fatal(err)
			}
			if err := s.Put("theme", "go"); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Commit(ctx, s); err != nil {
				t.Fatalf("Go's commit after Node's write: %v", err)
			}

			want := expectedLogin("olga")
			want["fromNode"], want["fromGo"], want["theme"] = "n1", "g1", "go" // the same key: the later commit wins
			want = roundTrip(want)
			checkValues(t, "node", b.session(node).Session, want)
			checkValues(t, "go", b.session(srv.URL).Session, want)
		})
	}
}
