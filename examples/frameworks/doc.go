// Package frameworks holds short examples of the sessionkit net/http
// middleware under popular routers, each a runnable program with a test:
//
//   - chi: router.Use(mw.Handler), since chi middleware is net/http
//     middleware.
//   - echo: e.Use(echo.WrapMiddleware(mw.Handler)).
//   - gin: a small gin.HandlerFunc adapter, since gin handlers write
//     through gin's own ResponseWriter.
//
// Handlers reach the session with middleware.Get(r), r being the request
// the router hands them. The examples live in their own module, so that the
// sessionkit module does not depend on any router. Run one with
//
//	SESSION_SECRET=$(openssl rand -hex 32) go run ./chi
//
// from this directory, and its tests with go test -race ./...
package frameworks
