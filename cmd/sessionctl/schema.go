package main

import (
	"fmt"
	"io"

	"github.com/sessionkit/sessionkit/stores"
)

func runSchema(args []string, stdout, stderr io.Writer) error {
	fs := command("schema", "schema URL\n\nPrints the SQL that creates the session table a PostgreSQL or MySQL URL names,\nwithout connecting: the URL's table parameter (and for PostgreSQL schema,\nuser_key and user_index) apply, e.g.\n\n  sessionctl schema 'postgres://db/app?table=web&schema=app'\n  sessionctl schema mysql://db/app", true)
	url, err := oneURL(fs, args, stderr)
	if err != nil {
		return err
	}
	sql, err := stores.Schema(url)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sql)
	return nil
}
