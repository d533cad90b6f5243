package stores_test

import (
	"context"
	"io"
	"testing"

	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
	"github.com/sessionkit/sessionkit/stores/mysqlstore"
)

func TestOpenMySQL(t *testing.T) {
	mysqltest.DB(t, nil) // skips when there is no server
	table := mysqltest.Table(t)
	st, err := stores.Open(context.Background(), mysqltest.URLWith("create_table=true&prune_interval=off&user_key=uid&table=")+table)
	if err != nil {
		t.Fatal(err)
	}
	defer st.(io.Closer).Close()
	ms, ok := st.(*mysqlstore.Store)
	if !ok {
		t.Fatalf("stores.Open(mysql://…) = %T", st)
	}
	if ms.UserKey() != "uid" || ms.Table() != "`"+table+"`" {
		t.Errorf("user key %q, table %s", ms.UserKey(), ms.Table())
	}
	if _, ok := st.(session.ConditionalStore); !ok {
		t.Error("the mysql store is not a ConditionalStore")
	}
	if b := stores.Backend(mysqltest.URL()); b != "mysql" {
		t.Errorf("Backend = %q", b)
	}
}
