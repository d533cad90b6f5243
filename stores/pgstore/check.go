package pgstore

import (
	"context"
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
	// Error is a deviation that makes sessions fail to load or save.
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
	// Table is the quoted table name checked.
	Table string
	// ServerVersion is the server's version string.
	ServerVersion string
	// TimeZone is the server's TimeZone setting for the store's
	// connections.
	TimeZone string
	// Live and Expired count the rows whose expire is, and is not yet,
	// before now. Expired rows are waiting for the pruning.
	Live, Expired int64
	// OldestExpiry and NewestExpiry are the earliest and latest expire of
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

// column is what the catalog says of one column.
type column struct {
	name, typ, collation string
	notNull, hasDefault  bool
}

// Check verifies, for operators, that the server answers and that the table
// is the one connect-pg-simple expects: columns, types, primary key and
// expire index. It also counts live and expired rows, reads the oldest and
// newest expiry and the server's TimeZone. Deviations are Findings, one line
// each; the error is for when the server cannot be asked at all. Counting
// reads the whole table.
func (s *Store) Check(ctx context.Context) (Report, error) {
	r := Report{Table: s.names.table}
	if err := s.checkOpen(); err != nil {
		return r, err
	}
	if err := s.pool.Ping(ctx); err != nil {
		r.add(Error, "cannot reach the server: %v", err)
		return r, s.wrap("check", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT version(), current_setting('TimeZone')`).Scan(&r.ServerVersion, &r.TimeZone); err != nil {
		return r, s.wrap("check", err)
	}
	var oid *uint32
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1)::oid`, s.names.table).Scan(&oid); err != nil {
		return r, s.wrap("check", err)
	}
	if oid == nil {
		r.add(Error, "table %s does not exist; create it with the SQL of Schema (sessionctl schema)", s.names.table)
		return r, nil
	}
	if err := s.checkColumns(ctx, *oid, &r); err != nil {
		return r, err
	}
	if err := s.checkIndexes(ctx, *oid, &r); err != nil {
		return r, err
	}
	if err := s.checkRows(ctx, &r); err != nil {
		return r, err
	}
	checkTimeZone(&r)
	sortFindings(r.Findings)
	return r, nil
}

func (s *Store) checkColumns(ctx context.Context, oid uint32, r *Report) error {
	rows, err := s.pool.Query(ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(c.collname, ''),
		       a.attnotnull, a.atthasdef
		FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, oid)
	if err != nil {
		return s.wrap("check columns", err)
	}
	cols := map[string]column{}
	var order []string
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.collation, &c.notNull, &c.hasDefault); err != nil {
			rows.Close()
			return s.wrap("check columns", err)
		}
		cols[c.name] = c
		order = append(order, c.name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.wrap("check columns", err)
	}

	if c, ok := cols["sid"]; !ok {
		r.add(Error, `column "sid" is missing; expected varchar NOT NULL`)
	} else {
		switch {
		case c.typ == "character varying" || c.typ == "text":
		case strings.HasPrefix(c.typ, "character varying("):
			r.add(Warning, `column "sid" is %s, expected unbounded varchar: longer IDs cannot be saved`, c.typ)
		default:
			r.add(Error, `column "sid" is %s, expected varchar`, c.typ)
		}
		if c.collation != "" && c.collation != "default" {
			r.add(Info, `column "sid" has collation %q, expected "default"`, c.collation)
		}
	}
	if c, ok := cols["sess"]; !ok {
		r.add(Error, `column "sess" is missing; expected json NOT NULL`)
	} else {
		switch c.typ {
		case "json":
		case "jsonb":
			r.add(Warning, `column "sess" is jsonb, expected json: key order and duplicate keys of stored sessions are not kept`)
		default:
			r.add(Error, `column "sess" is %s, expected json`, c.typ)
		}
	}
	if c, ok := cols["expire"]; !ok {
		r.add(Error, `column "expire" is missing; expected timestamp(6) NOT NULL`)
	} else {
		switch c.typ {
		case "timestamp(6) without time zone", "timestamp without time zone":
		case "timestamp with time zone", "timestamp(6) with time zone":
			r.add(Warning, `column "expire" is %s, expected timestamp(6) without time zone as connect-pg-simple creates it`, c.typ)
		default:
			r.add(Error, `column "expire" is %s, expected timestamp(6) without time zone`, c.typ)
		}
	}
	for _, name := range []string{"sid", "sess", "expire"} {
		if c, ok := cols[name]; ok && !c.notNull {
			r.add(Warning, `column %q is nullable, expected NOT NULL`, name)
		}
	}
	for _, name := range order {
		c := cols[name]
		if name == "sid" || name == "sess" || name == "expire" {
			continue
		}
		if c.notNull && !c.hasDefault {
			r.add(Error, `extra column %q is NOT NULL without a default: inserts of sessions fail`, name)
		} else {
			r.add(Info, `extra column %q (%s)`, name, c.typ)
		}
	}
	return nil
}

func (s *Store) checkIndexes(ctx context.Context, oid uint32, r *Report) error {
	rows, err := s.pool.Query(ctx, `
		SELECT c.relname, i.indisprimary, i.indisunique, i.indisvalid,
		       coalesce(a.attname, ''), pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = $1`, oid)
	if err != nil {
		return s.wrap("check indexes", err)
	}
	var (
		pkey, uniqueSid, expire, user bool
		pkeyName                      string
	)
	wantPkey := s.opts.Table + "_pkey"
	for rows.Next() {
		var (
			name, firstCol, def      string
			primary, unique, isValid bool
		)
		if err := rows.Scan(&name, &primary, &unique, &isValid, &firstCol, &def); err != nil {
			rows.Close()
			return s.wrap("check indexes", err)
		}
		if !isValid {
			r.add(Warning, "index %q is invalid (an interrupted CREATE INDEX CONCURRENTLY?); drop and recreate it", name)
			continue
		}
		single := !strings.Contains(def, ",")
		switch {
		case primary && firstCol == "sid" && single:
			pkey, pkeyName = true, name
		case unique && firstCol == "sid" && single:
			uniqueSid = true
		case firstCol == "expire":
			expire = true
		case firstCol == "" && strings.Contains(def, "->>") && strings.Contains(def, s.opts.UserKey):
			user = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.wrap("check indexes", err)
	}
	switch {
	case pkey && pkeyName != wantPkey:
		r.add(Info, "primary key is named %q, connect-pg-simple names it %q", pkeyName, wantPkey)
	case !pkey && uniqueSid:
		r.add(Warning, `no primary key on "sid", only a unique index`)
	case !pkey:
		r.add(Error, `no primary key on "sid": saving a session fails (ON CONFLICT needs it) and loads scan the table`)
	}
	if !expire {
		r.add(Warning, `no index on "expire": counting and pruning scan the whole table; create it with the SQL of Schema`)
	}
	if !user {
		r.add(Info, "no index on sess ->> '%s': UserSessions scans the table (see Schema for the optional index)", s.opts.UserKey)
	}
	return nil
}

func (s *Store) checkRows(ctx context.Context, r *Report) error {
	// Only meaningful when the columns are readable as expected; a failure
	// here is already explained by a column finding.
	var oldest, newest *int64
	err := s.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE "expire" >= to_timestamp($1)),
		count(*) FILTER (WHERE "expire" < to_timestamp($1)),
		(min(date_part('epoch', "expire"::timestamptz)) * 1000)::bigint,
		(max(date_part('epoch', "expire"::timestamptz)) * 1000)::bigint
		FROM `+s.names.table, unixCeil(time.Now())).Scan(&r.Live, &r.Expired, &oldest, &newest)
	if err != nil {
		r.add(Error, "cannot read the rows: %v", err)
		return nil
	}
	if oldest != nil {
		r.OldestExpiry = time.UnixMilli(*oldest)
	}
	if newest != nil {
		r.NewestExpiry = time.UnixMilli(*newest)
	}
	if r.Live+r.Expired > 0 && r.Expired > r.Live && r.Expired > 10*int64(s.opts.PruneBatch) {
		r.add(Info, "%d expired rows await pruning (%d live); is any process pruning?", r.Expired, r.Live)
	}
	return nil
}

// checkTimeZone notes a TimeZone with daylight saving time: expire keeps
// wall-clock time, so during the repeated autumn hour an expiry can read
// back an hour off, for Node exactly as for Go.
func checkTimeZone(r *Report) {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return
	}
	y := time.Now().Year()
	_, jan := time.Date(y, 1, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 0, 0, 0, 0, loc).Zone()
	if jan != jul {
		r.add(Info, "server TimeZone %s has daylight saving time: expiries falling in the repeated hour each autumn may read an hour off (the same for Node); UTC avoids it", r.TimeZone)
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
