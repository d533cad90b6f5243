package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/gobcodec"
	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/internal/mysqltest"
	"github.com/sessionkit/sessionkit/session"
)

const doc = `{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"n":1}`

func TestRounding(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want int64
	}{{0, 0}, {-5000, 0}, {499, 0}, {500, 1}, {1499, 1}, {1500, 2}, {1_700_000_000_499, 1_700_000_000}, {1_700_000_000_500, 1_700_000_001}} {
		if got := unixRound(time.UnixMilli(c.ms)); got != c.want {
			t.Errorf("unixRound(%d ms) = %d, want %d (Math.round(ms / 1000))", c.ms, got, c.want)
		}
	}
	// A row ends at the first instant whose rounded second exceeds it.
	if end := endOf(10); unixRound(end) != 10 || unixRound(end.Add(time.Millisecond)) != 11 {
		t.Errorf("endOf(10) = %v is not the row's last live millisecond", end)
	}
}

// TestConditional checks the version token against writes from this store
// and raw writes as Node makes them.
func TestConditional(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()

	if ok, err := s.Insert(ctx, "a", []byte(doc), hour()); err != nil || !ok {
		t.Fatalf("Insert of a new id = %v, %v", ok, err)
	}
	if ok, err := s.Insert(ctx, "a", []byte(`{"other":1}`), hour()); err != nil || ok {
		t.Fatalf("Insert over a live row = %v, %v; want false, nil", ok, err)
	}
	data, _, v1, found, err := s.LoadVersion(ctx, "a")
	if err != nil || !found || string(data) != doc || len(v1) != 32 {
		t.Fatalf("LoadVersion = %s, %x, %v, %v", data, v1, found, err)
	}

	// A touch, from Go or as Node does it, leaves the version alone.
	if err := s.Touch(ctx, "a", hour().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.exec(t, "UPDATE "+s.Table()+" SET expires = ? WHERE session_id = ?", unixRound(hour().Add(2*time.Minute)), "a")
	if _, _, v, _, _ := s.LoadVersion(ctx, "a"); string(v) != string(v1) {
		t.Errorf("a touch changed the version")
	}
	if err := s.Replace(ctx, "a", []byte(`{"n":2}`), hour(), v1); err != nil {
		t.Fatalf("Replace with the current version: %v", err)
	}
	if err := s.Replace(ctx, "a", []byte(`{"n":3}`), hour(), v1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Replace with a stale version = %v, want ErrConflict", err)
	}
	_, _, v2, _, _ := s.LoadVersion(ctx, "a")
	// Node's save: INSERT … ON DUPLICATE KEY UPDATE with its own document.
	e.exec(t, "INSERT INTO "+s.Table()+" (session_id, expires, data) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE expires = VALUES(expires), data = VALUES(data)",
		"a", unixRound(hour()), `{"n":"node"}`)
	if err := s.Replace(ctx, "a", []byte(`{"n":4}`), hour(), v2); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Replace after a Node save = %v, want ErrConflict", err)
	}
	if got, _, _, _ := s.Load(ctx, "a"); string(got) != `{"n":"node"}` {
		t.Fatalf("a conflicting Replace wrote: %s", got)
	}
	// A change Node makes by trailing spaces alone is still a change.
	_, _, v3, _, _ := s.LoadVersion(ctx, "a")
	e.exec(t, "UPDATE "+s.Table()+" SET data = CONCAT(data, '  ') WHERE session_id = ?", "a")
	if err := s.Replace(ctx, "a", []byte(`{"n":5}`), hour(), v3); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Replace after trailing spaces were added = %v, want ErrConflict", err)
	}
	// Writing what is already there, with the same expiry, succeeds.
	cur, _, v4, _, _ := s.LoadVersion(ctx, "a")
	exp := hour()
	if err := s.Replace(ctx, "a", cur, exp, v4); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "a", cur, exp, v4); err != nil {
		t.Fatalf("Replace with identical values = %v, want nil", err)
	}

	// Gone: deleted, expired, never there.
	if err := s.Replace(ctx, "never", []byte(`{}`), hour(), v1); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Replace of a missing id = %v, want ErrNotFound", err)
	}
	if err := s.Save(ctx, "old", []byte(doc), hour()); err != nil {
		t.Fatal(err)
	}
	_, _, vo, _, _ := s.LoadVersion(ctx, "old")
	e.exec(t, "UPDATE "+s.Table()+" SET expires = ? WHERE session_id = ?", unixRound(time.Now())-5, "old")
	if err := s.Replace(ctx, "old", []byte(`{}`), hour(), vo); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Replace of an expired row = %v, want ErrNotFound", err)
	}
	// An expired row's id can be inserted again.
	if ok, err := s.Insert(ctx, "old", []byte(`{"new":1}`), hour()); err != nil || !ok {
		t.Fatalf("Insert over an expired row = %v, %v; want true", ok, err)
	}
	if got, _, found, _ := s.Load(ctx, "old"); !found || string(got) != `{"new":1}` {
		t.Errorf("after Insert over an expired row: %s, %v", got, found)
	}
	if err := s.Delete(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "old", []byte(`{}`), hour(), vo); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Replace of a deleted row = %v, want ErrNotFound", err)
	}
}

