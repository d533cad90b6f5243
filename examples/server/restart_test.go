package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/e2e"
)

var (
	binDir   string
	buildMu  sync.Mutex
	binPath  string
	buildErr error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// serverBinary builds the example server once per test binary.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if binPath == "" && buildErr == nil {
		binDir, buildErr = os.MkdirTemp("", "sessionkit-server-")
		if buildErr == nil {
			p := filepath.Join(binDir, "server")
			out, err := exec.Command("go", "build", "-o", p, ".").CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			} else {
				binPath = p
			}
		}
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is the example server running as its own process.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	Base string
	log  *syncBuffer
	done chan error
}

var listening = regexp.MustCompile(`msg=listening url=(http://\S+)`)

// startProcess runs the built server with extra environment variables and
// waits until it listens.
func startProcess(t *testing.T, env ...string) *process {
	t.Helper()
	cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: cmd, log: &syncBuffer{}, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.log, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.Base = <-urlc:
		return p
	case err := <-p.done:
		t.Fatalf("server exited: %v\n%s", err, p.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not listen within 60s\n%s", p.log)
	}
	return nil
}

// stop sends SIGTERM and expects a graceful exit with status 0.
func (p *process) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Fatalf("server exit after SIGTERM: %v\n%s", err, p.log)
		}
	case <-time.After(30 * time.Second):
		p.t.Fatalf("server still running 30s after SIGTERM\n%s", p.log)
	}
	if !strings.Contains(p.log.String(), "msg=stopped") {
		p.t.Errorf("no graceful stop in the log:\n%s", p.log)
	}
}

// TestRestartKeepsSessions logs in, stops the server process, starts a new
// one on the same store and expects the browser to still be signed in with
// its counter, on each persistent backend.
func TestRestartKeepsSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	for _, tc := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"bbolt", e2e.BboltURL},
		{"postgres", e2e.PostgresURL},
		{"redis", e2e.RedisURL},
		{"mysql", e2e.MySQLURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			envs := []string{"SESSION_SECRET=" + testSecret, "SESSION_STORE=" + tc.url(t)}
			p := startProcess(t, envs...)
			b := newBrowser(t, p.Base)
			b.do("POST", "/login", url.Values{"user": {"ana"}})
			wantIn(t, b.do("POST", "/count", url.Values{}), `<b id="user">ana</b>`, `<b id="count">1</b>`, `id="backend">`+tc.name)
			p.stop()

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", p.Base+"/", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatal("the first server still answers after it stopped")
			}

			p2 := startProcess(t, envs...)
			b.base = p2.Base // a new port; cookies are per host, not per port
			wantIn(t, b.do("GET", "/", nil), `<b id="user">ana</b>`, `<b id="count">1</b>`)
			wantIn(t, b.do("POST", "/count", url.Values{}), `<b id="count">2</b>`)
			p2.stop()
		})
	}
}
