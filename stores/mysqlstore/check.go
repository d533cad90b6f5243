package mysqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Severity ranks a Finding.
type Severity int

// Severities, from least to most serious.
const (
	// Info is worth knowing and needs no action.
	Info Severity = iota
	// Warning is a deviation that works but costs performance or
	// compatibility.
	Warning
	// Error is a deviation that makes sessions fail to load or save, or
	// mixes them up.
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Finding is one line of a Report.
type Finding struct {
	Severity Severity
	Message  string
}

func (f Finding) String() string { return f.Severity.String() + ": " + f.Message }

// Report is what Check found. Counts and expiries are zero when the table
// could not be read.
type Report struct {
	// Table is the quoted table name checked, and Database the database
	// holding it.
	Table, Database string
	// ServerVersion is the server's version string.
	ServerVersion string
	// TimeZone is the time_zone of the store's connections, and
	// GlobalTimeZone the server's default (SYSTEM: the host's, named in
	// SystemTimeZone). Expiry does not depend on them.
	TimeZone, GlobalTimeZone, SystemTimeZone string
	// Charset is the connection's character_set_connection.
	Charset string
	// Live and Expired count the rows whose expires is, and is not, live
	// now. Expired rows are waiting for the pruning.
	Live, Expired int64
	// OldestExpiry and NewestExpiry are the earliest and latest expires of
	// all rows; zero when the table is empty.
	OldestExpiry, NewestExpiry time.Time
	// Findings lists every deviation, most serious first.
	Findings []Finding
}

// OK reports whether Check found nothing worse than Info.
func (r Report) OK() bool {
	for _, f := range r.Findings {
		if f.Severity > Info {
			return false
		}
	}
	return true
}

func (r *Report) add(sev Severity, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// Check verifies, for operators, that the server answers and that the table
// is one both this store and express-mysql-session can use: columns,
// types, collation, primary key, the expires index and the engine. It also
// counts live and expired rows, reads the oldest and newest expiry, the
// time zones, the connection's character set and the server's clock.
// Deviations are Findings, one line each; the error is for when the server
// cannot be asked at all. Counting reads the whole table.
func (s *Store) Check(ctx context.Context) (Report, error) {
	r := Report{Table: s.table}
	if err := s.checkOpen(); err != nil {
		return r, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		r.add(Error, "cannot reach the server: %v", err)
		return r, s.wrap("check", err)
	}
	var serverNow int64
	err := s.db.QueryRowContext(ctx, `SELECT VERSION(), COALESCE(DATABASE(), ''), @@session.time_zone, @@global.time_zone,
		@@system_time_zone, @@character_set_connection, UNIX_TIMESTAMP()`).Scan(
		&r.ServerVersion, &r.Database, &r.TimeZone, &r.GlobalTimeZone, &r.SystemTimeZone, &r.Charset, &serverNow)
	if err != nil {
		return r, s.wrap("check", err)
	}
	if skew := serverNow - time.Now().Unix(); skew > 2 || skew < -2 {
		r.add(Info, "the server's clock is %+ds off this host's; expiry is decided by the applications' clocks (Go's and Node's), so keep every application host's clock right", skew)
	}
	if r.Charset != "utf8mb4" {
		r.add(Warning, "the connection's character set is %s, not utf8mb4: characters it cannot hold (such as emoji) make saves fail", r.Charset)
	}

	var engine sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT ENGINE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, s.opts.Table).Scan(&engine)
	if err == sql.ErrNoRows {
		r.add(Error, "table %s does not exist in database %s; create it with the SQL of mysqlstore.Schema, or let express-mysql-session create it", s.table, r.Database)
		return r, nil
	}
	if err != nil {
		return r, s.wrap("check", err)
	}
	if engine.Valid && !strings.EqualFold(engine.String, "InnoDB") {
		r.add(Warning, "table %s uses the %s engine, expected InnoDB: writes lock the whole table", s.table, engine.String)
	}
	if err := s.checkColumns(ctx, &r); err != nil {
		return r, err
	}
	if err := s.checkIndexes(ctx, &r); err != nil {
		return r, err
	}
	s.checkRows(ctx, &r)
	sortFindings(r.Findings)
	return r, nil
}

func (s *Store) checkColumns(ctx context.Context, r *Report) error {
	cols, order, err := readColumns(ctx, s.db, s.opts.Table)
	if err != nil {
		return s.wrap("check columns", err)
	}
	if c, ok := cols["session_id"]; !ok {
		r.add(Error, "column session_id is missing; expected varchar(128) COLLATE utf8mb4_bin NOT NULL")
	} else {
		switch c.dataType {
		case "varbinary", "binary":
		case "varchar", "char":
			coll := strings.ToLower(c.collation)
			if !strings.HasSuffix(coll, "_bin") && !strings.Contains(coll, "_cs") && !strings.Contains(coll, "nopad_bin") {
				r.add(Error, "column session_id has collation %s, which compares without regard to case or accents: IDs such as \"Ab\" and \"ab\" share one row; use utf8mb4_bin", c.collation)
			}
			if padding(c.collation) {
				r.add(Info, "column session_id's collation %s ignores trailing spaces: the store refuses IDs ending in one (varbinary(255), as Schema creates it, compares exactly)", c.collation)
			}
		default:
			r.add(Error, "column session_id is %s, expected varchar or varbinary", c.columnType)
		}
		if c.charMax.Valid && c.charMax.Int64 < 64 {
			r.add(Warning, "column session_id is %s: longer IDs cannot be saved", c.columnType)
		} else if c.charMax.Valid && c.charMax.Int64 < 255 {
			r.add(Info, "column session_id is %s: the store refuses longer IDs", c.columnType)
		}
		if c.nullable {
			r.add(Warning, "column session_id is nullable, expected NOT NULL")
		}
	}
	if c, ok := cols["expires"]; !ok {
		r.add(Error, "column expires is missing; expected int(11) unsigned NOT NULL, Unix seconds")
	} else {
		unsigned := strings.Contains(strings.ToLower(c.columnType), "unsigned")
		switch {
		case c.dataType == "bigint":
		case c.dataType == "int" && unsigned:
			r.add(Info, "column expires is %s: expiries after 2106 are stored as 2106", c.columnType)
		case c.dataType == "int":
			r.add(Warning, "column expires is a signed %s: expiries after January 2038 are stored as 2038; expected int(11) unsigned", c.columnType)
		default:
			r.add(Error, "column expires is %s, expected int(11) unsigned holding Unix seconds", c.columnType)
		}
		if c.nullable {
			r.add(Warning, "column expires is nullable, expected NOT NULL")
		}
	}
	if c, ok := cols["data"]; !ok {
		r.add(Error, "column data is missing; expected mediumtext COLLATE utf8mb4_bin")
	} else {
		switch c.dataType {
		case "mediumtext", "longtext":
		case "text", "varchar", "tinytext", "char":
			r.add(Warning, "column data is %s, expected mediumtext: sessions over %d bytes cannot be saved", c.columnType, c.octetMax.Int64)
		case "json":
			r.add(Warning, "column data is json, expected mediumtext: the server rewrites stored documents (key order, spacing)")
		case "blob", "mediumblob", "longblob", "varbinary":
			r.add(Warning, "column data is %s, expected mediumtext: express-mysql-session reads it as a Buffer, not as JSON", c.columnType)
		default:
			r.add(Error, "column data is %s, expected mediumtext", c.columnType)
		}
		if coll := strings.ToLower(c.collation); coll != "" && !strings.HasPrefix(coll, "utf8mb4") {
			r.add(Warning, "column data has collation %s, expected utf8mb4_bin: characters outside it cannot be saved", c.collation)
		}
	}
	for _, name := range order {
		c := cols[name]
		if name == "session_id" || name == "expires" || name == "data" {
			continue
		}
		r.add(Info, "extra column %s (%s)", c.name, c.columnType)
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
		r.add(Error, "extra column %s is NOT NULL without a default: inserts of sessions fail", name)
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

func (s *Store) checkIndexes(ctx context.Context, r *Report) error {
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
		r.add(Warning, "no primary key on session_id, only a unique index")
	case !pkey:
		r.add(Error, "no primary key on session_id: saves add rows instead of replacing them, and loads read the whole table")
	}
	if !expires {
		r.add(Warning, "no index on expires (express-mysql-session creates none): counting and pruning read the whole table; add it with %s", addIndex(s.opts.Table))
	}
	return nil
}

// checkRows counts the rows. A failure here is explained by a column
// finding, so it is a finding, not an error.
func (s *Store) checkRows(ctx context.Context, r *Report) {
	now := unixRound(time.Now())
	var oldest, newest sql.NullInt64
	var live, expired sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT SUM(expires >= ?), SUM(expires < ?), MIN(expires), MAX(expires) FROM `+s.table,
		now, now).Scan(&live, &expired, &oldest, &newest)
	if err != nil {
		r.add(Error, "cannot read the rows: %v", err)
		return
	}
	r.Live, r.Expired = live.Int64, expired.Int64
	if oldest.Valid {
		r.OldestExpiry = time.Unix(oldest.Int64, 0)
	}
	if newest.Valid {
		r.NewestExpiry = time.Unix(newest.Int64, 0)
	}
	if r.Expired > r.Live && r.Expired > 10*int64(s.opts.PruneBatch) {
		r.add(Info, "%d expired rows await pruning (%d live); is any process pruning?", r.Expired, r.Live)
	}
}

func sortFindings(fs []Finding) {
	// Stable, most serious first; few findings, so insertion sort.
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Severity > fs[j-1].Severity; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}
