package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

const secret = "a-secret-both-apps-share-of-32-bytes-or-more"

// nodeApp starts node/app.js on a free port with the Node packages that
// scripts/test installs for the interop tests, and returns its base URL.
func nodeApp(t *testing.T, schema string) string {
	t.Helper()
	modules, _ := filepath.Abs("../../interop/node/node_modules")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "connect-pg-simple"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or the interop Node packages are missing (%v); scripts/test installs them", err)
		}
		t.Skipf("needs node and the interop Node packages (%v); run scripts/test, which installs them", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "node/app.js")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "PORT=0", "DATABASE_URL="+pgtest.URL(),
		"PG_SCHEMA="+schema, "SESSION_SECRET="+secret)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("node stderr:\n%s", stderr.String())
		}
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("node app did not start: %s", stderr.String())
		}
		return "http://127.0.0.1:" + p
	case <-time.After(20 * time.Second):
		t.Fatalf("node app did not print its port: %s", stderr.String())
	}
	return ""
}

// call sends one request carrying cookie and returns the status, the body
// and the connect.sid the response set, if any.
func call(t *testing.T, method, url, cookie string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "connect.sid="+cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	set := ""
	for _, c := range resp.Cookies() {
		if c.Name == "connect.sid" {
			set = c.Value
		}
	}
	return resp.StatusCode, string(body), set
}

// TestSharedWithNode signs in on the Node app and counts views on both sides
// of one session, then signs out on the Go side.
func TestSharedWithNode(t *testing.T) {
	pool := pgtest.Pool(t, nil)
	schema := pgtest.Schema(t, pool)
	store, err := pgstore.New(t.Context(), pool, pgstore.Options{Schema: schema, CreateTable: true, PruneInterval: -1, UserKey: "userId"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h, err := newApp(store, secret)
	if err != nil {
		t.Fatal(err)
	}
	goApp := httptest.NewServer(h)
	t.Cleanup(goApp.Close)
	node := nodeApp(t, schema)

	status, body, cookie := call(t, "POST", node+"/login?user=ana", "")
	if status != 200 || cookie == "" {
		t.Fatalf("node login: %d %q, cookie %q", status, body, cookie)
	}
	for i, step := range []struct{ app, want string }{
		{goApp.URL, "go: ana, views 1"},
		{node, "node: ana, views 2"},
		{goApp.URL, "go: ana, views 3"},
	} {
		if status, body, _ := call(t, "GET", step.app+"/", cookie); status != 200 || strings.TrimSpace(body) != step.want {
			t.Fatalf("step %d: %d %q, want %q", i, status, body, step.want)
		}
	}
	if status, body, _ := call(t, "POST", goApp.URL+"/logout", cookie); status != 200 {
		t.Fatalf("go logout: %d %q", status, body)
	}
	if status, _, _ := call(t, "GET", node+"/", cookie); status != http.StatusUnauthorized {
		t.Errorf("node after the Go logout: status %d, want 401", status)
	}
}

func TestRefusesShortSecret(t *testing.T) {
	_, err := newApp(memstore.New(), "keyboard cat")
	if err == nil || !strings.Contains(err.Error(), "32") {
		t.Errorf("newApp with a 12-byte secret: %v, want the 32-byte minimum named", err)
	}
	if _, err := newApp(memstore.New(), secret); err != nil {
		t.Errorf("newApp with a good secret: %v", err)
	}
}
