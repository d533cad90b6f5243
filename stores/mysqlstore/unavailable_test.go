package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessionkit/session"
)

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		number uint16
		want   bool
	}{
		{1053, true},  // server shutdown in progress
		{1040, true},  // too many connections
		{1927, true},  // MariaDB: connection killed
		{4031, true},  // MySQL: disconnected for inactivity
		{1146, false}, // no such table
		{1045, false}, // access denied
		{1062, false}, // duplicate key
	} {
		err := fmt.Errorf("query: %w", &mysql.MySQLError{Number: tc.number})
		if got := unavailable(err); got != tc.want {
			t.Errorf("error %d: unavailable %v, want %v", tc.number, got, tc.want)
		}
	}
	if unavailable(errors.New("json: bad value")) || unavailable(context.Canceled) {
		t.Error("a plain error or a cancellation counted as unavailable")
	}
}

// TestUnavailableServer opens a store on a port nothing listens on: the
// error says the store is unavailable, so the middleware answers 503.
func TestUnavailableServer(t *testing.T) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.DBName, cfg.Timeout = "tcp", "127.0.0.1:1", "root", "test", time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	_, err = New(t.Context(), db, Options{PruneInterval: -1})
	if !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("New on a refused connection = %v, want ErrUnavailable", err)
	}
}
