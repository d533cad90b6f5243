package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The interop tests run once against each set of Node packages, each with a
// committed package-lock: node/ pins the versions the project was built
// against (express-session 1.18, connect-redis 9), node-current/ the current
// majors (express-session 1.19, connect-redis 10). server.js (in node/)
// loads the set that NODE_PACKAGES names.
const (
	pinnedPackages  = "node"
	currentPackages = "node-current"
	// packagesEnv selects the set; TestMain sets it for its second run.
	packagesEnv = "SESSIONKIT_INTEROP_NODE_PACKAGES"
)

// nodePackages is the directory of the package set this run tests against.
func nodePackages() string {
	if os.Getenv(packagesEnv) == currentPackages {
		return currentPackages
	}
	return pinnedPackages
}

// wantVersions are the major.minor versions each set must load.
var wantVersions = map[string]map[string]string{
	pinnedPackages:  {"express-session": "1.18.", "connect-redis": "9."},
	currentPackages: {"express-session": "1.19.", "connect-redis": "10."},
}

// TestMain runs every test of the package against the pinned packages, then
// runs the test binary again, with the same flags, against the current
// majors, so that `go test ./interop/` covers both.
func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv(packagesEnv) != "" {
		os.Exit(code)
	}
	fmt.Printf("interop: the same tests against interop/%s (current majors)\n", currentPackages)
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), packagesEnv+"="+currentPackages)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: run against interop/%s: %v\n", currentPackages, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// TestNodePackageVersions checks that server.js loads the set this run is
// for, so that a run meant for the current majors cannot quietly test the
// pinned ones.
func TestNodePackageVersions(t *testing.T) {
	e := newRedisEnv(t)
	app := e.node(t, time.Hour, secretNew).wait()
	resp, err := http.Get(app.URL + "/debug/versions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	t.Logf("interop/%s: %v", nodePackages(), got)
	for name, prefix := range wantVersions[nodePackages()] {
		if !strings.HasPrefix(got[name], prefix) {
			t.Errorf("interop/%s loads %s %s, want %s*", nodePackages(), name, got[name], prefix)
		}
	}
}
