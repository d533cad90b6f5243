package echosession_test

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	"github.com/sessionkit/sessionkit/adapters/echosession"
	"github.com/sessionkit/sessionkit/middleware"
)

func TestAdapter(t *testing.T) {
	adaptertest.Run(t, adaptertest.Harness{
		Start: func(t *testing.T, mw *middleware.Middleware, routes []adaptertest.Route) string {
			e := echo.New()
			e.HideBanner = true
			e.Use(echomw.Recover(), echosession.New(mw))
			for _, rt := range routes {
				e.Add(rt.Method, rt.Path, func(c echo.Context) error {
					rep := rt.Handle(echosession.Get(c))
					if rep.Panic {
						panic("boom")
					}
					if rep.Err {
						return echo.NewHTTPError(rep.Status)
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
