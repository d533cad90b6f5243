package adaptertest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	"github.com/sessionkit/sessionkit/middleware"
)

// TestNetHTTP runs the suite on plain net/http, the behaviour every adapter
// must match: mw.Handler around a ServeMux, with a recovery outside it.
func TestNetHTTP(t *testing.T) {
	adaptertest.Run(t, adaptertest.Harness{
		Start: func(t *testing.T, mw *middleware.Middleware, routes []adaptertest.Route) string {
			mux := http.NewServeMux()
			for _, rt := range routes {
				mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
					rep := rt.Handle(middleware.Get(r))
					switch {
					case rep.Panic:
						panic("boom")
					case rep.Err:
						http.Error(w, "failed", rep.Status)
					default:
						w.WriteHeader(rep.Status)
						io.WriteString(w, rep.Body)
					}
					if rep.After != nil {
						rep.After()
					}
				})
			}
			h := mw.Handler(mux)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() {
					if v := recover(); v != nil {
						http.Error(w, fmt.Sprint(v), http.StatusInternalServerError)
					}
				}()
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		},
	})
}
