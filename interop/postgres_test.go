package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// pgEnv is one test's PostgreSQL side: a pool whose connections run with
// TimeZone tz (the server default when empty), a fresh schema dropped when
// the test ends, and our store on connect-pg-simple's table in it.
type pgEnv struct {
	tz     string
	pool   *pgxpool.Pool
	schema string
	store  *pgstore.Store
}

func newPGEnv(t *testing.T, tz string) *pgEnv {
	t.Helper()
	return newPGEnvOptions(t, tz, pgstore.Options{})
}

// newPGEnvOptions is newPGEnv with store options; Schema, CreateTable and
// PruneInterval are set here.
func newPGEnvOptions(t *testing.T, tz string, opts pgstore.Options) *pgEnv {
	t.Helper()
	requireNode(t)
	pool := pgtest.Pool(t, func(c *pgxpool.Config) {
		if tz != "" {
			// Set per connection, as the server's TimeZone would be; the
			// store itself never sets it.
			c.ConnConfig.RuntimeParams["timezone"] = tz
		}
		c.MaxConns = 4
	})
	schema := pgtest.Schema(t, pool)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Schema, opts.CreateTable, opts.PruneInterval = schema, true, -1
	store, err := pgstore.New(ctx, pool, opts)
	if err != nil {
		t.Fatalf("postgres.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &pgEnv{tz: tz, pool: pool, schema: schema, store: store}
}

// node starts server.js on the same schema with the same TimeZone.
func (e *pgEnv) node(t *testing.T, maxAge time.Duration, secrets []string, extra map[string]string) *pendingNode {
	t.Helper()
	env := map[string]string{
		"STORE":          "pg",
		"DATABASE_URL":   pgtest.URL(),
		"PG_SCHEMA":      e.schema,
		"SECRETS":        secretsJSON(secrets...),
		"COOKIE_MAX_AGE": strconv.FormatInt(maxAge.Milliseconds(), 10),
	}
	if e.tz != "" {
		env["PGOPTIONS"] = "-c TimeZone=" + e.tz
	}
	for k, v := range extra {
		env[k] = v
	}
	return launchNode(t, env)
}

// goApp serves the Go side over the env's store.
func (e *pgEnv) goApp(t *testing.T, idle, touch time.Duration, secrets ...string) *httptest.Server {
	t.Helper()
	return goApp(t, session.Config{Store: e.store, IdleTimeout: idle, TouchInterval: touch}, secrets...)
}

// row reads sid's row as stored: the sess text and expire as Unix seconds,
// both as this env's connections see them.
func (e *pgEnv) row(t *testing.T, sid string) (sess string, expire int64, found bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := `SELECT sess::text, extract(epoch FROM expire::timestamptz)::bigint FROM ` + e.store.Table() + ` WHERE sid = $1`
	err := e.pool.QueryRow(ctx, q, sid).Scan(&sess, &expire)
	if err == pgx.ErrNoRows {
		return "", 0, false
	}
	if err != nil {
		t.Fatalf("read row: %v", err)
	}
	return sess, expire, true
}

// mustRow is row, failing when there is none.
func (e *pgEnv) mustRow(t *testing.T, sid string) (string, int64) {
	t.Helper()
	sess, exp, ok := e.row(t, sid)
	if !ok {
		t.Fatalf("no row for the session")
	}
	return sess, exp
}

// topLevel splits a stored document into its top-level values, as raw JSON.
func topLevel(t *testing.T, doc string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("stored sess is not a JSON object: %v: %s", err, doc)
	}
	return m
}

// cookieExpiry returns ceil(sess.cookie.expires in ms / 1000), the expire
// both connect-pg-simple and our store derive from it.
func cookieExpiry(t *testing.T, doc string) int64 {
	t.Helper()
	var d struct {
		Cookie struct {
			Expires string `json:"expires"`
		} `json:"cookie"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("stored sess: %v: %s", err, doc)
	}
	exp, err := time.Parse(time.RFC3339Nano, d.Cookie.Expires)
	if err != nil {
		t.Fatalf("sess.cookie.expires %q: %v", d.Cookie.Expires, err)
	}
	return int64(math.Ceil(float64(exp.UnixMilli()) / 1000))
}

// TestPostgresBothWays shares one connect-pg-simple table between the Express
// app and the Go service: every change made on one side is seen on the other.
func TestPostgresBothWays(t *testing.T) {
	e := newPGEnv(t, "")
	pending := e.node(t, time.Hour, []string{secretNew}, nil)
	goURL := e.goApp(t, time.Hour, 0, secretNew).URL
	node := pending.wait().URL

	t.Run("node-login-go-reads", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "alice")
		before, _ := e.mustRow(t, id)
		checkValues(t, "node", b.session(node).Session, expectedLogin("alice"))

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
		if _, ok := got.Session["__sessionkit"].(map[string]any); !ok {
			t.Errorf("node does not see sessionkit's metadata as a plain value: %v", got.Session["__sessionkit"])
		}
	})

	t.Run("go-modifies-node-sees", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "carol")
		before := topLevel(t, first(e.mustRow(t, id)))
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
		got := b.session(node)
		checkValues(t, "node", got.Session, want)
		checkValues(t, "go", b.session(goURL).Session, want)
		// Values Go did not change keep Node's bytes.
		after := topLevel(t, first(e.mustRow(t, id)))
		for _, k := range []string{"roles", "user", "userId"} {
			if string(after[k]) != string(before[k]) {
				t.Errorf("value %q changed bytes across a Go save:\nnode wrote %s\n  go wrote %s", k, before[k], after[k])
			}
		}
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
		want = roundTrip(want)
		checkValues(t, "go", b.session(goURL).Session, want)
		if c := typed(t, b, goURL).Created; c != created || c == 0 {
			t.Errorf("session creation time after a Node save: %d, want %d (sessionkit's metadata must survive Node)", c, created)
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

	n, g := app{"node", node}, app{"go", goURL}
	logoutCases(t, node, goURL, [][2]app{{n, g}, {g, n}, {n, n}, {g, g}}, func(t *testing.T, id string) bool {
		_, _, found := e.row(t, id)
		return found
	})
	sameDocument(t, node, goURL, func(t *testing.T, id string) string { return first(e.mustRow(t, id)) })

	// Both sides read the same Cookie headers the same way: which of
	// several connect.sid cookies counts, quoting, encodings.
	t.Run("cookie-header-parity", func(t *testing.T) {
		b := newBrowser(t)
		b.login(node, "ivy")
		v := b.cookie
		decoded, err := url.PathUnescape(v)
		if err != nil {
			t.Fatal(err)
		}
		bogus := middleware.Sign("not-a-session", secretNew)
		for _, tc := range []struct {
			name, header string
			want         int // 0: only parity is checked
		}{
			{"encoded", "connect.sid=" + v, 200},
			{"decoded, raw + and /", "connect.sid=" + decoded, 200},
			{"quoted", `connect.sid="` + v + `"`, 200},
			{"lowercase escapes", "connect.sid=" + strings.ToLower(v[:3]) + v[3:], 200},
			{"among others", "a=1; connect.sid=" + v + "; b=2", 200},
			{"first wins: unknown first", "connect.sid=" + bogus + "; connect.sid=" + v, 401},
			{"first wins: valid first", "connect.sid=" + v + "; connect.sid=" + bogus, 200},
			{"unsigned ID", "connect.sid=" + strings.TrimPrefix(decoded[:strings.LastIndexByte(decoded, '.')], "s:"), 401},
			{"signature cut", "connect.sid=" + v[:len(v)-1], 401},
			{"bad escape", "connect.sid=" + v + "%E0%A4%A", 401},
			{"spaces around", "connect.sid= " + v + " ", 0},
			{"no space after ;", "a=1;connect.sid=" + v, 0},
		} {
			c := newBrowser(t)
			c.header = tc.header
			rn := c.do("GET", node+"/session", nil)
			rg := c.do("GET", goURL+"/session", nil)
			if rn.Status != rg.Status {
				t.Errorf("%s: node answers %d, go %d, to Cookie: %s", tc.name, rn.Status, rg.Status, tc.header)
			} else if tc.want != 0 && rn.Status != tc.want {
				t.Errorf("%s: both answer %d, want %d, to Cookie: %s", tc.name, rn.Status, tc.want, tc.header)
			}
		}
	})

	// Both sides send the same cookie: the value is express's signature of
	// the ID, and the attributes match.
	t.Run("same-cookie", func(t *testing.T) {
		bn, bg := newBrowser(t), newBrowser(t)
		rn := bn.must(200, "POST", node+"/login?user=heidi", nil)
		rg := bg.must(200, "POST", goURL+"/login?user=heidi", nil)
		for _, c := range []struct {
			side string
			b    *browser
			r    response
		}{{"node", bn, rn}, {"go", bg, rg}} {
			id, ok := c.b.cookieID(secretNew)
			if !ok {
				t.Fatalf("%s: cookie %q does not verify", c.side, c.b.cookie)
			}
			if want := middleware.Sign(id, secretNew); c.b.cookie != want {
				t.Errorf("%s: cookie value %q, want middleware.Sign's %q", c.side, c.b.cookie, want)
			}
		}
		t.Logf("node Set-Cookie %s", fmtCookies(rn.SetCookie))
		t.Logf("  go Set-Cookie %s", fmtCookies(rg.SetCookie))
		if n, g := cookieAttrs(t, rn.SetCookie), cookieAttrs(t, rg.SetCookie); n != g {
			t.Errorf("Set-Cookie attributes differ (values and dates masked):\nnode %s\n  go %s", n, g)
		}
	})
}

// first returns its first argument, for reading one result of a call.
func first[A, B any](a A, _ B) A { return a }

// roundTrip gives v the shape GET /session answers: JSON numbers as float64.
func roundTrip(v map[string]any) map[string]any {
	data, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// typedBody is what the Go app's GET /typed answers.
type typedBody struct {
	UserID  int      `json:"userId"`
	User    profile  `json:"user"`
	Roles   []string `json:"roles"`
	Created int64    `json:"created"`
}

func typed(t *testing.T, b *browser, goURL string) typedBody {
	t.Helper()
	r := b.must(200, "GET", goURL+"/typed", nil)
	var out typedBody
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("GET /typed: %v: %s", err, r.Body)
	}
	return out
}

// checkTyped checks that Go reads the login values into Go types.
func checkTyped(t *testing.T, b *browser, goURL, user string) {
	t.Helper()
	got := typed(t, b, goURL)
	want := typedBody{UserID: loginUserID, User: loginProfile(user), Roles: loginRoles, Created: got.Created}
	if !jsonEqual(got, want) {
		t.Errorf("typed read:\n got %+v\nwant %+v", got, want)
	}
}

var (
	reMaxAge  = regexp.MustCompile(`"originalMaxAge":[0-9]+`)
	reExpires = regexp.MustCompile(`"expires":"[^"]*"`)
	reMeta    = regexp.MustCompile(`"__sessionkit":\{[^{}]*\},?`)
)

// normalizeDoc masks what legitimately differs between two logins.
func normalizeDoc(doc string) string {
	doc = reMaxAge.ReplaceAllString(doc, `"originalMaxAge":N`)
	doc = reExpires.ReplaceAllString(doc, `"expires":"T"`)
	return reMeta.ReplaceAllString(doc, "")
}

// cookieAttrs renders the attributes of the one connect.sid Set-Cookie line,
// with the value and dates masked.
func cookieAttrs(t *testing.T, lines []string) string {
	t.Helper()
	if len(lines) != 1 {
		t.Fatalf("want one connect.sid Set-Cookie, got %s", fmtCookies(lines))
	}
	c, err := parseSetCookie(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	reCookieValue = regexp.MustCompile(`^connect\.sid=[^;]*`)
	reCookieDate  = regexp.MustCompile(`(?i)(Expires=)[^;]*`)
	reCookieAge   = regexp.MustCompile(`(?i)(Max-Age=)[0-9]+`)
)

func parseSetCookie(line string) (string, error) {
	if !reCookieValue.MatchString(line) {
		return "", fmt.Errorf("not a connect.sid cookie: %q", line)
	}
	line = reCookieValue.ReplaceAllString(line, "connect.sid=V")
	line = reCookieDate.ReplaceAllString(line, "${1}D")
	return reCookieAge.ReplaceAllString(line, "${1}N"), nil
}

// TestPostgresExpiry checks that Go and Node decide a session's end the same
// way, to the second, whatever TimeZone the connections run with: both write
// expire as to_timestamp(ceil(ms/1000)) and compare it with
// to_timestamp(ceil(now ms/1000)), so the timestamp without time zone means
// the same instant to both as long as both sides use the same TimeZone.
func TestPostgresExpiry(t *testing.T) {
	for _, tz := range []string{"UTC", "America/Los_Angeles", "Asia/Tokyo"} {
		t.Run(tz, func(t *testing.T) {
			t.Parallel()
			// Short enough to keep the suite quick, long enough for the
			// probes to land before the deadline on a busy machine.
			const maxAge = 2500 * time.Millisecond
			e := newPGEnv(t, tz)
			// Reads must not push the expiry out: Node without store
			// touches, Go with a touch interval longer than the session.
			pending := e.node(t, maxAge, []string{secretNew}, map[string]string{"DISABLE_TOUCH": "1"})
			goURL := e.goApp(t, maxAge, time.Hour, secretNew).URL
			node := pending.wait().URL
			checkTimeZone(t, e, node)
			for attempt := 1; !expiryRound(t, e, node, goURL); attempt++ {
				if attempt == 3 {
					t.Fatalf("three rounds in a row, the probes before the deadline finished after it; the machine is too busy to decide")
				}
			}
		})
	}
}

// checkTimeZone checks that both sides' connections run with e.tz, so that
// the test is not vacuous.
func checkTimeZone(t *testing.T, e *pgEnv, node string) {
	t.Helper()
	var goTZ string
	if err := e.pool.QueryRow(context.Background(), "SELECT current_setting('TimeZone')").Scan(&goTZ); err != nil {
		t.Fatal(err)
	}
	var nodeTZ struct{ Timezone string }
	r := newBrowser(t).must(200, "GET", node+"/debug/timezone", nil)
	if err := json.Unmarshal(r.Body, &nodeTZ); err != nil {
		t.Fatal(err)
	}
	if goTZ != e.tz || nodeTZ.Timezone != e.tz {
		t.Fatalf("connection TimeZone: go %q, node %q; want both %q", goTZ, nodeTZ.Timezone, e.tz)
	}
}

// expiryRound logs in on each side and probes both sessions from both sides
// just before and just after their expiry. It returns false when the probes
// before the deadline finished too late to prove anything.
func expiryRound(t *testing.T, e *pgEnv, node, goURL string) bool {
	t.Helper()
	type row struct {
		side   string
		b      *browser
		id     string
		expire int64 // Unix seconds, as stored
	}
	rows := []*row{{side: "node", b: newBrowser(t)}, {side: "go", b: newBrowser(t)}}
	rows[0].id = rows[0].b.login(node, "ivan")
	rows[1].id = rows[1].b.login(goURL, "judy")
	first, last := int64(math.MaxInt64), int64(0)
	for _, r := range rows {
		doc, exp := e.mustRow(t, r.id)
		if want := cookieExpiry(t, doc); exp != want {
			t.Fatalf("%s stored expire %d (%s) under TimeZone %s, want ceil(cookie.expires) = %d, %+d s off",
				r.side, exp, time.Unix(exp, 0).UTC(), e.tz, want, exp-want)
		}
		_, goExp, found, err := e.store.Load(context.Background(), r.id)
		if err != nil || !found || goExp.Unix() != exp {
			t.Fatalf("store.Load of the %s-written row: expiry %v found=%v err=%v, want %s", r.side, goExp, found, err, time.Unix(exp, 0).UTC())
		}
		r.expire = exp
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

	deadline := time.UnixMilli(first * 1000)
	time.Sleep(time.Until(deadline.Add(-700 * time.Millisecond)))
	before := probe("before expiry")
	if time.Now().After(deadline) {
		t.Logf("probes before expiry ended %v after the deadline; retrying", time.Since(deadline))
		return false
	}
	for what, alive := range before {
		if !alive {
			t.Errorf("just before expiry (%s, TimeZone %s): %s session is already gone", deadline.UTC().Format(time.RFC3339), e.tz, what)
		}
	}

	// 300 ms after the whole second: a "now" rounded down instead of up
	// would still see the session alive here.
	time.Sleep(time.Until(time.UnixMilli(last*1000 + 300)))
	for what, alive := range probe("after expiry") {
		if alive {
			t.Errorf("just after expiry (%s, TimeZone %s): %s session is still alive", time.Unix(last, 0).UTC().Format(time.RFC3339), e.tz, what)
		}
	}
	return true
}

// TestPostgresSecretRotation rotates the signing secret on both sides at
// once ([new, old]): cookies signed with the old secret still work on both,
// and every cookie either side sends from then on is signed with the new one.
func TestPostgresSecretRotation(t *testing.T) {
	e := newPGEnv(t, "")
	oldNodeP := e.node(t, time.Hour, []string{secretOld}, nil)
	newNodeP := e.node(t, time.Hour, []string{secretNew, secretOld}, nil)
	oldGo := e.goApp(t, time.Hour, 0, secretOld).URL
	newGo := e.goApp(t, time.Hour, 0, secretNew, secretOld).URL
	oldNode, newNode := oldNodeP.wait().URL, newNodeP.wait().URL
	rotated := []struct{ side, url string }{{"node", newNode}, {"go", newGo}}

	// signedWith checks that b's cookie carries id and is signed with
	// secret, exactly as express-session signs.
	signedWith := func(t *testing.T, b *browser, id, secret, what string) {
		t.Helper()
		if want := middleware.Sign(id, secret); b.cookie != want {
			t.Errorf("%s: cookie %q, want %q (signed with the %s secret)", what, b.cookie, want, map[string]string{secretOld: "old", secretNew: "new"}[secret])
		}
	}

	for _, origin := range []struct{ side, url string }{{"node", oldNode}, {"go", oldGo}} {
		t.Run("old-cookie-from-"+origin.side, func(t *testing.T) {
			b := newBrowser(t)
			id := b.login(origin.url, "kim")
			signedWith(t, b, id, secretOld, "login before rotation")
			for _, app := range rotated {
				got := b.session(app.url)
				if got.SessionID != id {
					t.Errorf("%s after rotation: sessionID %q, want %q", app.side, got.SessionID, id)
				}
				checkValues(t, app.side, got.Session, expectedLogin("kim"))
			}
			// A change re-sends the cookie, signed with the new secret.
			for i, app := range rotated {
				c := b.with()
				c.must(200, "POST", app.url+"/set", map[string]any{"n": i})
				signedWith(t, c, id, secretNew, app.side+" re-sending an old cookie")
			}
		})
	}

	for _, origin := range rotated {
		t.Run("new-cookie-from-"+origin.side, func(t *testing.T) {
			b := newBrowser(t)
			id := b.login(origin.url, "lee")
			signedWith(t, b, id, secretNew, origin.side+" login after rotation")
			for _, app := range rotated {
				if got := b.session(app.url); got.SessionID != id {
					t.Errorf("%s: sessionID %q, want %q", app.side, got.SessionID, id)
				}
			}
			// Apps that know only the old secret refuse it.
			for _, app := range []struct{ side, url string }{{"node", oldNode}, {"go", oldGo}} {
				if r := b.do("GET", app.url+"/session", nil); r.Status != 401 {
					t.Errorf("%s with only the old secret accepted a cookie signed with the new one: status %d", app.side, r.Status)
				}
			}
		})
	}

	t.Run("unknown-secret-refused", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(newNode, "mia")
		b.cookie = middleware.Sign(id, "interop-unknown-secret-000000000000")
		for _, app := range rotated {
			if r := b.do("GET", app.url+"/session", nil); r.Status != 401 {
				t.Errorf("%s accepted a cookie signed with a secret it does not have: status %d", app.side, r.Status)
			}
		}
	})
}

// TestPostgresOddIDs shares sessions whose IDs a Node app made up with
// characters that are not base64url (a custom genid): dots, '+', '/', '=',
// a space, non-ASCII, the characters encodeURIComponent keeps but
// url.QueryEscape escapes, '%', ';' and ','. Go must accept and keep them,
// and each side must read the cookie the other encodes.
func TestPostgresOddIDs(t *testing.T) {
	e := newPGEnv(t, "")
	pending := e.node(t, time.Hour, []string{secretNew}, map[string]string{"GENID": "odd"})
	goURL := e.goApp(t, time.Hour, 0, secretNew).URL
	node := pending.wait().URL

	b := newBrowser(t)
	id := b.login(node, "olga")
	if !strings.HasPrefix(id, "odd.+/= \u00e9!*'()~%;,") {
		t.Fatalf("server.js GENID=odd made %q", id)
	}
	nodeCookie := b.cookie
	if got, ok := b.cookieID(secretNew); !ok || got != id {
		t.Fatalf("Verify of node's cookie %q: %q (ok=%v), want %q", nodeCookie, got, ok, id)
	}
	if got := b.session(goURL); got.SessionID != id {
		t.Fatalf("go: sessionID %q, want %q", got.SessionID, id)
	}
	checkTyped(t, b, goURL, "olga")

	// A change makes Go send the cookie again, in its own encoding.
	b.must(200, "POST", goURL+"/set", map[string]any{"theme": "light"})
	if b.cookie != nodeCookie {
		t.Logf("the two sides encode the same signed ID differently (both decode to the same):\nnode %s\n  go %s", nodeCookie, b.cookie)
	}
	got := b.session(node)
	if got.SessionID != id || got.Session["theme"] != "light" {
		t.Fatalf("node with go's cookie: sessionID %q theme %v, want %q and light", got.SessionID, got.Session["theme"], id)
	}
	if _, _, found := e.row(t, id); !found {
		t.Fatalf("no row under the odd ID")
	}

	// Renewing on Go gives a Go ID, which Node accepts.
	old := b.with()
	b.must(200, "POST", goURL+"/renew", nil)
	newID, _ := b.cookieID(secretNew)
	if got := b.session(node); got.SessionID != newID || newID == id {
		t.Fatalf("node after go renewed: sessionID %q, want the new %q", got.SessionID, newID)
	}
	if r := old.do("GET", node+"/session", nil); r.Status != 401 {
		t.Errorf("node still accepts the odd ID renewed away: status %d", r.Status)
	}
}

// TestPostgresNodeCookieLifetimes reads sessions whose cookie lifetime Node
// chose per session: a browser-session cookie (maxAge null, stored as
// "originalMaxAge":null,"expires":null) and a "remember me" session given a
// longer maxAge than the app's default. Go reads both, and its reads never
// shorten the longer expiry Node stored. A Go save keeps the session's own
// lifetime, as express-session does: the browser-session cookie stays one
// (no Expires, "originalMaxAge":null), and the remembered session keeps its
// originalMaxAge, bounded only by Go's absolute timeout.
func TestPostgresNodeCookieLifetimes(t *testing.T) {
	e := newPGEnv(t, "")
	browserP := e.node(t, time.Hour, []string{secretNew}, map[string]string{"COOKIE_MAX_AGE": "session"})
	nodeP := e.node(t, time.Hour, []string{secretNew}, nil)
	goURL := e.goApp(t, time.Hour, 0, secretNew).URL
	browserNode, node := browserP.wait().URL, nodeP.wait().URL

	t.Run("browser-session", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(browserNode, "pat")
		doc, exp := e.mustRow(t, id)
		if !strings.Contains(doc, `"originalMaxAge":null,"expires":null`) {
			t.Fatalf("node stored %s, want a browser-session cookie", doc)
		}
		r := b.must(200, "GET", goURL+"/session", nil)
		var got sessionBody
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		checkValues(t, "go", got.Session, expectedLogin("pat"))
		checkTyped(t, b, goURL, "pat")
		if len(r.SetCookie) != 0 {
			t.Errorf("go set a cookie reading a browser-session session: %s", fmtCookies(r.SetCookie))
		}
		if _, after := e.mustRow(t, id); after != exp {
			t.Errorf("a Go read moved the expire of a browser-session session from %d to %d", exp, after)
		}
		r = b.must(200, "POST", goURL+"/set", map[string]any{"theme": "dark"})
		if len(r.SetCookie) != 1 || strings.Contains(r.SetCookie[0], "Expires=") || strings.Contains(r.SetCookie[0], "Max-Age=") {
			t.Errorf("a Go save of a browser-session session set %s; want one cookie without Expires", fmtCookies(r.SetCookie))
		}
		if doc, _ := e.mustRow(t, id); !strings.Contains(doc, `"originalMaxAge":null,"expires":null`) || !strings.Contains(doc, `"theme":"dark"`) {
			t.Errorf("after a Go save the row is %s; want the change and a browser-session cookie still", doc)
		}
	})

	t.Run("remember-me", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(node, "quinn")
		const month = 30 * 24 * time.Hour
		b.must(200, "POST", node+"/remember?ms="+strconv.FormatInt(month.Milliseconds(), 10), nil)
		_, exp := e.mustRow(t, id)
		if time.Until(time.Unix(exp, 0)) < month-time.Hour {
			t.Fatalf("node stored expire %s, want about a month ahead", time.Unix(exp, 0).UTC())
		}
		r := b.must(200, "GET", goURL+"/session", nil)
		if len(r.SetCookie) != 0 {
			t.Errorf("go set a cookie on a read: %s", fmtCookies(r.SetCookie))
		}
		if _, after := e.mustRow(t, id); after != exp {
			t.Errorf("a Go read moved a remembered session's expire from %s to %s",
				time.Unix(exp, 0).UTC(), time.Unix(after, 0).UTC())
		}
		b.must(200, "POST", goURL+"/set", map[string]any{"theme": "dark"})
		doc, after := e.mustRow(t, id)
		if want := strconv.FormatInt(month.Milliseconds(), 10); !strings.Contains(doc, `"originalMaxAge":`+want) {
			t.Errorf("after a Go save the row is %s; want originalMaxAge %s kept", doc, want)
		}
		// Go's default absolute timeout (7 days) bounds what Node gave a month.
		if left := time.Until(time.Unix(after, 0)); left < 7*24*time.Hour-time.Hour || left > 7*24*time.Hour+time.Minute {
			t.Errorf("after a Go save the remembered session expires in %v; want the 7-day absolute timeout", left)
		}
	})
}

