package mysqltest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is a MariaDB server of one test's own, on a loopback port of its
// own, in a data directory that is removed when the test ends: a test may
// stop and restart it without touching the shared server.
type Server struct {
	tb   testing.TB
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

const (
	mariadbd  = "/usr/sbin/mariadbd"
	installDB = "mariadb-install-db"
)

// StartServer creates a fresh data directory and starts a MariaDB server on
// it, with database test and user root without a password, or skips the
// test (fails it under CI) when MariaDB's server is not installed. A test
// running as root runs the server as the "mysql" user.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	install, err := exec.LookPath(installDB)
	if err != nil {
		Unavailable(tb, fmt.Errorf("%s not found; install mariadb-server", installDB))
	}
	if _, err := os.Stat(mariadbd); err != nil {
		Unavailable(tb, fmt.Errorf("%s not found; install mariadb-server", mariadbd))
	}
	dir, err := os.MkdirTemp("", "sessionkit-mariadb-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, dir: dir}
	tb.Cleanup(func() {
		s.kill()
		_ = os.RemoveAll(dir)
	})
	var as []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("mysql")
		if err != nil {
			Unavailable(tb, fmt.Errorf("running as root and no mysql user to run the server as: %v", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		as = []string{"--user=mysql"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := append([]string{"--no-defaults", "--datadir=" + s.data(), "--auth-root-authentication-method=normal", "--skip-test-db"}, as...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v\n%s", installDB, err, out)
	}
	s.Start()
	db := s.open("")
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE test"); err != nil {
		tb.Fatalf("private MariaDB: %v", err)
	}
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// URL is the server's store URL, database test.
func (s *Server) URL() string {
	return fmt.Sprintf("mysql://root@127.0.0.1:%d/test", s.port)
}

func (s *Server) open(database string) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.DBName, cfg.Timeout = "tcp", "127.0.0.1:"+strconv.Itoa(s.port), "root", database, time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		s.tb.Fatal(err)
	}
	return sql.OpenDB(c)
}

// Start starts the stopped server and waits until it accepts connections.
func (s *Server) Start() {
	s.tb.Helper()
	args := []string{"--no-defaults", "--datadir=" + s.data(), "--port=" + strconv.Itoa(s.port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(s.dir, "sock"), "--pid-file=" + filepath.Join(s.dir, "pid"),
		"--log-error=" + filepath.Join(s.dir, "err.log"), "--skip-name-resolve", "--innodb-flush-log-at-trx-commit=2"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=mysql")
	}
	s.cmd = exec.Command(mariadbd, args...)
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start MariaDB: %v", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(s.cmd, s.done)
	db := s.open("")
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "err.log"))
			s.tb.Fatalf("private MariaDB exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("private MariaDB did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down as an operator would (SIGTERM): connections
// in use get "server shutdown in progress" or are closed. It waits until the
// process has exited.
func (s *Server) Stop() {
	s.tb.Helper()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.tb.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.tb.Fatal("private MariaDB did not stop within 60s")
	}
	s.cmd = nil
}

func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}
