package middleware_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// secret stands for the application's secret: at least 32 random bytes kept
// outside the source, such as os.Getenv("SESSION_SECRET"). A fresh random one
// here makes every run's cookies unreadable to the next.
var secret = rand.Text() + rand.Text()

func ExampleNew() {
	store := memstore.New()
	defer store.Close()
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
	if err != nil {
		log.Fatal(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		n, err := session.GetOr(s, "visits", 0)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := s.Put("visits", n+1); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visit %d", n+1)
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Body.String(), len(w.Result().Cookies()))
	// Output: visit 1 1
}

func ExampleSign() {
	fmt.Println(middleware.Sign("abc", "keyboard cat"))
	id, ok := middleware.Verify("s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU", []string{"keyboard cat"})
	fmt.Println(id, ok)
	// Output:
	// s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU
	// abc true
}
