package boltstore

import (
	"go.etcd.io/bbolt"
)

// Stall holds the file's write lock, as a long write transaction of another
// goroutine would, until the returned func is called: writes queue behind
// it, reads go on. The conformance suite's stall cases cancel a write while
// it waits.
func Stall(s *Store) (release func()) {
	held, done := make(chan struct{}), make(chan struct{})
	end := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.db.Update(func(*bbolt.Tx) error {
			close(held)
			<-end
			return nil
		})
	}()
	<-held
	return func() {
		close(end)
		<-done
	}
}
