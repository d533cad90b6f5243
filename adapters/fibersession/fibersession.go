// Package fibersession adapts the sessionkit middleware to Fiber v3: New
// returns a Fiber handler that gives every request its session, and Get
// returns it to a handler. Fiber runs on fasthttp, which holds the whole
// response until the handlers return, so the session is committed then,
// before anything is sent, and its cookie added to the response.
//
//	app := fiber.New()
//	app.Use(recover.New(), fibersession.New(mw))
//	app.Get("/", func(c fiber.Ctx) error {
//		s := fibersession.Get(c)
//		…
//	})
//
// A handler's error is left to Fiber's ErrorHandler, which writes its
// response after the commit; the session's headers stay on it. When the
// commit fails, the middleware's ErrorHandler answers instead of the
// handler, and the handler's error is dropped so that Fiber's ErrorHandler
// does not overwrite that answer. A handler that panics commits no session;
// a recover middleware put before New still answers.
//
// Since fasthttp sends the body only after the handlers return, a change
// made to the session after writing the body is still saved, unlike under
// net/http. A body streamed with SetBodyStreamWriter runs after the commit:
// changes made there fail with session.ErrCommitted.
package fibersession

import (
	"bytes"
	"net/http"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"

	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// New returns a Fiber handler that gives the handlers after it a session
// from mw and commits it when they return.
func New(mw *middleware.Middleware) fiber.Handler {
	return func(c fiber.Ctx) error {
		r, err := adaptor.ConvertRequest(c, false)
		if err != nil {
			return err
		}
		r, p := mw.Begin(r.WithContext(c.Context()))
		c.SetContext(r.Context())
		herr := c.Next()

		res := &c.Response().Header
		w := &response{h: http.Header{}}
		// Commit merges into what the handler set.
		for _, k := range []string{"Vary", "Cache-Control"} {
			for _, v := range res.PeekAll(k) {
				w.h.Add(k, string(v))
			}
		}
		if err := p.Commit(w); err != nil {
			c.Response().Reset()
			for k, vs := range w.h {
				for _, v := range vs {
					res.Add(k, v)
				}
			}
			c.Status(w.status())
			c.Response().SetBodyRaw(w.body.Bytes())
			return nil
		}
		for k, vs := range w.h {
			switch k {
			case "Set-Cookie":
				for _, v := range vs {
					res.Add(k, v)
				}
			default:
				res.Del(k)
				for _, v := range vs {
					res.Add(k, v)
				}
			}
		}
		return herr
	}
}

// Get returns the request's session, or nil when no New handler ran for c.
// With several session middlewares, it returns the one nearest the
// handler; each Middleware's own FromContext (mw.FromContext(c.Context()))
// reaches the others.
func Get(c fiber.Ctx) *session.Session { return middleware.FromContext(c.Context()) }

// response collects what the middleware writes: the session's headers, or
// the ErrorHandler's whole answer.
type response struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *response) Header() http.Header { return w.h }

func (w *response) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *response) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *response) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
