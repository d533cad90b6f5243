package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// findings gathers the deviations Check finds, to report them most
// serious first.
type findings struct {
	list          []session.Finding
	live, expired int64
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

// column is what the catalog says of one column.
type column struct {
	name, typ, collation string
	notNull, hasDefault  bool
}

// Check verifies, for operators, that the server answers and that the table
// is the one connect-pg-simple expects: columns, types, primary key and
// expire index. It reports the server's version and TimeZone, the live and
// expired rows and the range of their expiries, then the deviations, most
// serious first, one finding each. The error is for when the server cannot
// be asked at all. Counting reads the whole table. Check implements
// session.Checker.
func (s *Store) Check(ctx context.Context, report func(session.Finding)) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return s.wrap("check: cannot reach the server", err)
	}
	var version, tz string
	if err := s.pool.QueryRow(ctx, `SELECT version(), current_setting('TimeZone')`).Scan(&version, &tz); err != nil {
		return s.wrap("check", err)
	}
	say := func(sev session.Severity, format string, args ...any) {
		report(session.Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	say(sevOK, "connected to PostgreSQL %s", version)
	say(sevInfo, "server TimeZone %s (expiry is TimeZone-independent through to_timestamp)", tz)
	say(sevInfo, "table %s", s.names.table)
	var oid *uint32
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1)::oid`, s.names.table).Scan(&oid); err != nil {
		return s.wrap("check", err)
	}
	if oid == nil {
		say(sevError, "table %s does not exist; create it with the SQL of `sessionctl schema`, or open with create_table=true", s.names.table)
		return nil
	}
	var r findings
	if err := s.checkColumns(ctx, *oid, &r); err != nil {
		return err
	}
	if err := s.checkIndexes(ctx, *oid, &r); err != nil {
		return err
	}
	if err := s.checkRows(ctx, &r, say); err != nil {
		return err
	}
	checkTimeZone(tz, &r)
	slices.SortStableFunc(r.list, func(a, b session.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	clean := true
	for _, f := range r.list {
		report(f)
		clean = clean && f.Severity < sevWarning
	}
	if clean {
		say(sevOK, "table, columns, primary key and expire index as connect-pg-simple expects")
	}
	return nil
}

// CountExpired counts the rows that expired and await pruning, through the
// expire index. It implements session.ExpiredCounter.
func (s *Store) CountExpired(ctx context.Context) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.names.table+` WHERE "expire" < to_timestamp($1)`, unixCeil(time.Now())).Scan(&n)
	return n, s.wrap("count expired", err)
}

func (s *Store) checkColumns(ctx context.Context, oid uint32, r *findings) error {
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
		r.add(sevError, `column "sid" is missing; expected varchar NOT NULL`)
	} else {
		switch {
		case c.typ == "character varying" || c.typ == "text":
		case strings.HasPrefix(c.typ, "character varying("):
			r.add(sevWarning, `column "sid" is %s, expected unbounded varchar: longer IDs cannot be saved`, c.typ)
		default:
			r.add(sevError, `column "sid" is %s, expected varchar`, c.typ)
		}
		if c.collation != "" && c.collation != "default" {
			r.add(sevInfo, `column "sid" has collation %q, expected "default"`, c.collation)
		}
	}
	if c, ok := cols["sess"]; !ok {
		r.add(sevError, `column "sess" is missing; expected json NOT NULL`)
	} else {
		switch c.typ {
		case "json":
		case "jsonb":
			r.add(sevWarning, `column "sess" is jsonb, expected json: key order and duplicate keys of stored sessions are not kept`)
		default:
			r.add(sevError, `column "sess" is %s, expected json`, c.typ)
		}
	}
	if c, ok := cols["expire"]; !ok {
		r.add(sevError, `column "expire" is missing; expected timestamp(6) NOT NULL`)
	} else {
		switch c.typ {
		case "timestamp(6) without time zone", "timestamp without time zone":
		case "timestamp with time zone", "timestamp(6) with time zone":
			r.add(sevWarning, `column "expire" is %s, expected timestamp(6) without time zone as connect-pg-simple creates it`, c.typ)
		default:
			r.add(sevError, `column "expire" is %s, expected timestamp(6) without time zone`, c.typ)
		}
	}
	for _, name := range []string{"sid", "sess", "expire"} {
		if c, ok := cols[name]; ok && !c.notNull {
			r.add(sevWarning, `column %q is nullable, expected NOT NULL`, name)
		}
	}
	for _, name := range order {
		c := cols[name]
		if name == "sid" || name == "sess" || name == "expire" {
			continue
		}
		if c.notNull && !c.hasDefault {
			r.add(sevError, `extra column %q is NOT NULL without a default: inserts of sessions fail`, name)
		} else {
			r.add(sevInfo, `extra column %q (%s)`, name, c.typ)
		}
	}
	return nil
}

func (s *Store) checkIndexes(ctx context.Context, oid uint32, r *findings) error {
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
			r.add(sevWarning, "index %q is invalid (an interrupted CREATE INDEX CONCURRENTLY?); drop and recreate it", name)
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
		r.add(sevInfo, "primary key is named %q, connect-pg-simple names it %q", pkeyName, wantPkey)
	case !pkey && uniqueSid:
		r.add(sevWarning, `no primary key on "sid", only a unique index`)
	case !pkey:
		r.add(sevError, `no primary key on "sid": saving a session fails (ON CONFLICT needs it) and loads scan the table`)
	}
	if !expire {
		r.add(sevWarning, `no index on "expire": counting and pruning scan the whole table; create it with the SQL of Schema`)
	}
	if !user {
		r.add(sevInfo, "no index on sess ->> '%s': UserSessions scans the table (see Schema for the optional index)", s.opts.UserKey)
	}
	return nil
}

func (s *Store) checkRows(ctx context.Context, r *findings, say func(session.Severity, string, ...any)) error {
	// Only meaningful when the columns are readable as expected; a failure
	// here is already explained by a column finding.
	var oldest, newest *int64
	err := s.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE "expire" >= to_timestamp($1)),
		count(*) FILTER (WHERE "expire" < to_timestamp($1)),
		(min(date_part('epoch', "expire"::timestamptz)) * 1000)::bigint,
		(max(date_part('epoch', "expire"::timestamptz)) * 1000)::bigint
		FROM `+s.names.table, unixCeil(time.Now())).Scan(&r.live, &r.expired, &oldest, &newest)
	if err != nil {
		r.add(sevError, "cannot read the rows: %v", err)
		return nil
	}
	say(sevInfo, "%d live sessions, %d expired awaiting pruning", r.live, r.expired)
	if oldest != nil && newest != nil {
		say(sevInfo, "expiries from %s to %s", stamp(time.UnixMilli(*oldest)), stamp(time.UnixMilli(*newest)))
	}
	if r.live+r.expired > 0 && r.expired > r.live && r.expired > 10*int64(s.opts.PruneBatch) {
		r.add(sevInfo, "%d expired rows await pruning (%d live); is any process pruning?", r.expired, r.live)
	}
	return nil
}

// checkTimeZone notes a TimeZone with daylight saving time: expire keeps
// wall-clock time, so during the repeated autumn hour an expiry can read
// back an hour off, for Node exactly as for Go.
func checkTimeZone(tz string, r *findings) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return
	}
	y := time.Now().Year()
	_, jan := time.Date(y, 1, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 0, 0, 0, 0, loc).Zone()
	if jan != jul {
		r.add(sevInfo, "server TimeZone %s has daylight saving time: expiries falling in the repeated hour each autumn may read an hour off (the same for Node); UTC avoids it", tz)
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
