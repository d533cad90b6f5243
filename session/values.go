package session

import (
	"fmt"
	"slices"
)

// Get returns the value under key as a T. A value the codec left encoded is
// decoded into T (a JSON object into a struct or map, a number into any
// numeric type); a value put by this process must have type T exactly. A
// missing key returns the zero T and an error wrapping ErrNotFound; a value
// of another type wraps ErrType; a failed load returns the store's error.
func Get[T any](s *Session, key string) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return zero, err
	}
	v, ok := s.state.Values[key]
	if !ok {
		return zero, fmt.Errorf("%w: key %q", ErrNotFound, key)
	}
	return as[T](key, v)
}

// as reads v, the value under key, as a T: a Raw is decoded into T, a Go
// value must have type T exactly.
func as[T any](key string, v any) (T, error) {
	var zero T
	// Raw first: with T = any, a Raw would otherwise be returned as is.
	if r, ok := v.(Raw); ok {
		var t T
		if err := r.DecodeTo(&t); err != nil {
			return zero, fmt.Errorf("%w: key %q as %T: %v", ErrType, key, zero, err)
		}
		return t, nil
	}
	if t, ok := v.(T); ok {
		return t, nil
	}
	return zero, fmt.Errorf("%w: key %q holds %T, not %T", ErrType, key, v, zero)
}

// GetOr returns the value under key as a T, or def when the key is missing
// or holds another type. Store failures still return an error.
func GetOr[T any](s *Session, key string, def T) (T, error) {
	v, err := Get[T](s, key)
	if err != nil {
		if s.loadError() != nil {
			return def, err
		}
		return def, nil
	}
	return v, nil
}

func (s *Session) loadError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadErr
}

// Pop returns the value under key as a T and deletes it, as Get then Delete.
func Pop[T any](s *Session, key string) (T, error) {
	v, err := Get[T](s, key)
	if err != nil {
		return v, err
	}
	return v, s.Delete(key)
}

// flashKey is where connect-flash keeps its messages: an object mapping each
// kind to a list of strings. Using the same shape lets a Go service and a
// Node app show each other's flashes.
const flashKey = "flash"

// AddFlash appends a one-time message of kind (such as "info" or "error"),
// stored as connect-flash stores it. Like Update, it is re-applied to the
// fresh record when a concurrent request changed the session, so flashes
// added by parallel requests are all kept.
func AddFlash(s *Session, kind, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	return s.update(flashKey, func(old any, ok bool) (any, bool, error) {
		all := flashesOf(old, ok)
		all[kind] = append(all[kind], msg)
		return all, true, nil
	})
}

// Flashes returns and removes the messages of kind. Only the messages it
// returns are removed: when a concurrent request added more, they stay for
// the next call.
func Flashes(s *Session, kind string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return nil, err
	}
	old, ok := s.state.Values[flashKey]
	msgs := flashesOf(old, ok)[kind]
	if len(msgs) == 0 {
		return nil, nil
	}
	if err := s.writable(); err != nil {
		return nil, err
	}
	return msgs, s.update(flashKey, func(old any, ok bool) (any, bool, error) {
		all := flashesOf(old, ok)
		left := all[kind]
		for _, m := range msgs {
			if i := slices.Index(left, m); i >= 0 {
				left = slices.Delete(left, i, i+1)
			}
		}
		if len(left) == 0 {
			delete(all, kind)
		} else {
			all[kind] = left
		}
		return all, len(all) > 0, nil
	})
}

// flashesOf returns a copy of the flash messages in v, the value under
// flashKey; a value of another shape counts as none.
func flashesOf(v any, ok bool) map[string][]string {
	all := map[string][]string{}
	if !ok {
		return all
	}
	got, err := as[map[string][]string]("", v)
	if err != nil {
		return all
	}
	for k, msgs := range got {
		all[k] = slices.Clone(msgs)
	}
	return all
}

// Update replaces the value under key with fn applied to it, atomically
// with respect to other requests of the same session: when another request
// changes the session between this request's load and its commit, the
// Manager reloads the record and runs fn again on the fresh value, so that
// n concurrent increments add exactly n. fn receives the zero T when key is
// missing. A value of another type is left alone and Update returns an
// error wrapping ErrType.
//
// fn may therefore run more than once per request, and its result is kept
// only from its last run: it must compute its result from its argument
// alone, with no side effects, and must not call the Session's methods (it
// runs while the session is locked). For the same reason, a value read
// after Update (to show a new count) is this request's view; the value
// stored may be higher once a retry at commit ran fn on a fresher one. Put
// and Delete of the same key later in the request override it, as they
// would any value.
//
// Stores without session.ConditionalStore cannot detect a concurrent
// change: there Update is Get, fn, Put, and the last commit wins.
func Update[T any](s *Session, key string, fn func(T) T) error {
	if err := checkKey(s.m.codec, key); err != nil {
		return err
	}
	if fn == nil {
		return fmt.Errorf("session: Update(%q): nil function", key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	return s.update(key, func(old any, ok bool) (any, bool, error) {
		var cur T
		if ok {
			v, err := as[T](key, old)
			if err != nil {
				return nil, false, err
			}
			cur = v
		}
		return fn(cur), true, nil
	})
}
