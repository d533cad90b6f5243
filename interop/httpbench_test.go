package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// BenchmarkHTTPExpress compares whole HTTP requests per second: the Express
// app (express-session + connect-pg-simple, interop/node/server.js) and a Go
// app on the middleware and pgstore, on one PostgreSQL table, each driven
// by 32 connections from this process in turn (Go, Express, Go without the
// conditional saves, then in the reverse order; the best of each is kept). Each side has its own 256 sessions, logged in
// before the clock starts, and both pools hold 4 connections.
//
//   - read: GET /whoami reads the user from the session (nothing written).
//   - increment: POST /increment adds one to a counter in the session.
//
// After the increments it also counts what each side kept: the sum of the
// counters in the table against the increments answered 200. Go's must be
// equal (session.Update re-runs on the fresh value after a conflict);
// express-session's is reported, since its saves overwrite each other.
//
//	go test -run '^$' -bench HTTPExpress -benchtime 1x ./interop/
//
// SESSIONKIT_HTTP_BENCH_SECONDS sets each measurement's length (default 3).
func BenchmarkHTTPExpress(b *testing.B) {
	requireNode(b)
	ctx := context.Background()
	pool := pgtest.Pool(b, nil)
	schema := pgtest.Schema(b, pool)
	store, err := pgstore.New(ctx, pool, pgstore.Options{Schema: schema, CreateTable: true, PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	pending := launchNode(b, map[string]string{
		"STORE":          "pg",
		"DATABASE_URL":   pgtest.URL(),
		"PG_SCHEMA":      schema,
		"SECRETS":        secretsJSON(secretNew),
		"COOKIE_MAX_AGE": strconv.FormatInt(time.Hour.Milliseconds(), 10),
	})
	goURL := benchGoApp(b, store)
	// The same app with the capability hidden: the unconditional saves of
	// before the write model, for a before/after figure in one run.
	plainURL := benchGoApp(b, struct{ session.Store }{store})
	nodeURL := pending.wait().URL

	const conns, sessions = 32, 256
	dur := 3 * time.Second
	if v := os.Getenv("SESSIONKIT_HTTP_BENCH_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SESSIONKIT_HTTP_BENCH_SECONDS=%q: want a positive number of seconds", v)
		}
		dur = time.Duration(n) * time.Second
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 30 * time.Second}
	b.Cleanup(client.CloseIdleConnections)
	apps := []struct{ name, url string }{{"go", goURL}, {"express", nodeURL}, {"go-plain", plainURL}}
	cookies := map[string][]string{}
	for _, a := range apps {
		for i := range sessions {
			cookies[a.name] = append(cookies[a.name], benchLogin(b, client, a.url, fmt.Sprint("u", i)))
		}
	}

	best := map[string]float64{}
	answered := map[string]int64{}
	for _, op := range []struct{ name, method, path string }{{"read", "GET", "/whoami"}, {"increment", "POST", "/increment"}} {
		for round := range 2 {
			order := slices.Clone(apps)
			if round == 1 {
				slices.Reverse(order) // no app always runs right after another
			}
			for _, a := range order {
				n := drive(b, client, op.method, a.url+op.path, cookies[a.name], conns, dur)
				if op.name == "increment" {
					answered[a.name] += n
				}
				if rps := float64(n) / dur.Seconds(); rps > best[a.name+"/"+op.name] {
					best[a.name+"/"+op.name] = rps
				}
			}
		}
	}
	kept := map[string]int64{}
	for _, a := range apps {
		var sum int64
		err := pool.QueryRow(ctx, `SELECT coalesce(sum(("sess"->>'views')::bigint), 0) FROM `+store.Table()+
			` WHERE "sid" = ANY($1)`, sids(b, cookies[a.name])).Scan(&sum)
		if err != nil {
			b.Fatal(err)
		}
		kept[a.name] = sum
	}
	if kept["go"] != answered["go"] {
		b.Errorf("go: %d increments answered 200, %d kept in the table", answered["go"], kept["go"])
	}
	for _, op := range []string{"read", "increment"} {
		g, x := best["go/"+op], best["express/"+op]
		b.ReportMetric(g, "go-"+op+"-rps")
		b.ReportMetric(x, "express-"+op+"-rps")
		b.ReportMetric(g/x, op+"-x-express")
		b.ReportMetric(best["go-plain/"+op]/x, op+"-plain-x-express")
	}
	b.ReportMetric(float64(answered["express"]-kept["express"])/float64(answered["express"])*100, "express-lost-increments-%")
	b.ReportMetric(float64(answered["go"]-kept["go"])/float64(answered["go"])*100, "go-lost-increments-%")
	if rss, ok := rssKiB(pending.cmd.Process.Pid); ok {
		b.ReportMetric(float64(rss)/1024, "express-rss-MiB")
	}
	if rss, ok := rssKiB(os.Getpid()); ok {
		b.ReportMetric(float64(rss)/1024, "go-and-driver-rss-MiB")
	}
}

