// Command echo serves a visit counter kept in a session, on an Echo
// server, through the adapter in adapters/echosession.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/sessionkit/adapters/echosession"
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
	log.Fatal(newServer(mw).Start("127.0.0.1:8080"))
}

func newMiddleware(secret string) (*middleware.Middleware, error) {
	mgr, err := session.New(session.Config{Store: memstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		return nil, err
	}
	return middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
}

func newServer(mw *middleware.Middleware) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
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
		return c.String(http.StatusOK, fmt.Sprintf("visits: %d\n", n+1))
	})
	return e
}
