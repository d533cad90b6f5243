package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
)

const damagedSessions = 2000

func damagedID(i int) string { return fmt.Sprintf("sess%05d", i) }

// goodFile builds a file of 2,000 live sessions (300 bytes each, every
// tenth linked to a user) and 100 expired ones, and returns its bytes, the
// page size, the size of the pages in use, and the page IDs of the data
// bucket's root (a branch page) and of its first leaf.
func goodFile(t *testing.T) (content []byte, page int, used int, branch, leaf uint64) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "good.db")
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rnd := mrand.New(mrand.NewPCG(1, 2))
	data := make([]byte, 300)
	for i := range damagedSessions {
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		if err := s.Save(ctx, damagedID(i), data, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if err := s.LinkUser(ctx, fmt.Sprint("user", i%7), damagedID(i), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 100 {
		if err := s.Save(ctx, fmt.Sprint("old", i), data, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket(s.data).RootPage()
		info, err := tx.Page(int(root))
		if err != nil {
			return err
		}
		if info == nil || info.Type != "branch" {
			return fmt.Errorf("data bucket root %d is %+v, want a branch page", root, info)
		}
		branch = uint64(root)
		used = int(tx.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	content, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	page = os.Getpagesize()
	// Down the first branch elements (pos, ksize: 4 bytes each, then the
	// child's pgid) to a leaf (page flags 0x02).
	leaf = branch
	for binary.LittleEndian.Uint16(content[int(leaf)*page+8:]) != 0x02 {
		leaf = binary.LittleEndian.Uint64(content[int(leaf)*page+16+8:])
	}
	return content, page, used, branch, leaf
}

// setMetaPgid rewrites the high water mark of both meta pages and makes
// their checksums match again: damage a checksum cannot see.
func setMetaPgid(b []byte, page int, pgid uint64) {
	for m := range 2 {
		meta := b[m*page+16:]
		binary.LittleEndian.PutUint64(meta[40:], pgid)
		h := fnv.New64a()
		h.Write(meta[:56])
		binary.LittleEndian.PutUint64(meta[56:], h.Sum64())
	}
}

// TestDamagedFile damages a 2,000-session file in many ways and runs, in a
// child process, Open and then loads, saves, touches, deletes, user links,
// Count, Iterate, Prune and Close on it, with and without Verify. A crash of
// the child (bbolt faults on some damaged pages, a fault no recover catches
// by default) fails the test instead of ending the run. Each damage either
// makes Open fail with an error naming the file, or leaves a file every
// operation works on (a damaged record reads as not found); the damage
// marked fatal must fail Open.
func TestDamagedFile(t *testing.T) {
	good, page, used, branch, leaf := goodFile(t)
	garbage := func(seed uint64, n int) []byte {
		b := make([]byte, n)
		var key [32]byte
		binary.LittleEndian.PutUint64(key[:], seed)
		_, _ = mrand.NewChaCha8(key).Read(b)
		return b
	}
	at := func(off int, p []byte) func([]byte) []byte {
		return func(b []byte) []byte { copy(b[off:], p); return b }
	}
	n := len(good)
	cases := []struct {
		name   string
		damage func([]byte) []byte
		fatal  bool // Open must fail
	}{
		{"truncated-to-half", func(b []byte) []byte { return b[:n/2] }, true},
		{"truncated-mid-page", func(b []byte) []byte { return b[:used-page/2] }, true},
		{"truncated-slack", func(b []byte) []byte { return b[:used+100] }, false},
		{"random-64k-at-third", at(n/3, garbage(1, 64<<10)), false},
		{"random-page-at-quarter", at(n/4+100, garbage(2, page)), false},
		{"random-page-at-half", at(n/2+7, garbage(3, page)), false},
		{"random-page-at-three-quarters", at(3*n/4, garbage(4, page)), false},
		{"random-after-metas", at(2*page, garbage(5, n-2*page)), true},
		{"zeroed-meta-0", at(0, make([]byte, page)), false},
		{"zeroed-metas", at(0, make([]byte, 2*page)), true},
		{"random-metas", at(0, garbage(6, 2*page)), true},
		{"zeroed-data-root", at(int(branch)*page, make([]byte, page)), true},
		{"zeroed-data-leaf", at(int(leaf)*page, make([]byte, page)), true},
		{"random-leaf-values", at(int(leaf)*page+page/4, garbage(7, page/8)), false},
		{"branch-cycle", func(b []byte) []byte {
			// The branch's first child is the branch itself.
			binary.LittleEndian.PutUint64(b[int(branch)*page+16+8:], branch)
			return b
		}, true},
		{"leaf-key-out-of-bounds", func(b []byte) []byte {
			// The first element's key length reaches far past the file.
			binary.LittleEndian.PutUint32(b[int(leaf)*page+16+8:], 1<<30)
			return b
		}, true},
		{"meta-beyond-file", func(b []byte) []byte {
			setMetaPgid(b, page, uint64(4*n/page))
			return b
		}, true},
	}
	// And random damage, different on every run: the seed is logged.
	seed := uint64(time.Now().UnixNano())
	t.Logf("random damage seed %d", seed)
	rnd := mrand.New(mrand.NewPCG(seed, 0))
	for i := range 8 {
		off, size := 2*page+rnd.IntN(n-2*page), 1+rnd.IntN(64<<10)
		cases = append(cases, struct {
			name   string
			damage func([]byte) []byte
			fatal  bool
		}{fmt.Sprintf("random-%d-bytes-at-%d", size, off), at(off, garbage(seed+uint64(i), size)), false})
		// A few bytes of one page's header or element table, where the
		// offsets and sizes bbolt follows live.
		pg, pos, b := 2+rnd.IntN(used/page-2), 8+rnd.IntN(72), byte(rnd.Uint32())
		cases = append(cases, struct {
			name   string
			damage func([]byte) []byte
			fatal  bool
		}{fmt.Sprintf("byte-%d-of-page-%d", pos, pg), at(pg*page+pos, []byte{b, b ^ 0x5a}), false})
	}
	for _, c := range cases {
		for _, verify := range []bool{false, true} {
			name := c.name
			mode := "damaged"
			if verify {
				name += "/verify"
				mode = "damaged-verify"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				file := filepath.Join(t.TempDir(), "damaged.db")
				if err := os.WriteFile(file, c.damage(bytes.Clone(good)), 0o600); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), childEnv+"="+mode, fileEnv+"="+file)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					tail := stderr.String()
					if len(tail) > 3000 {
						tail = tail[:3000]
					}
					t.Fatalf("child died (%v); stdout %q; stderr:\n%s", err, out, tail)
				}
				res := string(out)
				t.Log(strings.TrimSpace(res))
				if !strings.Contains(res, "\ndone") {
					t.Fatalf("child did not finish: %q", res)
				}
				opened := strings.HasPrefix(res, "open ok")
				if c.fatal && opened {
					t.Fatalf("Open of the damaged file succeeded")
				}
				if opened && !strings.Contains(res, " 0 operations failed") {
					t.Fatalf("a file that passed Open's check failed operations: %q", res)
				}
				if !opened && (!strings.Contains(res, file) || !strings.Contains(res, "damaged: true")) {
					t.Fatalf("Open error does not name the file or is not ErrDamaged: %q", res)
				}
			})
		}
	}
}

// childDamaged opens file and runs every operation on it, printing what
// happened; a crash is what the parent looks for.
func childDamaged(file string, verify bool) {
	ctx := context.Background()
	s, err := Open(file, Options{PruneInterval: -1, Verify: verify})
	if err != nil {
		fmt.Printf("open error: %v\ndamaged: %v\ndone\n", err, errors.Is(err, ErrDamaged))
		os.Exit(0)
	}
	fmt.Println("open ok")
	var found, errs int
	count := func(err error) {
		if err != nil {
			errs++
		}
	}
	for i := range damagedSessions {
		_, _, ok, err := s.Load(ctx, damagedID(i))
		count(err)
		if ok {
			found++
		}
	}
	exp := time.Now().Add(time.Hour)
	for i := range 200 {
		count(s.Save(ctx, fmt.Sprint("new", i), make([]byte, 300), exp))
		count(s.Touch(ctx, damagedID(i*7), exp))
		count(s.Delete(ctx, damagedID(i*9)))
		count(s.LinkUser(ctx, "user", damagedID(i*5), exp))
	}
	_, err = s.UserSessions(ctx, "user3")
	count(err)
	_, err = s.Count(ctx)
	count(err)
	count(s.Iterate(ctx, func(session.Record) error { return nil }))
	_, err = s.Prune(ctx)
	count(err)
	count(s.Ping(ctx))
	count(s.Close())
	fmt.Printf("found %d of %d, %d operations failed\ndone\n", found, damagedSessions, errs)
	os.Exit(0)
}

// TestDamagedWhileOpen damages a file under an open store, in a child
// process: truncated to half (reads of the mapped pages past the end fault
// with SIGBUS) or with its pages zeroed (bbolt panics on them). Loads and
// the other reads fail with ErrDamaged, saves (committed by the store's own
// goroutine) fail with ErrDamaged too, and the process lives on.
func TestDamagedWhileOpen(t *testing.T) {
	good, _, _, _, _ := goodFile(t)
	for _, mode := range []string{"damage-live-truncate", "damage-live-zero"} {
		t.Run(strings.TrimPrefix(mode, "damage-live-"), func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "live.db")
			if err := os.WriteFile(file, good, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+mode, fileEnv+"="+file)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				tail := stderr.String()
				if len(tail) > 3000 {
					tail = tail[:3000]
				}
				t.Fatalf("child died (%v); stdout %q; stderr:\n%s", err, out, tail)
			}
			res := string(out)
			t.Log(strings.TrimSpace(res))
			var loads, saves, others int
			if _, err := fmt.Sscanf(res, "damaged loads %d saves %d others %d", &loads, &saves, &others); err != nil {
				t.Fatalf("child output %q: %v", res, err)
			}
			if loads == 0 || saves == 0 {
				t.Fatalf("the damage went unreported: %d loads and %d saves failed with ErrDamaged", loads, saves)
			}
			if others != 0 {
				t.Fatalf("%d operations failed with another error than ErrDamaged", others)
			}
		})
	}
}