// benchGoApp serves the benchmark's routes through the express preset.
func benchGoApp(b *testing.B, store session.Store) string {
	mw, err := express.New(session.Config{Store: store}, secretNew)
	if err != nil {
		b.Fatal(err)
	}
	type user struct {
		Name string `json:"name"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		if err := s.Renew(); err != nil {
			httpError(w, err)
			return
		}
		if err := s.Put("user", user{Name: r.URL.Query().Get("user")}); err != nil {
			httpError(w, err)
			return
		}
		id, _ := s.ID()
		writeJSON(w, 200, map[string]any{"sessionID": id})
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u, err := session.Get[user](middleware.Get(r), "user")
		if err != nil {
			writeJSON(w, 401, map[string]any{"error": "no session"})
			return
		}
		writeJSON(w, 200, map[string]any{"name": u.Name})
	})
	mux.HandleFunc("POST /increment", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		if ok, err := s.Has("user"); err != nil || !ok {
			writeJSON(w, 401, map[string]any{"error": "no session"})
			return
		}
		if err := session.Update(s, "views", func(n int) int { return n + 1 }); err != nil {
			httpError(w, err)
			return
		}
		views, _ := session.Get[int](s, "views")
		writeJSON(w, 200, map[string]any{"views": views})
	})
	srv := httptest.NewServer(mw.Handler(mux))
	b.Cleanup(srv.Close)
	return srv.URL
}

// benchLogin logs user in at app and returns the connect.sid cookie value.
func benchLogin(b *testing.B, client *http.Client, app, user string) string {
	resp, err := client.Post(app+"/login?user="+user, "application/json", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == express.CookieName && resp.StatusCode == 200 {
			return c.Value
		}
	}
	b.Fatalf("POST %s/login: status %d, no cookie", app, resp.StatusCode)
	return ""
}

// drive sends requests over conns connections for d, each connection
// cycling through the sessions, and returns how many were answered 200.
func drive(b *testing.B, client *http.Client, method, url string, cookies []string, conns int, d time.Duration) int64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for w := range conns {
		wg.Go(func() {
			for i := w; time.Now().Before(end); i += conns {
				req, err := http.NewRequest(method, url, nil)
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Cookie", express.CookieName+"="+cookies[i%len(cookies)])
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("%s %s: status %d", method, url, resp.StatusCode)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load()
}

// sids returns the session IDs the signed cookie values name.
func sids(b *testing.B, cookies []string) []string {
	out := make([]string, 0, len(cookies))
	for _, c := range cookies {
		id, ok := middleware.Verify(c, []string{secretNew})
		if !ok {
			b.Fatalf("cookie %q does not verify", c)
		}
		out = append(out, id)
	}
	return out
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kib); err == nil {
				return kib, true
			}
		}
	}
	return 0, false
}
