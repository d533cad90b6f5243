// Command quickstart is the README's Quick start: a visit counter kept in a
// session. Run it with SESSION_SECRET set to at least 32 random bytes:
//
//	SESSION_SECRET=$(openssl rand -hex 32) go run ./examples/quickstart
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func main() {
	mgr, err := session.New(session.Config{Store: memstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{os.Getenv("SESSION_SECRET")}})
	if err != nil {
		log.Fatalf("set SESSION_SECRET to at least 32 random bytes (openssl rand -hex 32): %v", err)
	}
	log.Print("listening on http://127.0.0.1:8080")
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mw.Handler(http.HandlerFunc(visits))))
}

// visits counts the requests of one browser.
func visits(w http.ResponseWriter, r *http.Request) {
	s := middleware.Get(r)
	n, err := session.GetOr(s, "visits", 0)
	if err == nil {
		err = s.Put("visits", n+1)
	}
	if err != nil {
		http.Error(w, "sessions are unavailable", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "visit %d\n", n+1)
}