// childDamageLive opens file, damages it, and counts the operations that
// fail with ErrDamaged.
func childDamageLive(file, mode string) {
	ctx := context.Background()
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	fi, err := os.Stat(file)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	page := int64(os.Getpagesize())
	switch mode {
	case "damage-live-truncate":
		err = os.Truncate(file, fi.Size()/2)
	case "damage-live-zero":
		var f *os.File
		if f, err = os.OpenFile(file, os.O_WRONLY, 0); err == nil {
			_, err = f.WriteAt(make([]byte, fi.Size()-2*page), 2*page)
			_ = f.Close()
		}
	}
	if err != nil {
		fmt.Println("damage:", err)
		os.Exit(1)
	}
	var loads, saves, others int
	count := func(n *int, err error) {
		switch {
		case errors.Is(err, ErrDamaged):
			*n++
		case err != nil:
			others++
			fmt.Fprintln(os.Stderr, "not ErrDamaged:", err)
		}
	}
	for i := range damagedSessions {
		_, _, _, err := s.Load(ctx, damagedID(i))
		count(&loads, err)
	}
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				err := s.Save(ctx, damagedID(w*50+i), make([]byte, 300), exp)
				mu.Lock()
				count(&saves, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var reads int // the other operations: a failure must be ErrDamaged
	_, err = s.Count(ctx)
	count(&reads, err)
	count(&reads, s.Iterate(ctx, func(session.Record) error { return nil }))
	_, err = s.Prune(ctx)
	count(&reads, err)
	_, err = s.UserSessions(ctx, "user3")
	count(&reads, err)
	count(&reads, s.Close())
	fmt.Printf("damaged loads %d saves %d others %d\n", loads, saves, others)
	os.Exit(0)
}

// TestDamageReset opens damaged files with DamageReset: a bbolt file is
// moved aside, unchanged, under a timestamped name, the move is logged
// without any session ID, and the store starts empty and works; a file that
// is not a bbolt file is left where it is and Open fails.
func TestDamageReset(t *testing.T) {
	good, page, _, branch, _ := goodFile(t)
	ctx := context.Background()
	for name, at := range map[string]int{"zeroed-data-root": int(branch) * page, "zeroed-metas": 0} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sessions.db")
			damaged := bytes.Clone(good)
			copy(damaged[at:], make([]byte, 2*page))
			if err := os.WriteFile(file, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			s, err := Open(file, Options{PruneInterval: -1, OnDamage: DamageReset, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatalf("Open with DamageReset: %v", err)
			}
			defer s.Close()
			if n, err := s.Count(ctx); n != 0 || err != nil {
				t.Errorf("Count of the new file = %d, %v; want 0", n, err)
			}
			if err := s.Save(ctx, "new", []byte("x"), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, _, found, err := s.Load(ctx, "new"); !found || err != nil {
				t.Errorf("Load after the reset: %v, %v", found, err)
			}
			aside, _ := filepath.Glob(file + ".damaged-*")
			if len(aside) != 1 {
				t.Fatalf("files moved aside: %v; want one", aside)
			}
			if moved, err := os.ReadFile(aside[0]); err != nil || !bytes.Equal(moved, damaged) {
				t.Errorf("the file moved aside is not the damaged file (%v)", err)
			}
			l := log.String()
			t.Log(l)
			if !strings.Contains(l, "moved aside") || !strings.Contains(l, aside[0]) || strings.Contains(l, "sess0") {
				t.Errorf("log does not name the move, or names a session: %s", l)
			}
		})
	}
	t.Run("not-bbolt", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "notes.txt")
		text := bytes.Repeat([]byte("not a database\n"), 1000)
		if err := os.WriteFile(file, text, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(file, Options{PruneInterval: -1, OnDamage: DamageReset})
		if err == nil {
			s.Close()
			t.Fatal("Open of a text file succeeded")
		}
		t.Log(err)
		if got, _ := os.ReadFile(file); !bytes.Equal(got, text) {
			t.Error("the text file was moved or changed")
		}
		if aside, _ := filepath.Glob(file + ".damaged-*"); len(aside) != 0 {
			t.Errorf("a text file was moved aside: %v", aside)
		}
	})
}