// TestConditionalRace runs many Replaces of one version at once: exactly
// one wins.
func TestConditionalRace(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	if err := s.Save(ctx, "r", []byte(`{"n":0}`), hour()); err != nil {
		t.Fatal(err)
	}
	_, _, v, _, _ := s.LoadVersion(ctx, "r")
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []int
		otherErr error
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Replace(ctx, "r", fmt.Appendf(nil, `{"n":%d}`, i+1), hour(), v)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, i+1)
			case !errors.Is(err, session.ErrConflict):
				otherErr = err
			}
		}()
	}
	wg.Wait()
	if otherErr != nil || len(won) != 1 {
		t.Fatalf("winners %v, error %v; want exactly one winner", won, otherErr)
	}
	if got, _, _, _ := s.Load(ctx, "r"); string(got) != fmt.Sprintf(`{"n":%d}`, won[0]) {
		t.Errorf("stored %s, but the winner was %d", got, won[0])
	}
}

// TestNodeTable runs the store on the table express-mysql-session creates,
// whose collation pads and whose ID column holds 128 characters.
func TestNodeTable(t *testing.T) {
	e := newEnv(t)
	e.exec(t, nodeSchema(e.table))
	s, err := New(t.Context(), e.db, Options{Table: e.table, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()

	if err := s.Save(ctx, "ab", []byte(`{"who":"ab"}`), hour()); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "ab ", []byte(`{"who":"ab "}`), hour()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Save of an ID with a trailing space on a padding column = %v, want ErrUnsupported", err)
	}
	if _, _, found, err := s.Load(ctx, "ab "); found || err != nil {
		t.Errorf("Load(\"ab \") found %v, %v: it would read the row of \"ab\"", found, err)
	}
	if err := s.Delete(ctx, "ab "); err != nil {
		t.Fatal(err)
	}
	if got, _, found, _ := s.Load(ctx, "ab"); !found || string(got) != `{"who":"ab"}` {
		t.Errorf("the row of \"ab\" after writes to \"ab \": %s, %v", got, found)
	}
	if err := s.Save(ctx, "a\xffb", []byte(`{}`), hour()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Save of an ID that is not UTF-8 into a varchar column = %v, want ErrUnsupported", err)
	}
	long := strings.Repeat("é", 128)
	if err := s.Save(ctx, long, []byte(`{}`), hour()); err != nil {
		t.Errorf("Save of a 128-character ID: %v", err)
	}
	if err := s.Save(ctx, long+"x", []byte(`{}`), hour()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Save of a 129-character ID = %v, want ErrUnsupported", err)
	}
	if ok, err := s.Insert(ctx, long+"x", []byte(`{}`), hour()); ok || !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Insert of a 129-character ID = %v, %v, want ErrUnsupported", ok, err)
	}
	if n, err := s.Count(ctx); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}

	all, clean := check(t, s)
	for _, want := range []string{"warning: no index on expires", "info: column session_id's collation utf8mb4_bin ignores trailing spaces",
		"info: column expires is int(11) unsigned", "info: column session_id is varchar(128)", "info: 2 live sessions, 0 expired"} {
		if !strings.Contains(all, want) {
			t.Errorf("Check of the Node table lacks %q:\n%s", want, all)
		}
	}
	if clean {
		t.Errorf("Check of a table without an expires index is clean:\n%s", all)
	}
	// The SQL Check proposes adds the index, and Check is then satisfied.
	e.exec(t, addIndex(e.table))
	if all, clean := check(t, s); !clean || !strings.Contains(all, "ok: table, columns") {
		t.Errorf("after adding the index Check still reports\n%s", all)
	}
}

