//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package boltstore

import (
	"os"
	"syscall"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// lockFile takes the lock bbolt takes (flock, exclusive for a writer), so
// that the file is checked, or moved aside, while no other process writes
// it. It retries until timeout, or once when timeout is not positive, and
// then fails with bbolt's ErrTimeout. Closing f releases the lock.
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err == nil {
			return nil
		}
		if err != syscall.EWOULDBLOCK {
			return err
		}
		if !time.Now().Before(deadline) {
			return berrors.ErrTimeout
		}
		time.Sleep(50 * time.Millisecond)
	}
}
