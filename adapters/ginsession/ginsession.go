// Package ginsession adapts the sessionkit middleware to gin: New returns
// gin middleware that gives every request its session, committed before
// the response's first byte, and Get returns it to a handler.
//
//	r := gin.New()
//	r.Use(gin.Recovery(), ginsession.New(mw))
//	r.GET("/", func(c *gin.Context) {
//		s := ginsession.Get(c)
//		…
//	})
//
// gin handlers write through gin's own ResponseWriter, so New runs the rest
// of the chain inside the middleware's Handler, with c.Request carrying the
// session and c.Writer writing through the middleware. A handler that
// panics commits no session; a recovery middleware put before New still
// answers.
package ginsession

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// New returns gin middleware that runs the handlers after it inside mw.
func New(mw *middleware.Middleware) gin.HandlerFunc {
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

// Get returns the request's session, or nil when no New middleware ran for
// c. With several session middlewares, it returns the one nearest the
// handler; each Middleware's own Get (mw.Get(c.Request)) reaches the
// others.
func Get(c *gin.Context) *session.Session { return middleware.Get(c.Request) }

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
