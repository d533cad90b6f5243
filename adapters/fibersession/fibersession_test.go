package fibersession_test

import (
	"net"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	"github.com/sessionkit/sessionkit/adapters/fibersession"
	"github.com/sessionkit/sessionkit/middleware"
)

func TestAdapter(t *testing.T) {
	adaptertest.Run(t, adaptertest.Harness{
		Buffered: true,
		Start: func(t *testing.T, mw *middleware.Middleware, routes []adaptertest.Route) string {
			app := fiber.New()
			app.Use(recover.New(), fibersession.New(mw))
			for _, rt := range routes {
				app.Add([]string{rt.Method}, rt.Path, func(c fiber.Ctx) error {
					rep := rt.Handle(fibersession.Get(c))
					if rep.Panic {
						panic("boom")
					}
					if rep.Err {
						return fiber.NewError(rep.Status)
					}
					err := c.Status(rep.Status).SendString(rep.Body)
					if rep.After != nil {
						rep.After()
					}
					return err
				})
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
			t.Cleanup(func() {
				if err := app.Shutdown(); err != nil {
					t.Errorf("shutdown: %v", err)
				}
				<-done
			})
			return "http://" + ln.Addr().String()
		},
	})
}
