// Command gin serves a visit counter kept in a session, on a gin engine,
// through the adapter in adapters/ginsession.
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/adapters/ginsession"
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
	log.Fatal(newEngine(mw).Run("127.0.0.1:8080"))
}

func newMiddleware(secret string) (*middleware.Middleware, error) {
	mgr, err := session.New(session.Config{Store: memstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		return nil, err
	}
	return middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
}

func newEngine(mw *middleware.Middleware) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery(), ginsession.New(mw))
	r.GET("/", func(c *gin.Context) {
		s := ginsession.Get(c)
		n, err := session.GetOr(s, "visits", 0)
		if err == nil {
			err = s.Put("visits", n+1)
		}
		if err != nil {
			c.String(http.StatusServiceUnavailable, "session unavailable")
			return
		}
		c.String(http.StatusOK, "visits: %d\n", n+1)
	})
	return r
}