// BenchmarkOpenCheck compares, on a file of 100,000 sessions of 300 bytes
// (about 70 MB), the check Open makes before mapping a file with bbolt's own
// open of the same file and with a whole store Open (check included).
func BenchmarkOpenCheck(b *testing.B) {
	file := filepath.Join(b.TempDir(), "big.db")
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 300)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 100_000; i += 8 {
				if err := s.Save(context.Background(), damagedID(i), data, time.Now().Add(time.Hour)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	_ = s.Close()
	fi, _ := os.Stat(file)
	b.Logf("file of %d bytes", fi.Size())
	b.Run("checkFile", func(b *testing.B) {
		for b.Loop() {
			if err := CheckFile(file); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bbolt.Open", func(b *testing.B) {
		for b.Loop() {
			db, err := bbolt.Open(file, 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			_ = db.Close()
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			s, err := Open(file, Options{PruneInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			_ = s.Close()
		}
	})
}

// BenchmarkGuard measures what the guard around each bbolt call costs: the
// same read transaction (one Get) through bbolt's View and through the
// store's guarded view.
func BenchmarkGuard(b *testing.B) {
	s := openTest(b, Options{})
	if err := s.Save(context.Background(), "id", make([]byte, 300), time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	get := func(tx *bbolt.Tx) error {
		if tx.Bucket(s.data).Get([]byte("id")) == nil {
			return errors.New("missing")
		}
		return nil
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.db.View(get); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("guarded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.view("load", get); err != nil {
				b.Fatal(err)
			}
		}
	})
}
