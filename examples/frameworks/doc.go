// Package frameworks holds short examples of the sessionkit net/http
// middleware under popular routers, each a runnable program with a test:
//
//   - chi: router.Use(mw.Handler), since chi middleware is net/http
//     middleware.
//   - echo: e.Use(echosession.New(mw)), from adapters/echosession (Echo
//     v4; adapters/echo5session is the same for v5).
//   - gin: r.Use(ginsession.New(mw)), from adapters/ginsession, since gin
//     handlers write through gin's own ResponseWriter.
//
// Fiber has adapters/fibersession. Handlers reach the session with
// middleware.Get(r) under chi, and with the adapter's Get(c) under the
// others. The examples live in their own module, so that the sessionkit
// module does not depend on any router. Run one with
//
//	SESSION_SECRET=$(openssl rand -hex 32) go run ./chi
//
// from this directory, and its tests with go test -race ./...
package frameworks
