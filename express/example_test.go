package express_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func ExampleNew() {
	store := memstore.New()
	defer store.Close()
	// The Express app's secrets, newest first (here a random one); its
	// cookies are "connect.sid" and its records the JSON express-session
	// writes.
	secret := rand.Text() + rand.Text()
	mw, err := express.New(session.Config{Store: store}, secret)
	if err != nil {
		log.Fatal(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.Get(r).SetUser("alice")
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
	c := w.Result().Cookies()[0]
	fmt.Println(c.Name, c.HttpOnly)
	// Output: connect.sid true
}
