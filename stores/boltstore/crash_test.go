package boltstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// TestCrash kills a child process that is saving sessions with SIGKILL at
// random points, 20 times on one file. After each kill the file must open,
// pass bbolt's consistency check, and hold every session whose Save had
// returned (the child printed its ID), with its checksum intact.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 child processes")
	}
	file := filepath.Join(t.TempDir(), "crash.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, seed))
	var saved []string
	for round := range 20 {
		cmd, out := child(t, "write", file)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		got := make(chan []string, 1)
		go func() { got <- lines(out) }()
		// Sometimes while the child is still opening the file.
		time.Sleep(time.Duration(rnd.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		ids := <-got
		_ = cmd.Wait()
		saved = append(saved, ids...)

		s, err := Open(file, Options{PruneInterval: -1})
		if err != nil {
			t.Fatalf("round %d: file does not open after kill: %v", round, err)
		}
		err = s.db.View(check)
		if err != nil {
			t.Fatalf("round %d: consistency check: %v", round, err)
		}
		for _, id := range saved {
			data, _, found, err := s.Load(context.Background(), id)
			if err != nil || !found || !intact(data) {
				t.Fatalf("round %d: session saved before the kill: found %v, intact %v, err %v",
					round, found, intact(data), err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d saves, %d checked", round, len(ids), len(saved))
	}
	if len(saved) == 0 {
		t.Fatal("the child never saved a session; the test proved nothing")
	}
}

// TestOpenLocked opens a file another process holds: Open fails within
// OpenTimeout with an error naming the file, and succeeds once it is free.
func TestOpenLocked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "held.db")
	cmd, out := child(t, "hold", file)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if l, err := out.ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("child: %q, %v", l, err)
	}

	res := make(chan error, 1)
	go func() {
		s, err := Open(file, Options{OpenTimeout: 200 * time.Millisecond})
		if err == nil {
			_ = s.Close()
		}
		res <- err
	}()
	select {
	case err = <-res:
	case <-time.After(time.Minute): // only to turn a hang into a failure
		t.Fatal("Open hung on a locked file")
	}
	if err == nil || !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), file) ||
		!strings.Contains(err.Error(), "locked") {
		t.Fatalf("Open of a held file = %v; want a timeout naming %s", err, file)
	}
	t.Log(err)

	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	s, err := Open(file, Options{OpenTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the holder exited: %v", err)
	}
	_ = s.Close()
}
