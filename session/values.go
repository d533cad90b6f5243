package session

import (
	"fmt"
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
// stored as connect-flash stores it.
func AddFlash(s *Session, kind, msg string) error {
	all, err := GetOr(s, flashKey, map[string][]string{})
	if err != nil {
		return err
	}
	if all == nil {
		all = map[string][]string{}
	}
	all[kind] = append(all[kind], msg)
	return s.Put(flashKey, all)
}

// Flashes returns and removes the messages of kind.
func Flashes(s *Session, kind string) ([]string, error) {
	all, err := GetOr(s, flashKey, map[string][]string(nil))
	if err != nil || len(all[kind]) == 0 {
		return nil, err
	}
	msgs := all[kind]
	delete(all, kind)
	if len(all) == 0 {
		return msgs, s.Delete(flashKey)
	}
	return msgs, s.Put(flashKey, all)
}
