// Command gin serves a visit counter kept in a session, on a gin engine.
//
// gin handlers write through gin's own ResponseWriter, so Sessions adapts
// the net/http middleware: it runs the rest of the chain inside the
// middleware's handler, with c.Request carrying the session and c.Writer
// writing through the middleware, which commits the session before the
// response's first byte. (Wrapping the whole engine, mw.Handler(engine),
// works too, for every route at once.)
package main

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

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
	r.Use(gin.Recovery(), Sessions(mw))
	r.GET("/", func(c *gin.Context) {
		s := middleware.Get(c.Request)
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

// Sessions returns gin middleware that runs the handlers after it inside
// mw, so that middleware.Get(c.Request) returns the request's session.
func Sessions(mw *middleware.Middleware) gin.HandlerFunc {
	return func(c *gin.Context) {
		orig := c.Writer
		mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Restored on the way out, even by a panic, so that gin's
			// Recovery writes past the middleware: a panicking request
			// commits no session.
			defer func() { c.Writer = orig }()
			c.Request = r
			c.Writer = &writer{ResponseWriter: orig, mw: w}
			c.Next()
		})).ServeHTTP(orig, c.Request)
	}
}

// writer is the gin.ResponseWriter handlers see: what they write goes
// through the middleware's writer (which commits the session, then writes
// to gin's own writer underneath), and gin's bookkeeping of status and size
// is read from gin's writer.
type writer struct {
	gin.ResponseWriter                     // gin's writer
	mw                 http.ResponseWriter // the middleware's writer, wrapping gin's
}

func (w *writer) Header() http.Header         { return w.mw.Header() }
func (w *writer) WriteHeader(code int)        { w.mw.WriteHeader(code) }
func (w *writer) Write(b []byte) (int, error) { return w.mw.Write(b) }

func (w *writer) WriteString(s string) (int, error) { return io.WriteString(w.mw, s) }

// WriteHeaderNow sends the status gin recorded, through the middleware.
func (w *writer) WriteHeaderNow() {
	if !w.Written() {
		w.mw.WriteHeader(w.Status())
		w.ResponseWriter.WriteHeaderNow()
	}
}

func (w *writer) Flush() { _ = http.NewResponseController(w.mw).Flush() }

func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.mw).Hijack()
}

var _ gin.ResponseWriter = (*writer)(nil)
