// Package echo5session adapts the sessionkit middleware to Echo v5: New
// returns Echo middleware that gives every request its session, committed
// before the response's first byte, and Get returns it to a handler.
//
//	e := echo.New()
//	e.Use(middleware.Recover(), echo5session.New(mw))
//	e.GET("/", func(c *echo.Context) error {
//		s := echo5session.Get(c)
//		…
//	})
//
// An error a handler returns is passed to the Echo's HTTPErrorHandler
// inside the middleware, as Echo's RequestLogger does with HandleError, so
// the error response is written after the session is committed and carries
// its cookie; the error is still returned for the middlewares outside, and
// Echo's default error handler ignores it once the response is committed.
// A handler that panics commits no session. For Echo v4, see package
// echosession.
package echo5session

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// New returns Echo middleware that runs the handlers after it inside mw.
func New(mw *middleware.Middleware) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) (err error) {
			orig := c.Response()
			res, uerr := echo.UnwrapResponse(orig)
			mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if uerr == nil {
					// Echo's Response stays (its status, size and hooks
					// are what the middlewares outside read); only what it
					// writes to goes through the session middleware, until
					// the way out, even by a panic.
					inner := res.ResponseWriter
					defer func() { res.ResponseWriter = inner }()
					res.ResponseWriter = w
				} else {
					defer c.SetResponse(orig)
					c.SetResponse(echo.NewResponse(w, c.Logger()))
				}
				c.SetRequest(r)
				if err = next(c); err != nil {
					c.Echo().HTTPErrorHandler(c, err)
				}
			})).ServeHTTP(unwrapped(res, orig), c.Request())
			return err
		}
	}
}

// unwrapped is the writer the session middleware writes through: the one
// under Echo's Response when there is one.
func unwrapped(res *echo.Response, orig http.ResponseWriter) http.ResponseWriter {
	if res != nil {
		return res.ResponseWriter
	}
	return orig
}

// Get returns the request's session, or nil when no New middleware ran for
// c. With several session middlewares, it returns the one nearest the
// handler; each Middleware's own Get (mw.Get(c.Request())) reaches the
// others.
func Get(c *echo.Context) *session.Session { return middleware.Get(c.Request()) }
