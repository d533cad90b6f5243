package browser

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testSecret signs the example server's cookies in these tests.
const testSecret = "0123456789abcdef0123456789abcdef-browser"

// serverBin is the example server, built once by TestMain.
var serverBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sessionkit-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serverBin = filepath.Join(dir, "server")
	// Built inside the library's module (../..), whose go.mod pins the
	// example server's dependencies.
	build := exec.Command("go", "build", "-o", serverBin, "./examples/server")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build the example server: %v\n", err)
		return 1
	}
	return m.Run()
}

// server is one run of the example server as a process of its own.
type server struct {
	// Base is the server's URL, http://127.0.0.1:port.
	Base string
	log  *syncBuffer
}

// Log returns what the server has logged so far.
func (s *server) Log() string { return s.log.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`msg=listening url=(http://\S+)`)

// start runs the example server with the environment env (nothing else of
// the test's environment) and args, on a free loopback port, until the end
// of the test, when it is stopped with SIGINT and must exit cleanly.
func start(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(serverBin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{log: &syncBuffer{}}
	base := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.log, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case base <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { <-copied; done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("example server exited with %v\n%s", err, s.Log())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("example server did not stop within 15s of SIGINT\n%s", s.Log())
		}
	})
	select {
	case s.Base = <-base:
		return s
	case <-copied:
		t.Fatalf("example server exited before listening\n%s", s.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("example server did not listen within 60s\n%s", s.Log())
	}
	return nil
}

// TestServerHarness checks start itself, without a browser: the server it
// runs answers, so a browser test that fails is about the browser's view.
func TestServerHarness(t *testing.T) {
	s := start(t, map[string]string{"SESSION_SECRET": testSecret, "SESSION_STORE": "memory://"})
	resp, err := http.Get(s.Base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz: %s %q", resp.Status, body)
	}
}
