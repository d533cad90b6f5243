package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
)

// openTest opens a store on a fresh file under t.TempDir and closes it at
// the end of the test.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.PruneInterval == 0 {
		opts.PruneInterval = -1
	}
	s, err := Open(filepath.Join(t.TempDir(), "sessions.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, session.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// checkIndex fails the test unless the expiry index holds exactly one entry
// per record, carrying that record's expiry.
func checkIndex(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bbolt.Tx) error {
		data, exp := tx.Bucket(s.data), tx.Bucket(s.exp)
		want := map[string]bool{}
		err := data.ForEach(func(k, v []byte) error {
			want[string(indexKey(v, k))] = true
			return nil
		})
		if err != nil {
			return err
		}
		return exp.ForEach(func(k, _ []byte) error {
			if !want[string(k)] {
				return fmt.Errorf("index entry %q has no record", k)
			}
			delete(want, string(k))
			return nil
		})
		// want is checked below
	})
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	var nd, ne int
	_ = s.db.View(func(tx *bbolt.Tx) error {
		nd = tx.Bucket(s.data).Stats().KeyN
		ne = tx.Bucket(s.exp).Stats().KeyN
		return nil
	})
	if nd != ne {
		t.Fatalf("index has %d entries for %d records", ne, nd)
	}
}

