package echosession_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/sessionkit/adapters/echosession"
	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func Example() {
	store := memstore.New()
	defer store.Close()
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	secret := rand.Text() + rand.Text() // in production: os.Getenv("SESSION_SECRET")
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
	if err != nil {
		log.Fatal(err)
	}

	e := echo.New()
	e.Use(echosession.New(mw))
	e.GET("/", func(c echo.Context) error {
		s := echosession.Get(c)
		n, err := session.GetOr(s, "visits", 0)
		if err == nil {
			err = s.Put("visits", n+1)
		}
		if err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "session unavailable")
		}
		return c.String(http.StatusOK, fmt.Sprintf("visit %d", n+1))
	})

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Body.String(), w.Result().Cookies()[0].Name)
	// Output: visit 1 session
}
