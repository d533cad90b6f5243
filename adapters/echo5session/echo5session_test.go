package echo5session_test

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	"github.com/sessionkit/sessionkit/adapters/echo5session"
	"github.com/sessionkit/sessionkit/middleware"
)

func TestAdapter(t *testing.T) {
	adaptertest.Run(t, adaptertest.Harness{
		Start: func(t *testing.T, mw *middleware.Middleware, routes []adaptertest.Route) string {
			e := echo.New()
			e.Use(echomw.Recover(), echo5session.New(mw))
			for _, rt := range routes {
				e.Add(rt.Method, rt.Path, func(c *echo.Context) error {
					rep := rt.Handle(echo5session.Get(c))
					if rep.Panic {
						panic("boom")
					}
					if rep.Err {
						return echo.NewHTTPError(rep.Status, "failed")
					}
					err := c.String(rep.Status, rep.Body)
					if rep.After != nil {
						rep.After()
					}
					return err
				})
			}
			srv := httptest.NewServer(e)
			t.Cleanup(srv.Close)
			return srv.URL
		},
	})
}
