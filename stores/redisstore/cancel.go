package redisstore

import "context"

// do runs fn, which sends commands to Redis and waits for their replies, and
// returns fn's error, or ctx's error as soon as ctx ends: go-redis gives up
// on a reply only at its read timeout or, with ContextTimeoutEnabled, at the
// context's deadline, but never when the context is cancelled, so a client
// that went away would otherwise hold its request for as long as Redis takes.
//
// When ctx can end, fn runs on a goroutine of its own; one cut short keeps
// its connection until the reply comes or the client's timeout ends the
// wait, and then gives the connection back to the pool in good order. What
// fn writes may therefore only be read when do returns fn's own result.
// Closing the client ends such a goroutine at once (Close does so for a
// client the store made). A context that can never end (Background) costs
// nothing: fn runs on the caller's goroutine.
func (s *Store) do(ctx context.Context, fn func() error) error {
	if ctx.Done() == nil {
		return fn()
	}
	res := make(chan error, 1)
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		res <- fn()
	}()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		select {
		case err := <-res: // finished meanwhile: its outcome is known
			return err
		default:
			return ctx.Err()
		}
	}
}
