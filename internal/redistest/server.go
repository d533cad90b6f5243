package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server of one test's own, on a loopback port of its own,
// that the test may stop and restart. It keeps its data in an append-only
// file synced on every write, so a restart keeps every acknowledged write.
type Server struct {
	tb   testing.TB
	dir  string
	port string
	cmd  *exec.Cmd
}

// StartServer starts a private redis-server and stops it when the test ends.
// It skips the test (fails it under CI) when redis-server is not installed.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		Unavailable(tb, "redis-server is not installed; install redis-server (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &Server{tb: tb, dir: tb.TempDir(), port: port}
	tb.Cleanup(func() {
		if s.cmd != nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	s.Start()
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + s.port }

// URL is the server's redis:// URL, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Start starts the stopped server and waits until it answers PING.
func (s *Server) Start() {
	s.tb.Helper()
	s.cmd = exec.Command("redis-server", "--port", s.port, "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.tb.Fatal("private redis-server did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down as an init system would (SIGTERM) and waits
// for it to exit.
func (s *Server) Stop() {
	s.tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.tb.Fatal(err)
	}
	_ = s.cmd.Wait()
	s.cmd = nil
}
