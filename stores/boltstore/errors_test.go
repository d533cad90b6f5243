package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// fillUntilError saves 1 KiB sessions until Save fails and returns the IDs
// saved before that and the error.
func fillUntilError(s *Store, limit int) ([]string, error) {
	var ids []string
	data := make([]byte, 1024)
	for i := range limit {
		id := fmt.Sprint("fill", i)
		if err := s.Save(context.Background(), id, data, time.Now().Add(time.Hour)); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// checkAll reopens file and fails unless every id is there.
func checkAll(file string, ids []string) error {
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer s.Close()
	for _, id := range ids {
		if _, _, found, err := s.Load(context.Background(), id); !found || err != nil {
			return fmt.Errorf("%s saved before the failure: found %v, err %v", id, found, err)
		}
	}
	return nil
}

// TestMaxSize fills a file capped with bbolt's MaxSize: the failing Save
// says why and names the file, and every earlier Save survives a reopen.
func TestMaxSize(t *testing.T) {
	file := filepath.Join(t.TempDir(), "capped.db")
	s, err := Open(file, Options{PruneInterval: -1, Bolt: &bbolt.Options{MaxSize: 256 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := fillUntilError(s, 10000)
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "maximum size") {
		t.Fatalf("Save into a full file = %v; want an error naming %s", err, file)
	}
	t.Logf("%d saves, then: %v", len(ids), err)
	if len(ids) == 0 {
		t.Fatal("no Save succeeded before the file was full")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := checkAll(file, ids); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFull fills a real, tiny tmpfs until the kernel answers ENOSPC.
// Mounting needs root, so a child process does it in a mount namespace of
// its own, which takes the mount away when it exits.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	cmd, out := child(t, "diskfull", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child in its own mount namespace: %v", err)
	}
	report := lines(out)
	err := cmd.Wait()
	for _, l := range report {
		t.Log(l)
	}
	if len(report) > 0 && strings.HasPrefix(report[0], "skip") {
		t.Skip(report[0])
	}
	if err != nil {
		t.Fatalf("disk-full child failed: %v", err)
	}
}

func childDiskFull(dir string) {
	fail := func(format string, args ...any) {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=512k"); err != nil {
		fmt.Println("skip: cannot mount a tmpfs:", err)
		os.Exit(0)
	}
	file := filepath.Join(dir, "full.db")
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		fail("open: %v", err)
	}
	ids, err := fillUntilError(s, 100000)
	fmt.Printf("%d saves, then: %v\n", len(ids), err)
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), file) ||
		!strings.Contains(err.Error(), "disk full") {
		fail("Save on a full disk = %v; want ENOSPC naming %s", err, file)
	}
	// The store stays usable for reads, and earlier data is intact.
	for _, id := range ids {
		if _, _, found, err := s.Load(context.Background(), id); !found || err != nil {
			fail("%s after ENOSPC: found %v, err %v", id, found, err)
		}
	}
	if err := s.Close(); err != nil {
		fail("close: %v", err)
	}
	if err := checkAll(file, ids); err != nil {
		fail("%v", err)
	}
	fmt.Println("ok: every session saved before the disk filled is intact after reopen")
	os.Exit(0)
}

// TestReadOnly opens files that even root cannot write: an immutable file
// and a new file in an immutable directory (chattr +i; file modes do not
// stop root). A bbolt DB opened ReadOnly covers New.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "ro.db")
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "kept", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	t.Run("bolt-readonly", func(t *testing.T) {
		db, err := bbolt.Open(file, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = New(db, Options{Bucket: "other"})
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("New on a read-only DB = %v; want an error naming %s", err, file)
		}
		t.Log(err)
	})

	t.Run("immutable", func(t *testing.T) {
		chattr := func(flag, path string) error {
			out, err := exec.Command("chattr", flag, path).CombinedOutput()
			if err != nil {
				return fmt.Errorf("chattr %s %s: %v: %s", flag, path, err, out)
			}
			return nil
		}
		if err := chattr("+i", file); err != nil {
			t.Skipf("cannot make a file immutable here: %v", err)
		}
		t.Cleanup(func() { _ = chattr("-i", file) })
		_, err := Open(file, Options{PruneInterval: -1})
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("Open of an immutable file = %v; want an error naming %s", err, file)
		}
		t.Log(err)

		sub := filepath.Join(dir, "rodir")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := chattr("+i", sub); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = chattr("-i", sub) })
		newFile := filepath.Join(sub, "new.db")
		_, err = Open(newFile, Options{PruneInterval: -1})
		if err == nil || !strings.Contains(err.Error(), newFile) || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("Open in an immutable directory = %v; want an error naming %s", err, newFile)
		}
		t.Log(err)

		if err := chattr("-i", file); err != nil {
			t.Fatal(err)
		}
		if err := checkAll(file, []string{"kept"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCorrupt opens damaged files with Verify: each fails with an error
// naming the file, and none panics.
func TestCorrupt(t *testing.T) {
	ctx := context.Background()
	good := filepath.Join(t.TempDir(), "good.db")
	s, err := Open(good, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := s.Save(ctx, fmt.Sprint("id", i), make([]byte, 500), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	leaf := 0 // a live leaf page of the data bucket
	_ = s.db.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ {
			info, _ := tx.Page(id)
			if info == nil {
				return nil
			}
			if info.Type == "leaf" && info.Count > 1 {
				leaf = id
			}
		}
	})
	_ = s.Close()
	if leaf == 0 {
		t.Fatal("no leaf page found")
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	// The same garbage on every run, so that a failure can be replayed
	// (TestDamagedFile runs random damage in a child process).
	garbage := func(n int) []byte {
		var key [32]byte
		binary.LittleEndian.PutUint64(key[:], uint64(n))
		b := make([]byte, n)
		_, _ = mrand.NewChaCha8(key).Read(b)
		return b
	}
	cases := map[string]func() []byte{
		"random-bytes": func() []byte { return garbage(64 << 10) },
		"text":         func() []byte { return []byte("this is not a database\n") },
		"truncated":    func() []byte { return goodBytes[:100] },
		"both-metas": func() []byte {
			b := append([]byte(nil), goodBytes...)
			copy(b, garbage(2*page))
			return b
		},
		"data-pages": func() []byte {
			// Keep both metas and the freelist page they name.
			b := append([]byte(nil), goodBytes...)
			keep := map[uint64]bool{0: true, 1: true}
			for m := range 2 {
				keep[binary.LittleEndian.Uint64(b[m*page+48:])] = true
			}
			for p := 2; p*page < len(b); p++ {
				if !keep[uint64(p)] {
					copy(b[p*page:(p+1)*page], garbage(page))
				}
			}
			return b
		},
		"freelist-and-pages": func() []byte {
			b := append([]byte(nil), goodBytes...)
			copy(b[2*page:], garbage(len(b)-2*page))
			return b
		},
	}
	cases["one-leaf"] = func() []byte {
		// Damage one data leaf: only Verify notices while opening.
		b := append([]byte(nil), goodBytes...)
		copy(b[leaf*page+16:(leaf+1)*page], garbage(page-16))
		return b
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), name+".db")
			if err := os.WriteFile(file, content(), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(file, Options{PruneInterval: -1, Verify: true})
			if err != nil {
				if !strings.Contains(err.Error(), file) {
					t.Fatalf("error does not name the file: %v", err)
				}
				t.Log(err)
				return
			}
			t.Errorf("Open of a damaged file succeeded")
			_ = s.Close()
		})
	}
}
