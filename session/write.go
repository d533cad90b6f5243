package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The write model over a ConditionalStore.
//
// A session loaded from the store is saved with Replace against the token
// LoadVersion returned, so it is never written back once it has ended
// (ErrNotFound from Replace: the commit writes nothing and reports ErrEnded)
// and never overwrites a change another writer made after the load
// (ErrConflict: the record is loaded again, this request's own changes are
// applied on top of it, and the save is retried). A new session is written
// with Insert. Stores without the capability keep plain Saves.
//
// This request's own changes are what it put or deleted, per top-level key
// (the final value of each such key wins), the Update functions it ran (run
// again on the fresh value), and the lifetime it set with SetIdleTimeout.
// Everything else comes from the fresh record.

// DefaultConflictRetries is the default of Config.ConflictRetries.
const DefaultConflictRetries = 32

// maxInsertTries bounds the fresh IDs tried when Insert finds one taken,
// which with 192-bit random IDs means a broken random source.
const maxInsertTries = 3

// updateFn computes a key's new value from its current one (ok: the key is
// present); keep false deletes the key.
type updateFn func(old any, ok bool) (v any, keep bool, err error)

// update applies fn to key now and remembers it to run again on a fresh
// record after a conflict. The caller holds s.mu and checked writable.
func (s *Session) update(key string, fn updateFn) error {
	old, ok := s.state.Values[key]
	v, keep, err := fn(old, ok)
	if err != nil {
		return err
	}
	if s.state.Values == nil {
		s.state.Values = map[string]any{}
	}
	if keep {
		s.state.Values[key] = v
	} else {
		delete(s.state.Values, key)
	}
	_, dirty := s.dirty[key]
	if fns, ok := s.updates[key]; ok || !dirty {
		if s.updates == nil {
			s.updates = map[string][]updateFn{}
		}
		// A key the request itself Put or Deleted is its own: what follows
		// builds on that, not on the fresh record.
		s.updates[key] = append(fns, fn)
	}
	s.markDirty(key)
	return nil
}

// reapply puts this request's own changes on fresh, the record as now
// stored. The caller holds s.mu.
func (s *Session) reapply(fresh *State) error {
	if fresh.Values == nil {
		fresh.Values = map[string]any{}
	}
	for k := range s.dirty {
		if fns, ok := s.updates[k]; ok {
			v, present := fresh.Values[k]
			for _, fn := range fns {
				var err error
				if v, present, err = fn(v, present); err != nil {
					return fmt.Errorf("session: Update of %q on the record another request changed: %w", k, err)
				}
			}
			if present {
				fresh.Values[k] = v
			} else {
				delete(fresh.Values, k)
			}
			continue
		}
		if v, ok := s.state.Values[k]; ok {
			fresh.Values[k] = v
		} else {
			delete(fresh.Values, k)
		}
	}
	if s.idle != nil {
		fresh.Cookie.OriginalMaxAge = s.idle
	}
	return nil
}

// prepare readies s.state for a save at now and encodes it. ok is false
// when the session is already past its deadline and must not be saved.
// The caller holds s.mu.
func (m *Manager) prepare(s *Session, now time.Time) (data []byte, exp time.Time, browser, ok bool, err error) {
	st := &s.state
	if st.Values == nil {
		st.Values = map[string]any{}
	}
	if st.Created.IsZero() {
		st.Created = now
	}
	if st.Deadline.IsZero() && m.cfg.AbsoluteTimeout > 0 {
		st.Deadline = now.Add(m.cfg.AbsoluteTimeout)
	}
	exp = m.expiry(now, st)
	if !exp.After(now) {
		return nil, exp, false, false, nil
	}
	browser = s.browserSession()
	idle := m.idleFor(st)
	if idle < 0 {
		idle = exp.Sub(now)
	}
	m.fillCookie(&st.Cookie, browser, idle, exp, s.secureField())
	data, err = m.codec.Encode(st)
	if err != nil {
		return nil, exp, browser, false, fmt.Errorf("session: encode: %w", err)
	}
	return data, exp, browser, true, nil
}

