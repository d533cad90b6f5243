package main

import (
	"fmt"
	"io"

	"github.com/sessionkit/sessionkit/stores/pgstore"
)

func runSchema(args []string, stdout, stderr io.Writer) error {
	fs := command("schema", "schema [--table T] [--schema S] [--user-index]\n\nPrints the SQL of the PostgreSQL session table.", false)
	var o pgstore.Options
	fs.StringVar(&o.Table, "table", "session", "table name")
	fs.StringVar(&o.Schema, "schema", "", "schema holding the table (default: the search_path)")
	fs.BoolVar(&o.UserIndex, "user-index", false, "include the index on the user key, uncommented")
	fs.StringVar(&o.UserKey, "user-key", "user_id", "top-level session key holding the user id")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("schema takes no arguments, got %q", pos)
	}
	sql, err := pgstore.Schema(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sql)
	return nil
}
