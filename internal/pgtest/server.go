package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server of one test's own, on a loopback port of its
// own, in a data directory that is removed when the test ends: a test may
// stop and restart it without touching the shared server.
type Server struct {
	tb   testing.TB
	bin  string // directory of initdb and pg_ctl
	dir  string // holds data/, the socket and the log
	port int
	as   string // the user the server runs as when the test runs as root
}

// StartServer initdbs a fresh cluster and starts it, or skips the test (fails
// it under CI) when the PostgreSQL server binaries are not installed (Debian:
// /usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root, so a test
// running as root runs the server as the "postgres" user.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	bin := serverBin()
	if bin == "" {
		Unavailable(tb, fmt.Errorf("initdb and pg_ctl not found in PATH or /usr/lib/postgresql/*/bin; install postgresql"))
	}
	dir, err := os.MkdirTemp("", "sessionkit-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: dir}
	tb.Cleanup(func() {
		_ = s.pgctl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(tb, fmt.Errorf("running as root and no postgres user to run the server as: %v", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		s.as = "postgres"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if out, err := s.run(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	s.Start()
	return s
}

// serverBin finds the directory holding initdb and pg_ctl: PATH first, then
// the newest Debian version directory.
func serverBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// run runs a server binary, as the server's user when the test is root.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if s.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.as, "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	return cmd.CombinedOutput()
}

func (s *Server) pgctl(args ...string) error {
	args = append(args, "-D", s.data(), "-w", "-t", "60")
	if out, err := s.run(filepath.Join(s.bin, "pg_ctl"), args...); err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// URL is the server's connection URL, database postgres.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the stopped server and waits until it accepts connections.
func (s *Server) Start() {
	s.tb.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c full_page_writes=off", s.port, s.dir)
	if err := s.pgctl("start", "-o", opts, "-l", filepath.Join(s.dir, "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.tb.Fatalf("%v\n%s", err, log)
	}
	s.wait()
}

// Stop stops the server: mode "fast" ends every session with an admin
// shutdown (SQLSTATE 57P01), "immediate" kills it, as a crash would.
func (s *Server) Stop(mode string) {
	s.tb.Helper()
	if err := s.pgctl("stop", "-m", mode); err != nil {
		s.tb.Fatal(err)
	}
}

func (s *Server) wait() {
	s.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.URL())
		cancel()
		if err == nil {
			c.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("private PostgreSQL did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
