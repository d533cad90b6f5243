// Command express is a Go service that shares its sessions with an Express
// app: the same connect-pg-simple table, the same signed connect.sid cookie.
// A user who signs in on the Node app (node/app.js) is signed in here, and
// the "views" counter both apps keep in the session goes up on either side.
//
//	cd examples/express/node && npm install
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test SESSION_SECRET=… node app.js &
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test SESSION_SECRET=… go run ./examples/express
//
// The Go service listens on 127.0.0.1:3001 (-addr) and creates the session
// table if it is missing. Put a reverse proxy in front of both apps so the
// browser sends one cookie to both (or try it with curl, carrying the cookie).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3001", "listen address")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{CreateTable: true, UserKey: "userId"})
	if err != nil {
		log.Error("open the session table", "err", err)
		os.Exit(1)
	}
	defer store.Close()
	h, err := newApp(store, os.Getenv("SESSION_SECRET"))
	if err != nil {
		log.Error("configure sessions", "err", err)
		os.Exit(2)
	}
	srv := &http.Server{Addr: *addr, Handler: h}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	log.Info("listening", "url", "http://"+*addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// newApp serves the Go side over store. The Express preset gives the cookie
// name connect.sid and express-session's JSON document; UserKey names the
// value the Node app keeps its user in.
func newApp(store session.Store, secret string) (http.Handler, error) {
	mw, err := express.New(session.Config{Store: store, UserKey: "userId"}, secret)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := middleware.Get(r)
		user, err := s.User()
		switch {
		case err != nil:
			http.Error(w, "sessions are unavailable", http.StatusServiceUnavailable)
			return
		case user == "":
			http.Error(w, "go: not signed in", http.StatusUnauthorized)
			return
		}
		// The Node app stores views as a JSON number; it reads back as int.
		views, _ := session.GetOr(s, "views", 0)
		if err := s.Put("views", views+1); err != nil {
			http.Error(w, "could not update the session", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "go: %s, views %d\n", user, views+1)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := middleware.Get(r).Destroy(); err != nil {
			http.Error(w, "could not sign out", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "go: signed out")
	})
	return mw.Handler(mux), nil
}
