//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package boltstore

import (
	"os"
	"time"
)

// lockFile does nothing where flock is missing: bbolt's own lock, taken
// when Open maps the file, is all the protection there.
func lockFile(*os.File, bool, time.Duration) error { return nil }