func TestSaveLoadTouchDelete(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	exp := time.Now().Add(time.Hour).Round(0)

	if _, _, found, err := s.Load(ctx, "nope"); found || err != nil {
		t.Fatalf("Load(missing) = found %v, err %v; want false, nil", found, err)
	}
	if err := s.Save(ctx, "a", []byte("hello"), exp); err != nil {
		t.Fatal(err)
	}
	data, gotExp, found, err := s.Load(ctx, "a")
	if err != nil || !found || string(data) != "hello" || !gotExp.Equal(exp) {
		t.Fatalf("Load = %q, %v, %v, %v; want hello, %v, true, nil", data, gotExp, found, err, exp)
	}
	data[0] = 'X' // the caller owns the slice
	if data, _, _, _ := s.Load(ctx, "a"); string(data) != "hello" {
		t.Fatalf("Load after changing the returned slice = %q", data)
	}

	exp2 := exp.Add(time.Hour)
	if err := s.Touch(ctx, "a", exp2); err != nil {
		t.Fatal(err)
	}
	if data, got, _, _ := s.Load(ctx, "a"); string(data) != "hello" || !got.Equal(exp2) {
		t.Fatalf("after Touch: %q, %v; want hello, %v", data, got, exp2)
	}
	if err := s.Touch(ctx, "missing", exp2); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := s.Load(ctx, "missing"); found {
		t.Fatal("Touch created a record")
	}
	checkIndex(t, s)

	if err := s.Save(ctx, "a", []byte("second"), exp); err != nil {
		t.Fatal(err)
	}
	if data, _, _, _ := s.Load(ctx, "a"); string(data) != "second" {
		t.Fatalf("after second Save: %q", data)
	}
	checkIndex(t, s)

	for range 2 { // idempotent
		if err := s.Delete(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, found, _ := s.Load(ctx, "a"); found {
		t.Fatal("found after Delete")
	}
	checkIndex(t, s)

	if err := s.Save(ctx, "", nil, exp); err == nil {
		t.Error("Save with an empty id succeeded")
	}
	if err := s.Save(ctx, string(make([]byte, bbolt.MaxKeySize)), nil, exp); err == nil {
		t.Error("Save with an over-long id succeeded")
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestExpired(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	past := time.Now().Add(-time.Second)
	for _, exp := range []time.Time{past, time.Unix(-5, 0), {}} {
		if err := s.Save(ctx, "old", []byte("x"), exp); err != nil {
			t.Fatal(err)
		}
		if _, _, found, _ := s.Load(ctx, "old"); found {
			t.Fatalf("record expiring at %v was loaded", exp)
		}
	}
	// Touch must not revive an expired record.
	if err := s.Touch(ctx, "old", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := s.Load(ctx, "old"); found {
		t.Fatal("Touch revived an expired record")
	}
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Save(ctx, "far", []byte("x"), far); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := s.Load(ctx, "far"); !found {
		t.Fatal("record expiring in year 3000 not found")
	}
}

func TestDamagedRecordNotFound(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if err := s.Save(ctx, "a", []byte("hello"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.data)
		v := bytes.Clone(b.Get([]byte("a")))
		v[len(v)-1] ^= 0xff
		if err := b.Put([]byte("short"), []byte{1}); err != nil {
			return err
		}
		return b.Put([]byte("a"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "short"} {
		if data, _, found, err := s.Load(ctx, id); found || err != nil {
			t.Errorf("Load(%s) of a damaged record = %q, %v, %v; want not found", id, data, found, err)
		}
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{PruneBatch: 7})
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	for i := range 40 {
		exp := past
		if i%8 == 0 {
			exp = future
		}
		if err := s.Save(ctx, fmt.Sprint("s", i), []byte("x"), exp); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(ctx)
	if err != nil || n != 35 {
		t.Fatalf("Prune = %d, %v; want 35, nil", n, err)
	}
	if c, err := s.Count(ctx); err != nil || c != 5 {
		t.Fatalf("Count = %d, %v; want 5", c, err)
	}
	checkIndex(t, s)
	var keys int
	_ = s.db.View(func(tx *bbolt.Tx) error { keys = tx.Bucket(s.data).Stats().KeyN; return nil })
	if keys != 5 {
		t.Fatalf("%d records left in the data bucket; want 5", keys)
	}
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0, nil", n, err)
	}
}

func TestBackgroundPrune(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{PruneInterval: 5 * time.Millisecond})
	if err := s.Save(ctx, "old", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var keys int
		_ = s.db.View(func(tx *bbolt.Tx) error { keys = tx.Bucket(s.data).Stats().KeyN; return nil })
		if keys == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background prune did not remove the expired record")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUserIndex(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	future := time.Now().Add(time.Hour)
	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		if err := s.Save(ctx, id, []byte("x"), future); err != nil {
			t.Fatal(err)
		}
	}
	links := [][2]string{{"alice", "s1"}, {"alice", "s2"}, {"alice2", "s3"}, {"bob", "s4"}}
	for _, l := range links {
		if err := s.LinkUser(ctx, l[0], l[1], future); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.UserSessions(ctx, "alice")
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"s1", "s2"}) {
		t.Fatalf("UserSessions(alice) = %v, %v; want [s1 s2]", got, err)
	}
	if err := s.UnlinkUser(ctx, "alice", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlinkUser(ctx, "alice", "never"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserSessions(ctx, "alice"); !slices.Equal(got, []string{"s2"}) {
		t.Fatalf("after unlink: %v; want [s2]", got)
	}
	if got, _ := s.UserSessions(ctx, "nobody"); len(got) != 0 {
		t.Fatalf("UserSessions(nobody) = %v", got)
	}
}

// TestPruneLinks checks that an expired link survives while its session is
// live (the Manager only touches the session) and goes with it afterwards.
func TestPruneLinks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{PruneBatch: 2})
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	for i := range 5 {
		id := fmt.Sprint("live", i)
		if err := s.Save(ctx, id, []byte("x"), future); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkUser(ctx, "u", id, past); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkUser(ctx, "u", fmt.Sprint("gone", i), past); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := s.UserSessions(ctx, "u")
	slices.Sort(got)
	if want := []string{"live0", "live1", "live2", "live3", "live4"}; !slices.Equal(got, want) {
		t.Fatalf("after prune: %v; want %v", got, want)
	}
	var users, userexp int
	_ = s.db.View(func(tx *bbolt.Tx) error {
		users = tx.Bucket(s.users).Stats().KeyN
		userexp = tx.Bucket(s.userexp).Stats().KeyN
		c := tx.Bucket(s.userexp).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if binary.BigEndian.Uint64(k) != uint64(future.UnixNano()) {
				t.Errorf("link %q not moved to its session's expiry", k[8:])
			}
		}
		return nil
	})
	if users != 5 || userexp != 5 {
		t.Fatalf("%d links and %d link index entries left; want 5 and 5", users, userexp)
	}
}

func TestIterateAndCount(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	want := map[string]string{}
	var wg sync.WaitGroup
	for w := range 8 { // concurrent writers share commits: fewer fsyncs
		wg.Go(func() {
			for i := w; i < 3*iterBatch+10; i += 8 {
				id, exp := fmt.Sprintf("id%04d", i), future
				if i%5 == 0 {
					exp = past
				}
				if err := s.Save(ctx, id, []byte(fmt.Sprint("data", i)), exp); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := range 3*iterBatch + 10 {
		if i%5 != 0 {
			want[fmt.Sprintf("id%04d", i)] = fmt.Sprint("data", i)
		}
	}
	if n, err := s.Count(ctx); err != nil || n != int64(len(want)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(want))
	}
	got := map[string]string{}
	err := s.Iterate(ctx, func(r session.Record) error {
		got[r.ID] = string(r.Data)
		if !r.ExpiresAt.Equal(future.Round(0)) {
			t.Errorf("%s expires %v; want %v", r.ID, r.ExpiresAt, future)
		}
		// fn runs outside any transaction, so it may write.
		if len(got) <= 3 {
			return s.Delete(ctx, r.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Iterate saw %d records; want %d", len(got), len(want))
	}
	for id, d := range want {
		if got[id] != d {
			t.Fatalf("Iterate: %s = %q; want %q", id, got[id], d)
		}
	}
	if n, _ := s.Count(ctx); n != int64(len(want)-3) {
		t.Fatalf("Count after deleting 3 = %d; want %d", n, len(want)-3)
	}
	stop := errors.New("stop")
	_ = s.Save(ctx, "x", nil, future)
	if err := s.Iterate(ctx, func(session.Record) error { return stop }); err != stop {
		t.Fatalf("Iterate returned %v; want fn's error", err)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{PruneInterval: time.Millisecond})
	if err := s.Save(ctx, "a", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan struct{}{"committer": s.committerDone, "pruner": s.pruneDone} {
		select {
		case <-ch:
		default:
			t.Errorf("%s goroutine still running after Close", name)
		}
	}
	if err := s.Close(); !errors.Is(err, session.ErrClosed) {
		t.Errorf("second Close = %v; want ErrClosed", err)
	}
	checks := map[string]error{
		"Save":   s.Save(ctx, "a", nil, time.Now().Add(time.Hour)),
		"Touch":  s.Touch(ctx, "a", time.Now()),
		"Delete": s.Delete(ctx, "a"),
		"Ping":   s.Ping(ctx),
		"Link":   s.LinkUser(ctx, "u", "a", time.Now()),
	}
	_, _, _, checks["Load"] = s.Load(ctx, "a")
	_, checks["Count"] = s.Count(ctx)
	_, checks["Prune"] = s.Prune(ctx)
	_, checks["UserSessions"] = s.UserSessions(ctx, "u")
	checks["Iterate"] = s.Iterate(ctx, func(session.Record) error { return nil })
	for name, err := range checks {
		if !errors.Is(err, session.ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
}

// TestNewLeavesDBOpen checks that a store on the caller's DB stops its
// goroutines on Close but leaves the DB usable.
func TestNewLeavesDBOpen(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "shared.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, Options{Bucket: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), "a", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-s.committerDone
	<-s.pruneDone
	if err := db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("web/data")).Get([]byte("a")) == nil {
			return errors.New("record missing")
		}
		return nil
	}); err != nil {
		t.Fatalf("caller's DB after Close: %v", err)
	}
}

// TestWritersConcurrent runs many writers under -race and checks every
// write landed and the index stayed consistent.
func TestWritersConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	future := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.Save(ctx, id, []byte(id), future); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					if err := s.Touch(ctx, id, future.Add(time.Minute)); err != nil {
						t.Error(err)
					}
				}
				if i%5 == 0 {
					if err := s.Delete(ctx, id); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if n, _ := s.Count(ctx); n != 8*40 {
		t.Fatalf("Count = %d; want %d", n, 8*40)
	}
	checkIndex(t, s)
}
