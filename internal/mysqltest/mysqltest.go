// Package mysqltest gives tests a real MySQL or MariaDB server: a *sql.DB on
// it and a fresh table name whose table is dropped when the test ends.
//
// The server is found through SESSIONKIT_MYSQL_URL (default
// mysql://root@127.0.0.1:3306/test). When it cannot be reached the test is
// skipped with a hint, unless the CI environment variable is "true", in which
// case it fails: a silent skip in CI is a defect.
package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultURL is the server used when SESSIONKIT_MYSQL_URL is unset.
const DefaultURL = "mysql://root@127.0.0.1:3306/test"

// URL returns the server URL the tests use.
func URL() string {
	if u := os.Getenv("SESSIONKIT_MYSQL_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// URLWith returns URL with query (a=1&b=2) added to its own query
// parameters, if it has any.
func URLWith(query string) string {
	u := URL()
	if strings.Contains(u, "?") {
		return u + "&" + query
	}
	return u + "?" + query
}

// Unavailable fails the test under CI and skips it otherwise, with a one-line
// hint on how to run it.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("MySQL unreachable in CI: %v", err)
	}
	tb.Skipf("MySQL unreachable (%v); start MariaDB or MySQL or set SESSIONKIT_MYSQL_URL to run this test", err)
}

// Config returns the driver configuration of URL with the given extra
// session variables (such as "time_zone": "'+09:00'"), failing the test
// when the URL is invalid. Only the user, password, host, port and database
// of the URL are used.
func Config(tb testing.TB, vars map[string]string) *mysql.Config {
	tb.Helper()
	u, err := url.Parse(URL())
	if err != nil || u.Scheme != "mysql" {
		tb.Fatalf("SESSIONKIT_MYSQL_URL must be mysql://user:pass@host:port/db: %v", err)
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr += ":3306"
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if len(vars) > 0 {
		cfg.Params = map[string]string{}
		for k, v := range vars {
			cfg.Params[k] = v
		}
	}
	return cfg
}

// DB returns a *sql.DB on the test server with the given session variables,
// closed when the test ends.
func DB(tb testing.TB, vars map[string]string) *sql.DB {
	tb.Helper()
	c, err := mysql.NewConnector(Config(tb, vars))
	if err != nil {
		tb.Fatalf("SESSIONKIT_MYSQL_URL: %v", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxIdleConns(8)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		Unavailable(tb, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Table returns a fresh random table name and drops that table, if it then
// exists, when the test ends. It creates nothing.
func Table(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "sk_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		// A connection of its own: the test's DB may be closed already.
		c, err := mysql.NewConnector(Config(tb, nil))
		if err != nil {
			tb.Errorf("drop table %s: %v", name, err)
			return
		}
		db := sql.OpenDB(c)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, fmt.Sprintf("DROP TABLE IF EXISTS `%s`", name)); err != nil {
			tb.Errorf("drop table %s: %v", name, err)
		}
	})
	return name
}