// TestPostgresRevokeUser ends every session of a user from Go, including the
// ones the Node app created: the store finds them through sess itself. The
// store's UserKey must name the same key as the Manager's.
func TestPostgresRevokeUser(t *testing.T) {
	e := newPGEnvOptions(t, "", pgstore.Options{UserKey: "userId"})
	pending := e.node(t, time.Hour, []string{secretNew}, nil)
	srv, m := goAppManager(t, session.Config{Store: e.store, IdleTimeout: time.Hour, UserKey: "userId"}, secretNew)
	revokeScenario(t, pending.wait().URL, srv.URL, m, true)
}

// TestPostgresAbsoluteDeadline checks Go's absolute timeout on a session
// Node also serves. express-session knows nothing of the deadline Go keeps in
// "__sessionkit": a Node read touches the row to now + cookie.originalMaxAge,
// past the deadline. What holds is that Go refuses the session once past its
// deadline, and from then on Node does too.
func TestPostgresAbsoluteDeadline(t *testing.T) {
	const abs = 2500 * time.Millisecond
	e := newPGEnv(t, "")
	pending := e.node(t, time.Hour, []string{secretNew}, nil)
	goURL := goApp(t, session.Config{Store: e.store, IdleTimeout: time.Hour, AbsoluteTimeout: abs}, secretNew).URL
	node := pending.wait().URL

	b := newBrowser(t)
	id := b.login(goURL, "uma")
	doc, exp := e.mustRow(t, id)
	var meta struct {
		Meta struct {
			Deadline int64 `json:"deadline"`
		} `json:"__sessionkit"`
	}
	if err := json.Unmarshal([]byte(doc), &meta); err != nil || meta.Meta.Deadline == 0 {
		t.Fatalf("no deadline in the stored document (%v): %s", err, doc)
	}
	deadline := time.UnixMilli(meta.Meta.Deadline)
	if want := int64(math.Ceil(float64(meta.Meta.Deadline) / 1000)); exp != want {
		t.Errorf("expire %d, want the deadline rounded up, %d: Go caps the idle expiry at the deadline", exp, want)
	}

	// Node keeps serving and extending it, deadline or not.
	time.Sleep(time.Until(deadline.Add(-time.Second)))
	b.must(200, "GET", node+"/session", nil)
	time.Sleep(time.Until(deadline.Add(500 * time.Millisecond)))
	if r := b.do("GET", node+"/session", nil); r.Status == 200 {
		_, exp := e.mustRow(t, id)
		t.Logf("known difference: node serves the session past Go's absolute deadline (expire now %s)", time.Unix(exp, 0).UTC())
	}
	if r := b.do("GET", goURL+"/session", nil); r.Status != 401 {
		t.Fatalf("go serves the session past its absolute deadline: status %d", r.Status)
	}
	if r := b.do("GET", node+"/session", nil); r.Status != 401 {
		t.Errorf("node still serves the session after Go refused it past its deadline: status %d", r.Status)
	}
	if _, _, found := e.row(t, id); found {
		t.Errorf("the row is still stored after Go refused it past its deadline")
	}
}
