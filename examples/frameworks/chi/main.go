// Command chi serves a visit counter kept in a session, on a chi router.
// chi middleware is net/http middleware, so the session middleware plugs in
// with Use.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func main() {
	// SESSION_SECRET must hold at least 32 random bytes: openssl rand -hex 32.
	mw, err := newMiddleware(os.Getenv("SESSION_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", newRouter(mw)))
}

func newMiddleware(secret string) (*middleware.Middleware, error) {
	mgr, err := session.New(session.Config{Store: memstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		return nil, err
	}
	return middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
}

func newRouter(mw *middleware.Middleware) http.Handler {
	r := chi.NewRouter()
	r.Use(mw.Handler)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		n, err := session.GetOr(s, "visits", 0)
		if err == nil {
			err = s.Put("visits", n+1)
		}
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visits: %d\n", n+1)
	})
	return r
}
