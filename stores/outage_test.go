package stores_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
)

const outageSecret = "outage-test-secret-0123456789abcdef"

// outageCounts is what the clients saw during a restart.
type outageCounts struct {
	ok, unavailable, other, false200 int
	otherBodies                      map[string]int
}

// TestRestartIsAnsweredWith503 restarts a PostgreSQL, a Redis and a MariaDB of the
// test's own under a server whose handler has the README's shape (it ignores
// the error of Put) while clients keep counting visits. Every request that
// fails must be a 503, which a load balancer retries; none may be a 200 that
// saved nothing; and every visit acknowledged with a 200 must be in the store
// afterwards.
func TestRestartIsAnsweredWith503(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts servers")
	}
	for _, tc := range []struct {
		name    string
		start   func(t *testing.T) (rawURL string, restart func())
		clients int
	}{
		{"postgres", func(t *testing.T) (string, func()) {
			srv := pgtest.StartServer(t)
			return srv.URL() + "&create_table=true&prune_interval=off", func() {
				srv.Stop("fast") // every connection gets an admin shutdown (57P01)
				time.Sleep(500 * time.Millisecond)
				srv.Start() // the first connections meet "starting up" (57P03)
			}
		}, 8},
		{"redis", func(t *testing.T) (string, func()) {
			srv := redistest.StartServer(t)
			// Enough other data that loading it takes a moment, during which
			// Redis answers LOADING.
			c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			defer c.Close()
			val := strings.Repeat("x", 200)
			for i := 0; i < 400_000; i += 10_000 {
				_, err := c.Pipelined(context.Background(), func(p redis.Pipeliner) error {
					for j := i; j < i+10_000; j++ {
						p.Set(context.Background(), "filler:"+strconv.Itoa(j), val, 0)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			return srv.URL(), func() {
				srv.Stop()
				time.Sleep(500 * time.Millisecond)
				srv.Start()
			}
		}, 8},
		{"mysql", func(t *testing.T) (string, func()) {
			srv := mysqltest.StartServer(t)
			return srv.URL() + "?create_table=true&prune_interval=off", func() {
				srv.Stop() // connections in use get "server shutdown in progress" (1053) or are closed
				time.Sleep(500 * time.Millisecond)
				srv.Start()
			}
		}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rawURL, restart := tc.start(t)
			ctx := context.Background()
			st, err := stores.Open(ctx, rawURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if c, ok := st.(io.Closer); ok {
					c.Close()
				}
			})
			mw, err := express.New(session.Config{Store: st, Logger: slog.New(slog.DiscardHandler)}, outageSecret)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := middleware.Get(r)
				n, _ := session.GetOr(s, "visits", 0)
				s.Put("visits", n+1)
				fmt.Fprintf(w, "visit %d\n", n+1)
			})))
			defer ts.Close()

			var (
				mu     sync.Mutex
				counts = outageCounts{otherBodies: map[string]int{}}
				stop   = make(chan struct{})
				wg     sync.WaitGroup
				acked  = make([]int, tc.clients)
				jars   = make([]http.CookieJar, tc.clients)
			)
			for i := range tc.clients {
				jar, _ := cookiejar.New(nil)
				jars[i] = jar
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
					for {
						select {
						case <-stop:
							return
						default:
						}
						resp, err := c.Get(ts.URL)
						if err != nil {
							t.Errorf("client %d: %v", i, err)
							return
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						mu.Lock()
						switch resp.StatusCode {
						case http.StatusOK:
							counts.ok++
							n, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(string(body)), "visit "))
							if n <= acked[i] {
								// The handler did not see the visit it acknowledged.
								counts.false200++
							} else {
								acked[i] = n
							}
						case http.StatusServiceUnavailable:
							counts.unavailable++
						default:
							counts.other++
							counts.otherBodies[fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))]++
						}
						mu.Unlock()
						time.Sleep(time.Millisecond)
					}
				}()
			}
			time.Sleep(300 * time.Millisecond)
			began := time.Now()
			restart()
			t.Logf("server back %v after the restart began", time.Since(began).Round(time.Millisecond))
			time.Sleep(time.Second)
			close(stop)
			wg.Wait()

			// Every acknowledged visit is stored.
			lost := 0
			u, _ := url.Parse(ts.URL)
			for i, jar := range jars {
				var id string
				for _, ck := range jar.Cookies(u) {
					if v, ok := middleware.Verify(ck.Value, []string{outageSecret}); ok && ck.Name == express.CookieName {
						id = v
					}
				}
				if acked[i] == 0 {
					continue
				}
				data, _, found, err := st.Load(ctx, id)
				if err != nil || !found {
					t.Errorf("client %d: session %s: found %v, %v", i, session.LogID(id), found, err)
					lost++
					continue
				}
				var doc struct{ Visits int }
				if err := json.Unmarshal(data, &doc); err != nil || doc.Visits < acked[i] {
					t.Errorf("client %d: stored %d visits (%v), %d acknowledged", i, doc.Visits, err, acked[i])
					lost++
				}
			}
			t.Logf("%s restart: %d requests: 200 %d, 503 %d, other %d, false 200 %d; acknowledged saves lost %d",
				tc.name, counts.ok+counts.unavailable+counts.other, counts.ok, counts.unavailable, counts.other, counts.false200, lost)
			if counts.other > 0 || counts.false200 > 0 {
				t.Errorf("during the restart: %d answers neither 200 nor 503 %v, %d false 200s", counts.other, counts.otherBodies, counts.false200)
			}
			if counts.unavailable == 0 {
				t.Log("no request met the outage; the restart was too quick to observe")
			}
		})
	}
}
