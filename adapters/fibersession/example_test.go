package fibersession_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	"github.com/sessionkit/sessionkit/adapters/fibersession"
	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func Example() {
	store := memstore.New()
	defer store.Close()
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	secret := rand.Text() + rand.Text() // in production: os.Getenv("SESSION_SECRET")
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{secret}})
	if err != nil {
		log.Fatal(err)
	}

	app := fiber.New()
	app.Use(recover.New(), fibersession.New(mw))
	app.Get("/", func(c fiber.Ctx) error {
		s := fibersession.Get(c)
		n, err := session.GetOr(s, "visits", 0)
		if err == nil {
			err = s.Put("visits", n+1)
		}
		if err != nil {
			return fiber.NewError(http.StatusServiceUnavailable, "session unavailable")
		}
		return c.SendString(fmt.Sprintf("visit %d", n+1))
	})

	res, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body), res.Cookies()[0].Name)
	// Output: visit 1 session
}
