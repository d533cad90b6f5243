package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/e2e"
	"github.com/sessionkit/sessionkit/stores/boltstore"
)

// childArgs, when set, makes the test binary run sessionctl with these
// arguments (a JSON list) instead of the tests, so that a crash of
// sessionctl fails a test instead of ending the run.
const childArgs = "SESSIONCTL_TEST_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			os.Exit(100)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestCheckDamagedBbolt runs sessionctl check, in a child process, on
// damaged copies of a bbolt file: each is reported as damaged (exit 1),
// and none makes sessionctl crash.
func TestCheckDamagedBbolt(t *testing.T) {
	raw := e2e.BboltURL(t)
	seed(t, raw, 2000, 0)
	path, err := boltstore.URLPath(raw)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	n := len(good)
	noise := bytes.Repeat([]byte{0xA5, 0x3C, 0xFF, 0x01, 0x7E}, 64<<10/5)
	for name, damage := range map[string]func([]byte) []byte{
		"truncated-to-half": func(b []byte) []byte { return b[:n/2] },
		"noise-at-third":    func(b []byte) []byte { copy(b[n/3:], noise); return b },
		"zeroed-pages":      func(b []byte) []byte { copy(b[2*page:], make([]byte, n-2*page)); return b },
		"zeroed-metas":      func(b []byte) []byte { copy(b, make([]byte, 2*page)); return b },
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "damaged.db")
			if err := os.WriteFile(file, damage(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			args, _ := json.Marshal([]string{"check", "bbolt://" + file})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childArgs+"="+string(args))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if code != 1 {
				tail := stderr.String()
				if len(tail) > 2000 {
					tail = tail[:2000]
				}
				t.Fatalf("sessionctl check: %v (exit %d), want exit 1\nstdout:\n%s\nstderr:\n%s", err, code, stdout.String(), tail)
			}
			t.Log(strings.TrimSpace(stdout.String()))
			if !strings.Contains(stdout.String(), "damaged") {
				t.Errorf("the report does not say the file is damaged:\n%s", stdout.String())
			}
		})
	}
}
