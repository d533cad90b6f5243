package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// TestReadmeInStep: the README's Quick start is this file's program, byte
// for byte from its import block on, so what a reader copies compiles and
// checks its errors.
func TestReadmeInStep(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "\n## Quick start\n")
	if !ok {
		t.Fatal("README has no ## Quick start section")
	}
	_, block, ok := strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("README's Quick start has no ```go block")
	}
	snippet, _, ok := strings.Cut(block, "```\n")
	if !ok {
		t.Fatal("README's Quick start block is not closed")
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	// The file's leading comment is not in the README.
	_, program, ok := strings.Cut(string(src), "\npackage main\n")
	if !ok {
		t.Fatal("main.go has no package clause")
	}
	program = "package main\n" + program
	if snippet != program {
		t.Errorf("README's Quick start and examples/quickstart/main.go differ; make them the same.\nREADME:\n%s\nmain.go:\n%s", snippet, program)
	}
}

// TestNoSecretFailsAtStart: copied as it stands and run without
// SESSION_SECRET, the program stops at once with a message naming it,
// rather than start and fail every request.
func TestNoSecretFailsAtStart(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "quickstart")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatal("the program kept running without SESSION_SECRET")
	}
	if err == nil || !strings.Contains(stderr.String(), "SESSION_SECRET") || strings.Contains(stderr.String(), "listening") {
		t.Fatalf("exit %v, stderr %q; want a failure naming SESSION_SECRET before listening", err, stderr.String())
	}
}

// TestVisits runs the handler behind the middleware, as main wires it.
func TestVisits(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.New(), Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{strings.Repeat("k", 32)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Handler(http.HandlerFunc(visits)))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for i, want := range []string{"visit 1\n", "visit 2\n"} {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("request %d: %q, want %q", i+1, body, want)
		}
	}
}
