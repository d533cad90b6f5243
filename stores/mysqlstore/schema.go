package mysqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/internal/redact"
)

// quoteIdent quotes a MySQL identifier with backticks, which reads the same
// in every sql_mode (ANSI_QUOTES changes only double quotes).
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// lockPrefix names the named locks of one table. Lock names are
// server-wide and at most 64 characters, so the database and table are
// hashed.
func lockPrefix(database, table string) string {
	h := fnv.New64a()
	h.Write([]byte(database + "\x00" + table))
	return fmt.Sprintf("sessionkit.%016x.", h.Sum64())
}

// ddl is the table New creates: express-mysql-session's columns, with an
// exactly comparing session_id and an index on expires (see the package
// documentation).
func ddl(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + quoteIdent(table) + " (\n" +
		"  `session_id` varbinary(255) NOT NULL,\n" +
		"  `expires` bigint unsigned NOT NULL,\n" +
		"  `data` mediumtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,\n" +
		"  PRIMARY KEY (`session_id`),\n" +
		"  KEY " + quoteIdent("idx_"+strings.TrimSuffix(truncate(table, 60), " ")+"_expires") + " (`expires`)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// Schema returns the SQL that creates the table for opts, as New runs it
// with CreateTable, and, commented, the index to add to a table that
// express-mysql-session created.
func Schema(opts Options) (string, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return "", err
	}
	return ddl(o.Table) + ";\n" +
		"-- On a table express-mysql-session created, an index on expires makes\n" +
		"-- counting and pruning cheap:\n" +
		"-- " + addIndex(o.Table) + ";\n", nil
}

// SchemaURL is Schema for the table a mysql:// URL names (its table
// parameter), without connecting.
func SchemaURL(rawURL string) (string, error) {
	var opts Options
	if _, _, err := parseURL(rawURL, &opts); err != nil {
		return "", redact.Error(err, rawURL)
	}
	return Schema(opts)
}

func addIndex(table string) string {
	return "ALTER TABLE " + quoteIdent(table) + " ADD INDEX " +
		quoteIdent("idx_"+strings.TrimSuffix(truncate(table, 60), " ")+"_expires") + " (`expires`)"
}

// Schema returns the SQL that creates the Store's table (see the package
// function Schema).
func (s *Store) Schema() string {
	text, _ := Schema(s.opts)
	return text
}

// column is what information_schema says of one column.
type column struct {
	name, dataType, columnType, collation, charset string
	charMax, octetMax                              sql.NullInt64
	nullable                                       bool
}

// columns are the limits the store enforces in Go, read from the table.
type columns struct {
	// idMax is the longest ID, in characters (idBytes false) or bytes.
	idMax   int64
	idBytes bool
	// idPads: the collation ignores trailing spaces.
	idPads bool
	// dataMax is the data column's capacity in bytes, 0 when unknown.
	dataMax int64
	// dataText: the column holds characters, so data must be UTF-8.
	dataText bool
	// expMax is the largest value of the expires column.
	expMax int64
	// dataCharset is the data column's character set, "" for bytes.
	dataCharset string
}

func (c columns) fitsID(id string) bool {
	if c.idPads && strings.HasSuffix(id, " ") {
		return false
	}
	if !c.idBytes && !utf8.ValidString(id) {
		// A character column holds no such ID; a lenient sql_mode
		// would store a mangled one.
		return false
	}
	if c.idMax <= 0 {
		return true
	}
	if c.idBytes {
		return int64(len(id)) <= c.idMax
	}
	return len(id) <= int(c.idMax) || int64(utf8.RuneCountInString(id)) <= c.idMax
}

func (c columns) idLimit() string {
	unit := "characters"
	if c.idBytes {
		unit = "bytes"
	}
	extra := ""
	if !c.idBytes {
		extra = ", valid UTF-8"
	}
	if c.idPads {
		extra += ", no trailing space: its collation ignores them"
	}
	return fmt.Sprintf("at most %d %s%s", c.idMax, unit, extra)
}

// padding reports whether a collation ignores trailing spaces. MySQL 8's
// 0900 collations and MariaDB's nopad ones do not; binary strings have
// none.
func padding(collation string) bool {
	if collation == "" || collation == "binary" {
		return false
	}
	c := strings.ToLower(collation)
	return !strings.Contains(c, "nopad") && !strings.Contains(c, "_0900_")
}