// check runs Check and returns its findings, one per line, and whether
// none was a warning or an error.
func check(t *testing.T, s *Store) (string, bool) {
	t.Helper()
	var lines []string
	clean := true
	err := s.Check(t.Context(), func(f session.Finding) {
		lines = append(lines, f.String())
		clean = clean && f.Severity < session.SeverityWarning
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return strings.Join(lines, "\n"), clean
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	if err := s.Save(ctx, "live", []byte(doc), hour()); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "dead", []byte(doc), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, clean := check(t, s)
	for _, want := range []string{"ok: connected to MySQL/MariaDB", "info: time_zone", "info: 1 live sessions, 1 expired", "info: expiries from", "ok: table, columns"} {
		if !strings.Contains(all, want) {
			t.Errorf("Check of the table New created lacks %q:\n%s", want, all)
		}
	}
	if !clean || strings.Contains(all, "character set") {
		t.Errorf("Check of the table New created:\n%s", all)
	}
	if n, err := s.CountExpired(ctx); err != nil || n != 1 {
		t.Errorf("CountExpired = %d, %v; want 1", n, err)
	}

	// A table that mixes up IDs by case, and has a column Go cannot fill.
	bad := mysqltest.Table(t)
	e.exec(t, "CREATE TABLE "+quoteIdent(bad)+" (session_id varchar(255) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, expires int NOT NULL, data text, owner int NOT NULL)")
	sb, err := New(ctx, e.db, Options{Table: bad, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	all, _ = check(t, sb)
	for _, want := range []string{"error: column session_id has collation utf8mb4_general_ci", "error: extra column owner is NOT NULL", "warning: column expires is a signed int", "warning: column data is text"} {
		if !strings.Contains(all, want) {
			t.Errorf("Check lacks %q:\n%s", want, all)
		}
	}

	// A table dropped under a running store.
	e.exec(t, "DROP TABLE "+quoteIdent(bad))
	if all, clean := check(t, sb); clean || !strings.Contains(all, "error: table `"+bad+"` does not exist") {
		t.Errorf("Check of a dropped table:\n%s", all)
	}

	// A missing table.
	s.Close()
	gone := mysqltest.Table(t)
	s2, err := New(ctx, e.db, Options{Table: gone, PruneInterval: -1})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("New on a missing table = %v, want an error saying so", err)
	}
	_ = s2
}

func TestCodec(t *testing.T) {
	s := newEnv(t).store(t, Options{})
	if err := s.CheckCodec(jsoncodec.New()); err != nil {
		t.Errorf("CheckCodec(json) = %v", err)
	}
	if err := s.CheckCodec(gobcodec.New()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("CheckCodec(gob) = %v, want ErrUnsupported", err)
	}
	if _, err := session.New(session.Config{Store: s, Codec: gobcodec.New()}); err == nil {
		t.Errorf("a Manager with the gob codec was accepted")
	}
}

// TestLimits checks that what the columns cannot hold exactly is refused,
// even where a non-strict sql_mode would have cut it short.
func TestLimits(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE "+quoteIdent(e.table)+" (session_id varchar(16) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, expires int unsigned NOT NULL, data text COLLATE utf8mb4_bin)")
	db := mysqltest.DB(t, map[string]string{"sql_mode": "''"})
	s, err := New(t.Context(), db, Options{Table: e.table, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	big := []byte(`{"x":"` + strings.Repeat("y", 70000) + `"}`)
	if err := s.Save(ctx, "a", big, hour()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Save of 70 kB into a text column = %v, want ErrUnsupported", err)
	}
	if err := s.Save(ctx, "b", []byte("{\"x\":\"\xff\"}"), hour()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Save of invalid UTF-8 = %v, want ErrUnsupported", err)
	}
	if err := s.Save(ctx, strings.Repeat("i", 17), []byte(`{}`), hour()); !errors.Is(err, session.ErrUnsupported) {
		t.Errorf("Save of a 17-character ID into varchar(16) = %v, want ErrUnsupported", err)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Errorf("%d rows were written", n)
	}
	// An int unsigned column: far expiries are kept at its largest value.
	if err := s.Save(ctx, "far", []byte(`{}`), time.Now().AddDate(200, 0, 0)); err != nil {
		t.Fatal(err)
	}
	var exp int64
	if err := e.db.QueryRow("SELECT expires FROM " + s.Table() + " WHERE session_id = 'far'").Scan(&exp); err != nil || exp != 1<<32-1 {
		t.Errorf("expires = %d, %v; want %d", exp, err, int64(1<<32-1))
	}
}

// TestTimeZones writes and reads through connections in different time
// zones: expires is Unix seconds and means the same to all of them.
func TestTimeZones(t *testing.T) {
	table := mysqltest.Table(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	var stores []*Store
	for _, tz := range []string{"'+00:00'", "'+09:00'", "'-07:00'"} {
		db := mysqltest.DB(t, map[string]string{"time_zone": tz})
		var got string
		if err := db.QueryRow("SELECT @@session.time_zone").Scan(&got); err != nil || "'"+got+"'" != tz {
			t.Fatalf("time_zone = %q, %v; want %s", got, err, tz)
		}
		s, err := New(t.Context(), db, Options{Table: table, CreateTable: true, PruneInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Save(t.Context(), "tz"+tz, []byte(doc), exp); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	for _, s := range stores {
		var n int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM "+s.Table()+" WHERE expires = ?", exp.Unix()).Scan(&n); err != nil || n != 3 {
			t.Errorf("rows with expires = %d: %d, %v; want 3", exp.Unix(), n, err)
		}
		err := s.Iterate(t.Context(), func(r session.Record) error {
			if !r.ExpiresAt.Equal(endOf(exp.Unix())) {
				t.Errorf("%q ends at %v, want %v", r.ID, r.ExpiresAt, endOf(exp.Unix()))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestUserSessions(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	rows := map[string]string{
		"str":     `{"user_id":"ann"}`,
		"upper":   `{"user_id":"Ann"}`,
		"num":     `{"user_id":42}`,
		"null":    `{"user_id":null}`,
		"nested":  `{"x":{"user_id":"ann"}}`,
		"broken":  `{"user_id":"ann"`,
		"array":   `[1]`,
		"quote":   `{"user_id":"a\"b"}`,
		"unicode": `{"user_id":"\u00e9\ud83d\ude00"}`,
	}
	for id, d := range rows {
		e.exec(t, "INSERT INTO "+s.Table()+" VALUES (?, ?, ?)", id, unixRound(hour()), d)
	}
	e.exec(t, "INSERT INTO "+s.Table()+" VALUES (?, ?, NULL)", "nulldata", unixRound(hour()))
	e.exec(t, "INSERT INTO "+s.Table()+" VALUES (?, ?, ?)", "expired", unixRound(time.Now())-10, `{"user_id":"ann"}`)
	for user, want := range map[string][]string{
		"ann": {"str"}, "Ann": {"upper"}, "42": {"num"}, "null": nil, `a"b`: {"quote"}, "é😀": {"unicode"},
	} {
		got, err := s.UserSessions(ctx, user)
		if err != nil {
			t.Fatalf("UserSessions(%q): %v", user, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("UserSessions(%q) = %q, want %q", user, got, want)
		}
		slow, err := s.userSessionsSlow(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(slow)
		if !slices.Equal(slow, want) {
			t.Errorf("userSessionsSlow(%q) = %q, want %q", user, slow, want)
		}
	}
	// A key that needs quoting in a JSON path.
	s2 := newEnv(t).store(t, Options{UserKey: `we"ird.key`})
	if err := s2.Save(ctx, "w", []byte(`{"we\"ird.key":"zoe"}`), hour()); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.UserSessions(ctx, "zoe"); err != nil || !slices.Equal(got, []string{"w"}) {
		t.Errorf("UserSessions with key %q = %q, %v", s2.UserKey(), got, err)
	}
}

func TestPrune(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{PruneBatch: 7})
	ctx := t.Context()
	for i := range 30 {
		exp := time.Now().Add(-time.Hour)
		if i%3 == 0 {
			exp = hour()
		}
		if err := s.Save(ctx, fmt.Sprint("p", i), []byte(`{}`), exp); err != nil {
			t.Fatal(err)
		}
	}
	var batches []int64
	s.batchHook = func(n int64) { batches = append(batches, n) }
	n, err := s.Prune(ctx)
	if err != nil || n != 20 {
		t.Fatalf("Prune = %d, %v; want 20", n, err)
	}
	if !slices.Equal(batches, []int64{7, 7, 6}) {
		t.Errorf("batches %v, want [7 7 6]", batches)
	}
	var left int
	e.db.QueryRow("SELECT COUNT(*) FROM " + s.Table()).Scan(&left)
	if left != 10 {
		t.Errorf("%d rows left, want the 10 live ones", left)
	}

	// Another process holding the prune lock: this one skips its round.
	conn, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got int
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", s.lockPrefix+"prune").Scan(&got); err != nil || got != 1 {
		t.Fatalf("GET_LOCK: %d, %v", got, err)
	}
	if ran, _, err := s.pruneExclusive(ctx); ran || err != nil {
		t.Errorf("pruneExclusive while another holds the lock: ran=%v err=%v", ran, err)
	}
	conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", s.lockPrefix+"prune")
	if ran, _, err := s.pruneExclusive(ctx); !ran || err != nil {
		t.Errorf("pruneExclusive after the lock was released: ran=%v err=%v", ran, err)
	}
	// And it released the lock again.
	if err := conn.QueryRowContext(ctx, "SELECT IS_FREE_LOCK(?)", s.lockPrefix+"prune").Scan(&got); err != nil || got != 1 {
		t.Errorf("the prune lock is held after the round: IS_FREE_LOCK = %d, %v", got, err)
	}
}

// TestPruneLoop checks that the background loop prunes and that Close stops
// it.
func TestPruneLoop(t *testing.T) {
	e := newEnv(t)
	s0 := e.store(t, Options{})
	if err := s0.Save(t.Context(), "x", []byte(`{}`), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, err := newStore(t.Context(), e.db, false, Options{Table: e.table, PruneInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan bool, 100)
	s.loopHook = func(r bool) { ran <- r }
	s.stop()
	s.opts.PruneInterval = 20 * time.Millisecond
	s.startPruneLoop()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the prune loop did not run")
	}
	s.Close()
	select {
	case <-s.loopDone:
	default:
		t.Fatal("Close returned before the loop ended")
	}
	var n int
	e.db.QueryRow("SELECT COUNT(*) FROM " + s.Table()).Scan(&n)
	if n != 0 {
		t.Errorf("%d expired rows left after a round", n)
	}
}

// TestCreateTableAtOnce starts many stores on one missing table at once.
func TestCreateTableAtOnce(t *testing.T) {
	db := mysqltest.DB(t, nil)
	table := mysqltest.Table(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(context.Background(), db, Options{Table: table, CreateTable: true, PruneInterval: -1})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("New: %v", err)
	}
	var create string
	if err := db.QueryRow("SHOW CREATE TABLE "+quoteIdent(table)).Scan(new(string), &create); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(create, "`session_id` varbinary(255) NOT NULL") || !strings.Contains(create, "KEY `idx_"+table+"_expires`") {
		t.Errorf("created table:\n%s", create)
	}
}

func TestClosed(t *testing.T) {
	s := newEnv(t).store(t, Options{})
	s.Close()
	if _, _, _, err := s.Load(t.Context(), "a"); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Load after Close = %v", err)
	}
	if err := s.Replace(t.Context(), "a", nil, hour(), nil); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Replace after Close = %v", err)
	}
	if s.Close() != nil {
		t.Error("a second Close failed")
	}
}

func TestNoDatabase(t *testing.T) {
	cfg := mysqltest.Config(t, nil)
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		mysqltest.Unavailable(t, err)
	}
	if _, err := New(t.Context(), db, Options{}); err == nil || !strings.Contains(err.Error(), "no default database") {
		t.Errorf("New without a database = %v", err)
	}
}

// TestVersionWhereHashed checks that the version LoadVersion computes in Go
// is the server's SHA2 of the stored data, and that a connection that
// converts results to another character set gets the server's own.
func TestVersionWhereHashed(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, Options{})
	ctx := t.Context()
	const d = `{"cookie":{},"who":"Zoë 😀 日本"}`
	if err := s.Save(ctx, "v", []byte(d), hour()); err != nil {
		t.Fatal(err)
	}
	_, _, v, _, err := s.LoadVersion(ctx, "v")
	if err != nil || !s.hashHere {
		t.Fatalf("LoadVersion: %v; hashed in Go: %v", err, s.hashHere)
	}
	var server []byte
	if err := e.db.QueryRow("SELECT UNHEX(SHA2(data, 256)) FROM " + s.Table() + " WHERE session_id = 'v'").Scan(&server); err != nil || string(server) != string(v) {
		t.Fatalf("version %x, server's SHA2 %x (%v)", v, server, err)
	}

	latin := mysqltest.DB(t, map[string]string{"character_set_results": "latin1"})
	sl, err := New(ctx, latin, Options{Table: e.table, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	if sl.hashHere {
		t.Fatal("a connection converting results to latin1 hashes in Go")
	}
	_, _, vl, _, err := sl.LoadVersion(ctx, "v")
	if err != nil || string(vl) != string(v) {
		t.Fatalf("version through latin1 results %x, %v; want %x", vl, err, v)
	}
	if err := sl.Replace(ctx, "v", []byte(`{"cookie":{},"n":1}`), hour(), vl); err != nil {
		t.Fatalf("Replace through latin1 results: %v", err)
	}
	if err := sl.Replace(ctx, "v", []byte(`{"cookie":{},"n":2}`), hour(), vl); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("stale Replace through latin1 results = %v", err)
	}
}
