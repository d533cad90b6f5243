package pgstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/internal/redact"
)

// names are the quoted identifiers derived from Options.
type names struct {
	table     string // "schema"."table" or "table"
	pkey      string // "table_pkey"
	expireIdx string // "IDX_table_expire"
	userIdx   string // "IDX_table_user"
	userExpr  string // ("sess" ->> E'user_id')
	schema    string // unquoted, may be empty
	rawTable  string // unquoted
}

func makeNames(o Options) names {
	n := names{schema: o.Schema, rawTable: o.Table}
	if o.Schema != "" {
		n.table = pgx.Identifier{o.Schema, o.Table}.Sanitize()
	} else {
		n.table = pgx.Identifier{o.Table}.Sanitize()
	}
	n.pkey = pgx.Identifier{o.Table + "_pkey"}.Sanitize()
	n.expireIdx = pgx.Identifier{"IDX_" + o.Table + "_expire"}.Sanitize()
	n.userIdx = pgx.Identifier{"IDX_" + o.Table + "_user"}.Sanitize()
	n.userExpr = `("sess" ->> ` + quoteLiteral(o.UserKey) + `)`
	return n
}

// quoteLiteral quotes s as an escape string constant, which reads the same
// whatever standard_conforming_strings says.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `''`)
	return `E'` + s + `'`
}

type queries struct {
	load, save, touch, del, count, prune, iterFirst, iterNext, user string
}

// epochMS reads a row's expire as Unix milliseconds. The cast reads expire
// in the session's TimeZone, as to_timestamp wrote it, so the instant comes
// back whatever the TimeZone.
const epochMS = `(date_part('epoch', "expire"::timestamptz) * 1000)::bigint`

func makeQueries(n names) queries {
	t := n.table
	return queries{
		load: `SELECT "sess", ` + epochMS + ` FROM ` + t + ` WHERE "sid" = $1 AND "expire" >= to_timestamp($2)`,
		save: `INSERT INTO ` + t + ` ("sess", "expire", "sid") VALUES ($1, to_timestamp($2), $3)` +
			` ON CONFLICT ("sid") DO UPDATE SET "sess" = EXCLUDED."sess", "expire" = EXCLUDED."expire"`,
		touch: `UPDATE ` + t + ` SET "expire" = to_timestamp($1) WHERE "sid" = $2 AND "expire" >= to_timestamp($3)`,
		del:   `DELETE FROM ` + t + ` WHERE "sid" = $1`,
		count: `SELECT count(*) FROM ` + t + ` WHERE "expire" >= to_timestamp($1)`,
		// The batch is picked in expire order through the expire index,
		// locked (skipping rows a writer holds), and deleted through the
		// primary key: "sid" IN (…) would plan as a hash join over the
		// whole table, and a LIMIT without ORDER BY as a sequential scan
		// through every live row, per batch.
		prune: `DELETE FROM ` + t + ` WHERE "sid" = ANY(ARRAY(SELECT "sid" FROM ` + t +
			` WHERE "expire" < to_timestamp($1) ORDER BY "expire" LIMIT $2 FOR UPDATE SKIP LOCKED))` +
			` AND "expire" < to_timestamp($1)`,
		iterFirst: `SELECT "sid", "sess", ` + epochMS + ` FROM ` + t +
			` WHERE "expire" >= to_timestamp($1) ORDER BY "sid" LIMIT $2`,
		iterNext: `SELECT "sid", "sess", ` + epochMS + ` FROM ` + t +
			` WHERE "sid" > $3 AND "expire" >= to_timestamp($1) ORDER BY "sid" LIMIT $2`,
		user: `SELECT "sid" FROM ` + t + ` WHERE ` + n.userExpr + ` = $1 AND "expire" >= to_timestamp($2)`,
	}
}

// ddl returns the statements that create the table, in order: the table
// with its primary key, the expire index, and the optional user index.
func (n names) ddl() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + n.table + ` (` +
			"\n  " + `"sid" varchar NOT NULL COLLATE "default",` +
			"\n  " + `"sess" json NOT NULL,` +
			"\n  " + `"expire" timestamp(6) NOT NULL,` +
			"\n  " + `CONSTRAINT ` + n.pkey + ` PRIMARY KEY ("sid")` +
			"\n)",
		`CREATE INDEX IF NOT EXISTS ` + n.expireIdx + ` ON ` + n.table + ` ("expire")`,
		`CREATE INDEX IF NOT EXISTS ` + n.userIdx + ` ON ` + n.table + ` (` + n.userExpr + `)`,
	}
}

// Schema returns the SQL that creates the table and its indexes for opts,
// as New runs it with CreateTable. The table and the expire index are
// exactly connect-pg-simple's. The optional user index (see the package
// documentation for its cost) follows, commented out unless
// opts.UserIndex is set; on a busy existing table create it with CREATE
// INDEX CONCURRENTLY.
func Schema(opts Options) (string, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return "", err
	}
	return makeNames(o).schemaText(o.UserIndex), nil
}

// SchemaURL is Schema for the table a postgres:// URL names (its table,
// schema, user_key and user_index parameters), without connecting.
func SchemaURL(rawURL string) (string, error) {
	var opts Options
	if _, err := parseURL(rawURL, &opts); err != nil {
		return "", redact.Error(err, rawURL)
	}
	return Schema(opts)
}

// Schema returns the SQL that creates the Store's table and indexes (see
// the package function Schema).
func (s *Store) Schema() string { return s.names.schemaText(s.opts.UserIndex) }

func (n names) schemaText(userIndex bool) string {
	d := n.ddl()
	text := d[0] + ";\n" + d[1] + ";\n" +
		"-- Optional: an index for UserSessions (log out everywhere); sessions\n" +
		"-- containing the JSON escape \\u0000 can then not be saved.\n"
	if !userIndex {
		return text + "-- " + d[2] + ";\n"
	}
	return text + d[2] + ";\n"
}

// lockKey derives an advisory lock key from purpose and the table name, so
// stores on different tables do not wait for each other.
func lockKey(purpose, table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sessionkit/postgres/" + purpose + "\x00" + table))
	return int64(h.Sum64())
}

// ensureTable checks that the table exists, and creates it when it is
// missing and CreateTable is set. The check and the creation run under a
// transaction-level advisory lock, so that of many processes starting at
// once one creates and the others find it (CREATE TABLE IF NOT EXISTS alone
// races: two creators can both fail on the catalog's unique index).
func (s *Store) ensureTable(ctx context.Context) error {
	if !s.opts.CreateTable {
		exists, err := s.tableExists(ctx, s.pool)
		if err != nil {
			return s.wrap("check table", err)
		}
		if !exists {
			return fmt.Errorf("postgres: table %s does not exist; create it with the SQL that `sessionctl schema` prints, or let the store create it: add create_table=true to the URL (Options.CreateTable in Go)", s.names.table)
		}
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("create", s.names.table)); err != nil {
			return err
		}
		exists, err := s.tableExists(ctx, tx)
		if err != nil || exists {
			return err
		}
		ddl := s.names.ddl()
		if !s.opts.UserIndex {
			ddl = ddl[:2]
		}
		for _, stmt := range ddl {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrap("create table", err)
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) tableExists(ctx context.Context, q queryRower) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.names.table).Scan(&ok)
	if err != nil {
		return false, err
	}
	return ok, nil
}