// readColumns returns the table's columns by name, or nil when the table
// does not exist.
func readColumns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, table string) (map[string]column, []string, error) {
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COALESCE(COLLATION_NAME, ''), COALESCE(CHARACTER_SET_NAME, ''),
		CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH, IS_NULLABLE = 'YES'
		FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols := map[string]column{}
	var order []string
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.dataType, &c.columnType, &c.collation, &c.charset, &c.charMax, &c.octetMax, &c.nullable); err != nil {
			return nil, nil, err
		}
		c.dataType = strings.ToLower(c.dataType)
		cols[strings.ToLower(c.name)] = c
		order = append(order, strings.ToLower(c.name))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(cols) == 0 {
		return nil, nil, nil
	}
	return cols, order, nil
}

// limits derives the Go-side limits from the columns, or says which column
// the store cannot use.
func limits(cols map[string]column) (columns, error) {
	var c columns
	id, ok := cols["session_id"]
	if !ok {
		return c, errors.New("the table has no session_id column")
	}
	switch id.dataType {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		c.idBytes = true
		c.idMax = id.octetMax.Int64
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		c.idMax = id.charMax.Int64
		c.idPads = padding(id.collation) && (id.dataType == "char" || id.dataType == "varchar")
	default:
		return c, fmt.Errorf("column session_id is %s, expected varchar or varbinary", id.columnType)
	}
	exp, ok := cols["expires"]
	if !ok {
		return c, errors.New("the table has no expires column")
	}
	unsigned := strings.Contains(strings.ToLower(exp.columnType), "unsigned")
	switch {
	case exp.dataType == "bigint":
		c.expMax = math.MaxInt64
	case exp.dataType == "int" && unsigned:
		c.expMax = math.MaxUint32
	case exp.dataType == "int":
		c.expMax = math.MaxInt32
	default:
		return c, fmt.Errorf("column expires is %s, expected int(11) unsigned holding Unix seconds", exp.columnType)
	}
	data, ok := cols["data"]
	if !ok {
		return c, errors.New("the table has no data column")
	}
	switch data.dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json":
		c.dataText = true
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
	default:
		return c, fmt.Errorf("column data is %s, expected mediumtext", data.columnType)
	}
	if data.octetMax.Valid {
		c.dataMax = data.octetMax.Int64
	}
	c.dataCharset = data.charset
	return c, nil
}

