package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReachesStoresOnlyThroughTheRegistry keeps sessionctl to the registry
// and the capability interfaces: a store's URL parameters, SQL and layout
// belong to its package, so sessionctl imports no store client library, no
// store package, and no URL parser but for cookie values.
func TestReachesStoresOnlyThroughTheRegistry(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"github.com/redis/", "go.etcd.io/bbolt", "github.com/jackc/pgx",
		"github.com/sessionkit/sessionkit/stores/boltstore", "github.com/sessionkit/sessionkit/stores/redisstore",
		"github.com/sessionkit/sessionkit/stores/memstore", "github.com/sessionkit/sessionkit/stores/pgstore",
		"github.com/sessionkit/sessionkit/stores/mysqlstore", "github.com/sessionkit/sessionkit/internal/storeurl"}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s: sessionctl reaches stores only through package stores and the capability interfaces", name, path)
				}
			}
			if path == "net/url" && name != "cookie.go" {
				t.Errorf("%s imports net/url; only cookie.go may, to decode cookie values", name)
			}
		}
	}
}
