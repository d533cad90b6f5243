package jsoncodec_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGoldenFromNode reruns testdata/golden.js with the express-session that
// the interop tests install and checks it still writes the committed golden
// documents, so they stay the real thing rather than hand-edited copies.
func TestGoldenFromNode(t *testing.T) {
	modules, err := filepath.Abs(filepath.Join("..", "..", "interop", "node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	node, lookErr := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join(modules, "express-session", "package.json"))
	if lookErr != nil || statErr != nil {
		const hint = "needs node and express-session: run scripts/test, or (cd interop/node && npm ci)"
		if os.Getenv("CI") == "true" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	out := t.TempDir()
	cmd := exec.Command(node, filepath.Join("testdata", "golden.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node golden.js: %v\n%s", err, b)
	}
	for _, tc := range goldenCases {
		got, err := os.ReadFile(filepath.Join(out, tc.name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if want := golden(t, tc.name); !bytes.Equal(got, want) {
			t.Errorf("%s: express-session now writes\n%s\nthe committed file holds\n%s", tc.name, got, want)
		}
	}
}
