package e2e

import (
	"testing"

	"github.com/sessionkit/sessionkit/internal/mysqltest"
)

// MySQLURL returns a store URL on a fresh table of the MySQL test server,
// dropped when the test ends. The URL sets create_table=true and turns
// background pruning off.
func MySQLURL(t testing.TB) string {
	t.Helper()
	mysqltest.DB(t, nil) // skips, or fails under CI, when the server is down
	return mysqltest.URLWith("table=" + mysqltest.Table(t) + "&create_table=true&prune_interval=off")
}
