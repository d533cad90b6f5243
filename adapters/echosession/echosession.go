// Package echosession adapts the sessionkit middleware to Echo v4: New
// returns Echo middleware that gives every request its session, committed
// before the response's first byte, and Get returns it to a handler.
//
//	e := echo.New()
//	e.Use(middleware.Recover(), echosession.New(mw))
//	e.GET("/", func(c echo.Context) error {
//		s := echosession.Get(c)
//		…
//	})
//
// An error a handler returns is passed to c.Error inside the middleware, as
// Echo's RequestLogger does with HandleError, so the error response is
// written after the session is committed and carries its cookie; the error
// is still returned for the middlewares outside, and Echo's default error
// handler ignores it once the response is committed. A handler that panics
// commits no session; a Recover put before New still answers. For Echo v5,
// see package echo5session.
package echosession

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// New returns Echo middleware that runs the handlers after it inside mw.
func New(mw *middleware.Middleware) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			res := c.Response()
			orig := res.Writer
			mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Echo's Response stays (its status, size and hooks are what
				// the middlewares outside read); only what it writes to goes
				// through the session middleware, until the way out, even by
				// a panic.
				defer func() { res.Writer = orig }()
				res.Writer = w
				c.SetRequest(r)
				if err = next(c); err != nil {
					c.Error(err)
				}
			})).ServeHTTP(orig, c.Request())
			return err
		}
	}
}

// Get returns the request's session, or nil when no New middleware ran for
// c. With several session middlewares, it returns the one nearest the
// handler; each Middleware's own Get (mw.Get(c.Request())) reaches the
// others.
func Get(c echo.Context) *session.Session { return middleware.Get(c.Request()) }
