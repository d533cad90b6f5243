package mysqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// findings gathers the deviations Check finds, to report them most serious
// first.
type findings struct {
	list []session.Finding
}

func (r *findings) add(sev session.Severity, format string, args ...any) {
	r.list = append(r.list, session.Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// Severities, short.
const (
	sevOK      = session.SeverityOK
	sevInfo    = session.SeverityInfo
	sevWarning = session.SeverityWarning
	sevError   = session.SeverityError
)

// Check verifies, for operators, that the server answers and that the table
// is one both this store and express-mysql-session can use: columns, types,
// collation, primary key, the expires index and the engine. It reports the
// server's version, the time zones (which expiry does not depend on), the
// live and expired rows and the range of their expiries, then the
// deviations, most serious first, one finding each: among them a connection
// character set other than utf8mb4 and a server clock far from this host's.
// The error is for when the server cannot be asked at all. Counting reads
// the whole table unless expires has an index. Check implements
// session.Checker.
func (s *Store) Check(ctx context.Context, report func(session.Finding)) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return s.wrap("check: cannot reach the server", err)
	}
	say := func(sev session.Severity, format string, args ...any) {
		report(session.Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	var (
		version, database, tz, globalTZ, systemTZ, charset string
		serverNow                                          int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT VERSION(), COALESCE(DATABASE(), ''), @@session.time_zone, @@global.time_zone,
		@@system_time_zone, @@character_set_connection, UNIX_TIMESTAMP()`).Scan(
		&version, &database, &tz, &globalTZ, &systemTZ, &charset, &serverNow)
	if err != nil {
		return s.wrap("check", err)
	}
	say(sevOK, "connected to MySQL/MariaDB %s, database %s", version, database)
	say(sevInfo, "time_zone %s (server default %s, system %s; expiry is Unix seconds, independent of them)", tz, globalTZ, systemTZ)
	say(sevInfo, "table %s", s.table)
	var r findings
	if skew := serverNow - time.Now().Unix(); skew > 2 || skew < -2 {
		r.add(sevInfo, "the server's clock is %+ds off this host's; expiry is decided by the applications' clocks (Go's and Node's), so keep every application host's clock right", skew)
	}
	if charset != "utf8mb4" {
		r.add(sevWarning, "the connection's character set is %s, not utf8mb4: characters it cannot hold (such as emoji) make saves fail", charset)
	}
	var engine sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT ENGINE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, s.opts.Table).Scan(&engine)
	if err == sql.ErrNoRows {
		r.add(sevError, "table %s does not exist in database %s; create it with the SQL that `sessionctl schema` prints, open with create_table=true, or let express-mysql-session create it", s.table, database)
		r.emit(report)
		return nil
	}
	if err != nil {
		return s.wrap("check", err)
	}
	if engine.Valid && !strings.EqualFold(engine.String, "InnoDB") {
		r.add(sevWarning, "table %s uses the %s engine, expected InnoDB: writes lock the whole table", s.table, engine.String)
	}
	if err := s.checkColumns(ctx, &r); err != nil {
		return err
	}
	if err := s.checkIndexes(ctx, &r); err != nil {
		return err
	}
	s.checkRows(ctx, &r, say)
	if r.emit(report) {
		say(sevOK, "table, columns, primary key and expires index fit express-mysql-session and this store")
	}
	return nil
}

// emit reports the findings, most serious first, and whether none was a
// warning or an error.
func (r *findings) emit(report func(session.Finding)) (clean bool) {
	slices.SortStableFunc(r.list, func(a, b session.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	clean = true
	for _, f := range r.list {
		report(f)
		clean = clean && f.Severity < sevWarning
	}
	return clean
}

// CountExpired counts the rows that expired and await pruning. It
// implements session.ExpiredCounter; with the expires index (Schema) it
// reads only those rows.
func (s *Store) CountExpired(ctx context.Context) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+s.table+` WHERE expires < ?`, unixRound(time.Now())).Scan(&n)
	return n, s.wrap("count expired", err)
}

func (s *Store) checkColumns(ctx context.Context, r *findings) error {
	cols, order, err := readColumns(ctx, s.db, s.opts.Table)
	if err != nil {
		return s.wrap("check columns", err)
	}
	if c, ok := cols["session_id"]; !ok {
		r.add(sevError, "column session_id is missing; expected varchar(128) COLLATE utf8mb4_bin NOT NULL")
	} else {
		switch c.dataType {
		case "varbinary", "binary":
		case "varchar", "char":
			coll := strings.ToLower(c.collation)
			if !strings.HasSuffix(coll, "_bin") && !strings.Contains(coll, "_cs") && !strings.Contains(coll, "nopad_bin") {
				r.add(sevError, "column session_id has collation %s, which compares without regard to case or accents: IDs such as \"Ab\" and \"ab\" share one row; use utf8mb4_bin", c.collation)
			}
			if padding(c.collation) {
				r.add(sevInfo, "column session_id's collation %s ignores trailing spaces: the store refuses IDs ending in one (varbinary(255), as Schema creates it, compares exactly)", c.collation)
			}
		default:
			r.add(sevError, "column session_id is %s, expected varchar or varbinary", c.columnType)
		}
		if c.charMax.Valid && c.charMax.Int64 < 64 {
			r.add(sevWarning, "column session_id is %s: longer IDs cannot be saved", c.columnType)
		} else if c.charMax.Valid && c.charMax.Int64 < 255 {
			r.add(sevInfo, "column session_id is %s: the store refuses longer IDs", c.columnType)
		}
		if c.nullable {
			r.add(sevWarning, "column session_id is nullable, expected NOT NULL")
		}
	}
	if c, ok := cols["expires"]; !ok {
		r.add(sevError, "column expires is missing; expected int(11) unsigned NOT NULL, Unix seconds")
	} else {
		unsigned := strings.Contains(strings.ToLower(c.columnType), "unsigned")
		switch {
		case c.dataType == "bigint":
		case c.dataType == "int" && unsigned:
			r.add(sevInfo, "column expires is %s: expiries after 2106 are stored as 2106", c.columnType)
		case c.dataType == "int":
			r.add(sevWarning, "column expires is a signed %s: expiries after January 2038 are stored as 2038; expected int(11) unsigned", c.columnType)
		default:
			r.add(sevError, "column expires is %s, expected int(11) unsigned holding Unix seconds", c.columnType)
		}
		if c.nullable {
			r.add(sevWarning, "column expires is nullable, expected NOT NULL")
		}
	}
	if c, ok := cols["data"]; !ok {
		r.add(sevError, "column data is missing; expected mediumtext COLLATE utf8mb4_bin")
	} else {
		switch c.dataType {
		case "mediumtext", "longtext":
		case "text", "varchar", "tinytext", "char":
			r.add(sevWarning, "column data is %s, expected mediumtext: sessions over %d bytes cannot be saved", c.columnType, c.octetMax.Int64)
		case "json":
			r.add(sevWarning, "column data is json, expected mediumtext: the server rewrites stored documents (key order, spacing)")
		case "blob", "mediumblob", "longblob", "varbinary":
			r.add(sevWarning, "column data is %s, expected mediumtext: express-mysql-session reads it as a Buffer, not as JSON", c.columnType)
		default:
			r.add(sevError, "column data is %s, expected mediumtext", c.columnType)
		}
		if coll := strings.ToLower(c.collation); coll != "" && !strings.HasPrefix(coll, "utf8mb4") {
			r.add(sevWarning, "column data has collation %s, expected utf8mb4_bin: characters outside it cannot be saved", c.collation)
		}
	}
	for _, name := range order {
		c := cols[name]
		if name == "session_id" || name == "expires" || name == "data" {
			continue
		}
		r.add(sevInfo, "extra column %s (%s)", c.name, c.columnType)
	}
	var required []string
	err = queryStrings(ctx, s.db, &required, `SELECT COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL
		AND EXTRA NOT LIKE '%auto_increment%' AND EXTRA NOT LIKE '%GENERATED%'
		AND COLUMN_NAME NOT IN ('session_id', 'expires', 'data')`, s.opts.Table)
	if err != nil {
		return s.wrap("check columns", err)
	}
	for _, name := range required {
		r.add(sevError, "extra column %s is NOT NULL without a default: inserts of sessions fail", name)
	}
	return nil
}

func queryStrings(ctx context.Context, db *sql.DB, dst *[]string, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		*dst = append(*dst, v)
	}
	return rows.Err()
}

func (s *Store) checkIndexes(ctx context.Context, r *findings) error {
	rows, err := s.db.QueryContext(ctx, `SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME,
		(SELECT COUNT(*) FROM information_schema.STATISTICS s2 WHERE s2.TABLE_SCHEMA = s.TABLE_SCHEMA
		 AND s2.TABLE_NAME = s.TABLE_NAME AND s2.INDEX_NAME = s.INDEX_NAME)
		FROM information_schema.STATISTICS s
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1`, s.opts.Table)
	if err != nil {
		return s.wrap("check indexes", err)
	}
	defer rows.Close()
	var pkey, uniqueID, expires bool
	for rows.Next() {
		var (
			name, col     string
			nonUnique     bool
			seq, nColumns int
		)
		if err := rows.Scan(&name, &nonUnique, &seq, &col, &nColumns); err != nil {
			return s.wrap("check indexes", err)
		}
		col = strings.ToLower(col)
		switch {
		case name == "PRIMARY" && col == "session_id" && nColumns == 1:
			pkey = true
		case !nonUnique && col == "session_id" && nColumns == 1:
			uniqueID = true
		case col == "expires":
			expires = true
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap("check indexes", err)
	}
	switch {
	case !pkey && uniqueID:
		r.add(sevWarning, "no primary key on session_id, only a unique index")
	case !pkey:
		r.add(sevError, "no primary key on session_id: saves add rows instead of replacing them, and loads read the whole table")
	}
	if !expires {
		r.add(sevWarning, "no index on expires (express-mysql-session creates none): counting and pruning read the whole table; add it with %s", addIndex(s.opts.Table))
	}
	return nil
}

// checkRows counts the rows. A failure here is explained by a column
// finding, so it is a finding, not an error.
func (s *Store) checkRows(ctx context.Context, r *findings, say func(session.Severity, string, ...any)) {
	now := unixRound(time.Now())
	var live, expired, oldest, newest sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT SUM(expires >= ?), SUM(expires < ?), MIN(expires), MAX(expires) FROM `+s.table,
		now, now).Scan(&live, &expired, &oldest, &newest)
	if err != nil {
		r.add(sevError, "cannot read the rows: %v", err)
		return
	}
	say(sevInfo, "%d live sessions, %d expired awaiting pruning", live.Int64, expired.Int64)
	if oldest.Valid && newest.Valid {
		say(sevInfo, "expiries from %s to %s", stamp(time.Unix(oldest.Int64, 0)), stamp(time.Unix(newest.Int64, 0)))
	}
	if expired.Int64 > live.Int64 && expired.Int64 > 10*int64(s.opts.PruneBatch) {
		r.add(sevInfo, "%d expired rows await pruning (%d live); is any process pruning?", expired.Int64, live.Int64)
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
