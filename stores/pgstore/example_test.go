package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// A Go service shares the Express app's pool settings and its "session"
// table; the JSON codec writes what express-session reads.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	store, err := pgstore.New(ctx, pool, pgstore.Options{CreateTable: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the background pruning; the pool stays open

	m, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	_ = m
}

// Open owns its pool; table, schema and create_table come from the URL.
func ExampleOpen() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, "postgres://app@db.internal/app?schema=web&create_table=true", pgstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // closes the pool too
}

// Check verifies the table for operators, one finding per line.
func ExampleStore_Check() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{PruneInterval: -1})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	deviates := false
	err = store.Check(ctx, func(f session.Finding) {
		fmt.Println(f) // "ok: connected to PostgreSQL …", "warning: no index on …"
		deviates = deviates || f.Severity >= session.SeverityWarning
	})
	if err != nil {
		log.Fatal(err)
	}
	if deviates {
		os.Exit(1)
	}
}

// Schema prints the SQL that creates the table, for a migration.
func ExampleSchema() {
	sql, err := pgstore.Schema(pgstore.Options{Table: "session"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(sql)
}