// ensureTable checks that the table exists, creating it when it is missing
// and CreateTable is set, and reads its columns' limits. The creation runs
// under a named lock, so that of many processes starting at once one
// creates and the others find it.
func (s *Store) ensureTable(ctx context.Context) error {
	cols, _, err := readColumns(ctx, s.db, s.opts.Table)
	if err != nil {
		return s.wrap("read table", err)
	}
	if cols == nil && s.opts.CreateTable {
		if err := s.createTable(ctx); err != nil {
			return s.wrap("create table", err)
		}
		if cols, _, err = readColumns(ctx, s.db, s.opts.Table); err != nil {
			return s.wrap("read table", err)
		}
	}
	if cols == nil {
		return fmt.Errorf("mysql: table %s does not exist; set CreateTable (create_table=true) or create it with the SQL that sessionctl schema prints", s.table)
	}
	if s.cols, err = limits(cols); err != nil {
		return fmt.Errorf("mysql: table %s: %w", s.table, err)
	}
	// The version is the SHA-256 of the data as the server holds it. When
	// the connection receives those very bytes (no character set
	// conversion of results), LoadVersion hashes them here and the server
	// hashes only on Replace; otherwise the server hashes on every
	// LoadVersion too.
	var results string
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(@@character_set_results, '')`).Scan(&results); err != nil {
		return s.wrap("read character set", err)
	}
	s.hashHere = results == "" || results == "binary" || s.cols.dataCharset == "" || strings.EqualFold(results, s.cols.dataCharset)
	return nil
}

func (s *Store) createTable(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	name := s.lockPrefix + "create"
	wait := 30
	if d, ok := ctx.Deadline(); ok {
		wait = max(1, int(time.Until(d).Seconds()))
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, name, wait).Scan(&got); err != nil {
		return err
	}
	if got.Int64 != 1 {
		return fmt.Errorf("another process held the lock %q for %ds while creating the table", name, wait)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.ExecContext(rctx, `DO RELEASE_LOCK(?)`, name)
	}()
	_, err = conn.ExecContext(ctx, ddl(s.opts.Table))
	return err
}

// stmts are the Store's prepared statements: database/sql prepares each
// once per connection, so a call is one round trip, not a prepare, an
// execute and a close.
type stmts struct {
	load, loadVersion, save, insert, takeOver, replace, probe,
	touch, del, count, prune, iterFirst, iterNext, user *sql.Stmt
}

func (st *stmts) all() []**sql.Stmt {
	return []**sql.Stmt{&st.load, &st.loadVersion, &st.save, &st.insert, &st.takeOver, &st.replace, &st.probe,
		&st.touch, &st.del, &st.count, &st.prune, &st.iterFirst, &st.iterNext, &st.user}
}

func (st *stmts) close() {
	for _, p := range st.all() {
		if *p != nil {
			(*p).Close()
		}
	}
}

// queries returns the SQL of each statement, in the order of stmts.all.
func queries(t string) []string {
	const userDoc = `(CASE WHEN NOT JSON_VALID(data) THEN NULL` +
		` WHEN JSON_TYPE(JSON_EXTRACT(data, ?)) = 'NULL' THEN NULL` +
		` ELSE JSON_UNQUOTE(JSON_EXTRACT(data, ?)) END)`
	return []string{
		// load
		`SELECT data, expires FROM ` + t + ` WHERE session_id = ? AND expires >= ?`,
		// loadVersion
		`SELECT data, expires, UNHEX(SHA2(data, 256)) FROM ` + t + ` WHERE session_id = ? AND expires >= ?`,
		// save
		`INSERT INTO ` + t + ` (session_id, expires, data) VALUES (?, ?, ?)` +
			` ON DUPLICATE KEY UPDATE expires = VALUES(expires), data = VALUES(data)`,
		// insert
		`INSERT INTO ` + t + ` (session_id, expires, data) VALUES (?, ?, ?)`,
		// takeOver: an expired row whose ID a new session reuses.
		`UPDATE ` + t + ` SET data = ?, expires = ? WHERE session_id = ? AND expires < ?`,
		// replace
		`UPDATE ` + t + ` SET data = ?, expires = ? WHERE session_id = ? AND expires >= ? AND UNHEX(SHA2(data, 256)) = ?`,
		// probe: why a replace changed nothing.
		`SELECT UNHEX(SHA2(data, 256)), expires >= ? FROM ` + t + ` WHERE session_id = ?`,
		// touch
		`UPDATE ` + t + ` SET expires = ? WHERE session_id = ? AND expires >= ?`,
		// del
		`DELETE FROM ` + t + ` WHERE session_id = ?`,
		// count
		`SELECT COUNT(*) FROM ` + t + ` WHERE expires >= ?`,
		pruneSQL(t),
		// iterFirst, iterNext
		`SELECT session_id, data, expires FROM ` + t + ` WHERE expires >= ? ORDER BY session_id LIMIT ?`,
		`SELECT session_id, data, expires FROM ` + t + ` WHERE expires >= ? AND session_id > ? ORDER BY session_id LIMIT ?`,
		// user
		`SELECT session_id FROM ` + t + ` WHERE expires >= ? AND ` + userDoc + ` = ?`,
	}
}

// pruneSQL deletes one batch. It has no ORDER BY, so that a table without
// an index on expires is read only until the batch is full.
func pruneSQL(t string) string { return `DELETE FROM ` + t + ` WHERE expires < ? LIMIT ?` }

func (s *Store) prepare(ctx context.Context) error {
	qs := queries(s.table)
	for i, p := range s.stmts.all() {
		st, err := s.db.PrepareContext(ctx, qs[i])
		if err != nil {
			s.stmts.close()
			return s.wrap("prepare", err)
		}
		*p = st
	}
	return nil
}

// topLevelText returns what JSON_UNQUOTE(JSON_EXTRACT(doc, key)) gives for
// a top-level key: a string's value, any other value's JSON text, nothing
// for null, a missing key or a document that is not an object.
func topLevelText(doc []byte, key string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return "", false
	}
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, true
	}
	return string(raw), true
}