// saved does the bookkeeping after the session was written under id;
// linked says the caller already linked id to its user with exp. The caller
// holds s.mu.
func (m *Manager) saved(ctx context.Context, s *Session, id string, exp time.Time, browser, linked bool) CommitResult {
	if s.isNew && (s.oldID == "" || s.destroyed) {
		// A session re-created after Destroy (to carry a "signed out"
		// flash) is a new session too.
		m.metrics.SessionEvent(EventCreated, 1)
	}
	if m.users != nil {
		user := userOf(s.state.Values, m.cfg.UserKey)
		if user != "" && !linked {
			m.link(ctx, user, id, exp)
		}
		if s.userAtLoad != "" && s.userAtLoad != user && s.oldID == "" {
			m.unlink(ctx, s.userAtLoad, id)
		}
	}
	s.isNew, s.storedExp, s.dirty, s.updates, s.idle, s.renew, s.fromRecord = false, exp, nil, nil, nil, false, true
	return CommitResult{Cookie: CookieSet, ID: id, ExpiresAt: exp, BrowserSession: browser}
}

// saveConditional saves s through the ConditionalStore. The caller holds
// s.mu.
func (m *Manager) saveConditional(ctx context.Context, s *Session, now time.Time) (CommitResult, error) {
	switch {
	case !s.isNew:
		return m.replaceLoaded(ctx, s, now)
	case s.oldID != "" && !s.destroyed:
		return m.renewConditional(ctx, s, now)
	}
	// A new session, or one re-created after Destroy.
	data, exp, browser, ok, err := m.prepare(s, now)
	if err != nil || !ok {
		return CommitResult{}, err
	}
	id, err := m.insertNew(ctx, s, data, exp)
	if err != nil {
		return CommitResult{}, err
	}
	return m.saved(ctx, s, id, exp, browser, false), nil
}

// replaceLoaded saves a loaded session over its record, merging with what
// other writers saved since the load.
func (m *Manager) replaceLoaded(ctx context.Context, s *Session, now time.Time) (CommitResult, error) {
	for attempt := 0; ; attempt++ {
		data, exp, browser, ok, err := m.prepare(s, now)
		if err != nil {
			return CommitResult{}, err
		}
		if !ok {
			// Past its absolute deadline: end it, as Commit does.
			s.oldID = s.id
			return CommitResult{}, nil
		}
		err = m.replace(ctx, s.id, data, exp, s.version)
		switch {
		case err == nil:
			return m.saved(ctx, s, s.id, exp, browser, false), nil
		case errors.Is(err, ErrNotFound):
			return CommitResult{}, m.ended(ctx, s, s.id)
		case !errors.Is(err, ErrConflict):
			return CommitResult{}, err
		}
		if err := m.conflicted(ctx, s, attempt); err != nil {
			return CommitResult{}, err
		}
		var (
			fresh, ver []byte
			exp0       time.Time
			found      bool
			stale      *StaleError
		)
		if errors.As(err, &stale) {
			// The store read the record while refusing: no reload needed.
			fresh, exp0, ver, found = stale.Data, stale.ExpiresAt, stale.Version, true
		} else if fresh, exp0, ver, found, err = m.loadVersion(ctx, s.id); err != nil {
			return CommitResult{}, err
		}
		if err := m.adopt(ctx, s, s.id, now, fresh, exp0, ver, found); err != nil {
			return CommitResult{}, err
		}
	}
}

// renewConditional saves a renewed session under its new ID and checks,
// after the new record and its user link exist, that the old record is
// still the one loaded: a revoke or logout that ran in between finds the new
// ID (and it is deleted here when the old one is gone), and a change another
// request saved to the old record is merged before the old one is deleted.
// A change saved to the old record after that check and before Commit
// deletes it is lost (never re-created).
func (m *Manager) renewConditional(ctx context.Context, s *Session, now time.Time) (CommitResult, error) {
	old := s.oldID
	for attempt := 0; ; attempt++ {
		data, exp, browser, ok, err := m.prepare(s, now)
		if err != nil {
			return CommitResult{}, err
		}
		if !ok {
			return CommitResult{}, nil // Commit deletes the old record
		}
		id, err := m.insertNew(ctx, s, data, exp)
		if err != nil {
			return CommitResult{}, err
		}
		user := userOf(s.state.Values, m.cfg.UserKey)
		if m.users != nil && user != "" {
			m.link(ctx, user, id, exp)
		}
		fresh, exp0, ver, found, err := m.loadVersion(ctx, old)
		if err == nil && found && bytes.Equal(ver, s.version) {
			return m.saved(ctx, s, id, exp, browser, true), nil
		}
		// Undo the new record: the old one is gone, changed or unknown.
		_ = m.delete(ctx, id)
		if m.users != nil && user != "" {
			m.unlink(ctx, user, id)
		}
		switch {
		case err != nil:
			return CommitResult{}, err
		case !found:
			return CommitResult{}, m.ended(ctx, s, old)
		}
		if err := m.conflicted(ctx, s, attempt); err != nil {
			return CommitResult{}, err
		}
		if err := m.adopt(ctx, s, old, now, fresh, exp0, ver, found); err != nil {
			return CommitResult{}, err
		}
	}
}

