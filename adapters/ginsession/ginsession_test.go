package ginsession_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	"github.com/sessionkit/sessionkit/adapters/ginsession"
	"github.com/sessionkit/sessionkit/middleware"
)

func init() { gin.SetMode(gin.TestMode) }

func TestAdapter(t *testing.T) {
	adaptertest.Run(t, adaptertest.Harness{
		Start: func(t *testing.T, mw *middleware.Middleware, routes []adaptertest.Route) string {
			r := gin.New()
			r.Use(gin.RecoveryWithWriter(io.Discard), ginsession.New(mw))
			for _, rt := range routes {
				r.Handle(rt.Method, rt.Path, func(c *gin.Context) {
					rep := rt.Handle(ginsession.Get(c))
					switch {
					case rep.Panic:
						panic("boom")
					case rep.Err:
						c.AbortWithError(rep.Status, errors.New("failed"))
					default:
						c.String(rep.Status, "%s", rep.Body)
					}
					if rep.After != nil {
						rep.After()
					}
				})
			}
			srv := httptest.NewServer(r)
			t.Cleanup(srv.Close)
			return srv.URL
		},
	})
}
