package mysqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/mysqlstore"
)

// A Go service on the Express app's database and its "sessions" table; the
// JSON codec writes what express-session reads.
func ExampleNew() {
	ctx := context.Background()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "app", "tcp", "db.internal:3306", "app"
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()

	store, err := mysqlstore.New(ctx, db, mysqlstore.Options{CreateTable: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the background pruning; db stays open

	m, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	_ = m
}

// Open owns its handle; the table and the pool come from the URL.
func ExampleOpen() {
	ctx := context.Background()
	store, err := mysqlstore.Open(ctx, "mysql://app@db.internal:3306/app?table=sessions&create_table=true&max_open_conns=20", mysqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // closes the handle too
}

// Check verifies the table for operators, one finding per line.
func ExampleStore_Check() {
	ctx := context.Background()
	store, err := mysqlstore.Open(ctx, "mysql://app@db.internal:3306/app", mysqlstore.Options{PruneInterval: -1})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	err = store.Check(ctx, func(f session.Finding) { fmt.Println(f) })
	if err != nil {
		log.Fatal(err)
	}
}