// conflicted counts a conflict and fails once the retries are spent.
func (m *Manager) conflicted(ctx context.Context, s *Session, attempt int) error {
	m.metrics.SessionEvent(EventConflict, 1)
	if attempt < m.cfg.ConflictRetries {
		return nil
	}
	m.log.LogAttrs(ctx, slog.LevelWarn, "session record kept changing under the request; changes not saved",
		slog.String("session", LogID(s.storedID())), slog.Int("attempts", attempt+1))
	return fmt.Errorf("session: not saved after %d attempts: %w", attempt+1, ErrConflict)
}

// adopt makes the freshly loaded record (data, found) the base of s, with
// this request's changes applied on top. A record that is gone, undecodable
// or past its deadline ends the session.
func (m *Manager) adopt(ctx context.Context, s *Session, id string, now time.Time, data []byte, exp time.Time, ver []byte, found bool) error {
	var fresh State
	if !found || !m.decode(ctx, id, data, &fresh) ||
		(!fresh.Deadline.IsZero() && !now.Before(fresh.Deadline)) {
		return m.ended(ctx, s, id)
	}
	if err := s.reapply(&fresh); err != nil {
		return err
	}
	s.state, s.version, s.storedExp = fresh, ver, exp
	s.userAtLoad = userOf(fresh.Values, m.cfg.UserKey)
	return nil
}

// ended reports that the session was ended by another writer after this
// request loaded it: nothing is written and the changes are dropped.
func (m *Manager) ended(ctx context.Context, s *Session, id string) error {
	m.metrics.SessionEvent(EventEnded, 1)
	m.log.LogAttrs(ctx, slog.LevelDebug, "session ended by another request after this one loaded it; changes dropped",
		slog.String("session", LogID(id)))
	s.dirty, s.updates, s.idle, s.renew = nil, nil, nil, false
	return ErrEnded
}

// insertNew inserts a new record under s's ID, drawing another ID should
// that one be taken, and returns the ID used.
func (m *Manager) insertNew(ctx context.Context, s *Session, data []byte, exp time.Time) (string, error) {
	for range maxInsertTries {
		id := s.currentID()
		ok, err := m.insert(ctx, id, data, exp)
		if err != nil || ok {
			return id, err
		}
		s.id = NewID()
	}
	return "", errors.New("session: insert: every new ID drawn was already taken; is the random source broken?")
}

// loadVersion, insert and replace call the ConditionalStore under the
// record's key (the ID, or its hash with Config.IDHashKey), as load and save
// do.
func (m *Manager) loadVersion(ctx context.Context, id string) ([]byte, time.Time, []byte, bool, error) {
	if !storableID(id) {
		return nil, time.Time{}, nil, false, nil
	}
	id = m.key(id)
	start := m.start()
	data, exp, ver, found, err := m.cond.LoadVersion(ctx, id)
	m.observe(ctx, OpLoad, id, start, err)
	if err != nil {
		return nil, time.Time{}, nil, false, fmt.Errorf("session: load: %w", err)
	}
	return data, exp, ver, found, nil
}

func (m *Manager) insert(ctx context.Context, id string, data []byte, exp time.Time) (bool, error) {
	id = m.key(id)
	start := m.start()
	ok, err := m.cond.Insert(ctx, id, data, exp)
	m.observe(ctx, OpSave, id, start, err)
	if err != nil {
		return false, fmt.Errorf("session: insert: %w", err)
	}
	return ok, nil
}

// replace calls Replace; a conflict or a missing record is an outcome, not
// a store failure, and is neither logged nor counted as an error.
func (m *Manager) replace(ctx context.Context, id string, data []byte, exp time.Time, ver []byte) error {
	id = m.key(id)
	start := m.start()
	err := m.cond.Replace(ctx, id, data, exp, ver)
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		m.observe(ctx, OpSave, id, start, nil)
		return err
	}
	m.observe(ctx, OpSave, id, start, err)
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}
