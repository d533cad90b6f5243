package redisstore_test

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// privateRedis starts a redis-server of this test's own on a free port and
// stops it when the test ends; it returns the server's address and process.
func privateRedis(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		redistest.Unavailable(t, "redis-server is not installed; install redis-server (apt-get install redis-server)")
	}
	port := freePort(t)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + port
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i == 100 {
			t.Fatal("private redis-server did not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, cmd
}

// TestCancelCutsShortABlockedCall stops a private Redis (SIGSTOP) while a
// call waits for its reply, then cancels the call's context: the call must
// return the context's error while the server is still stopped, whether the
// store made its client from a URL or was given one. The clients' read
// timeout is a minute, so only the cancellation can end the wait.
func TestCancelCutsShortABlockedCall(t *testing.T) {
	addr, srv := privateRedis(t)
	fromURL, err := redisstore.Open(context.Background(), "redis://"+addr+"/0?read_timeout=60s&write_timeout=60s", redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fromURL.Close() })
	own := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	t.Cleanup(func() { _ = own.Close() })
	given, err := redisstore.New(own, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = given.Close() })

	exp := time.Now().Add(time.Hour)
	calls := map[string]func(context.Context, *redisstore.Store) error{
		"Save":   func(ctx context.Context, s *redisstore.Store) error { return s.Save(ctx, "a", []byte("x"), exp) },
		"Load":   func(ctx context.Context, s *redisstore.Store) error { _, _, _, err := s.Load(ctx, "a"); return err },
		"Touch":  func(ctx context.Context, s *redisstore.Store) error { return s.Touch(ctx, "a", exp) },
		"Delete": func(ctx context.Context, s *redisstore.Store) error { return s.Delete(ctx, "a") },
		"LinkUser": func(ctx context.Context, s *redisstore.Store) error {
			return s.LinkUser(ctx, "u", "a", exp)
		},
		"UserSessions": func(ctx context.Context, s *redisstore.Store) error { _, err := s.UserSessions(ctx, "u"); return err },
		"Iterate": func(ctx context.Context, s *redisstore.Store) error {
			return s.Iterate(ctx, func(session.Record) error { return nil })
		},
	}
	for _, st := range []struct {
		name string
		s    *redisstore.Store
	}{{"from URL", fromURL}, {"given client", given}} {
		for name, call := range calls {
			t.Run(st.name+"/"+name, func(t *testing.T) {
				// A pooled connection first, so that the call below blocks on
				// the reply rather than on a dial.
				if err := st.s.Ping(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := srv.Process.Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := srv.Process.Signal(syscall.SIGCONT); err != nil {
						t.Fatal(err)
					}
				}()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- call(ctx, st.s) }()
				select {
				case err := <-done:
					t.Fatalf("returned %v while the server was stopped and before the cancel", err)
				case <-time.After(100 * time.Millisecond):
				}
				cancel()
				select {
				case err := <-done:
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("returned %v after the cancel, want context.Canceled", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("still blocked 10s after its context was cancelled")
				}
			})
		}
	}
}
