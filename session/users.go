package session

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Info describes one live session of a user.
type Info struct {
	// ID is the session's store key: its ID, or the ID's hash when
	// Config.IDHashKey is set.
	ID        string
	Created   time.Time // zero when written by another application
	ExpiresAt time.Time
	// Current is set by Session.Others for the session it was called on.
	Current bool
}

// link and unlink keep the store's user index. A failure leaves a link
// missing or stale; both are logged, and stale links are filtered out when
// read, so neither fails the request.
func (m *Manager) link(ctx context.Context, user, id string, exp time.Time) {
	id = m.key(id)
	start := m.start()
	err := m.users.LinkUser(ctx, user, id, exp)
	m.observe(ctx, OpUsers, id, start, err)
	if err == nil {
		m.linked.add(user, id, exp)
	}
}

func (m *Manager) unlink(ctx context.Context, user, id string) {
	m.unlinkKey(ctx, user, m.key(id))
}

func (m *Manager) unlinkKey(ctx context.Context, user, id string) {
	start := m.start()
	err := m.users.UnlinkUser(ctx, user, id)
	m.observe(ctx, OpUsers, id, start, err)
	m.linked.remove(user, id)
}

// linkForeign links a session that another application wrote, and that
// therefore no user index holds, when it is read: "log out everywhere" then
// finds it. The link is made to last TouchInterval past the session's
// expiry, and remembered, so later reads cost no store call, as reads of a
// Go session do; the session is linked again only once the other
// application has extended it past the link (by more than TouchInterval,
// the cadence at which Go touches its own sessions), so the link outlives
// the session by at most TouchInterval and never ends before it while Go
// reads it. Each process links such a session once, and then at that
// cadence.
func (m *Manager) linkForeign(ctx context.Context, user, id string, exp time.Time) {
	if m.linked.covers(user, id, exp) {
		return
	}
	m.link(ctx, user, id, exp.Add(max(m.cfg.TouchInterval, 0)))
}

// linkMemoSize bounds linkMemo: two generations of this many links (about
// 100 bytes each). Past it the oldest generation is forgotten, and a session
// read again after that is linked again: one store call.
const linkMemoSize = 8192

// linkMemo remembers, for recent (user, session) links, the expiry the link
// was made with. Its zero value is ready to use; it is safe for concurrent
// use.
type linkMemo struct {
	mu        sync.Mutex
	cur, prev map[linkKey]int64 // link expiry, Unix ms
}

type linkKey struct{ user, id string }

// covers reports whether a link of (user, id) was made with an expiry no
// earlier than exp.
func (l *linkMemo) covers(user, id string, exp time.Time) bool {
	k := linkKey{user, id}
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.cur[k]
	if !ok {
		if at, ok = l.prev[k]; ok {
			l.put(k, at)
		}
	}
	return ok && exp.UnixMilli() <= at
}

func (l *linkMemo) add(user, id string, exp time.Time) {
	l.mu.Lock()
	l.put(linkKey{user, id}, exp.UnixMilli())
	l.mu.Unlock()
}

// put records k; the caller holds l.mu.
func (l *linkMemo) put(k linkKey, at int64) {
	if l.cur == nil || len(l.cur) >= linkMemoSize {
		l.prev, l.cur = l.cur, make(map[linkKey]int64, 64)
	}
	if old, ok := l.cur[k]; !ok || at > old {
		l.cur[k] = at
	}
}

func (l *linkMemo) remove(user, id string) {
	k := linkKey{user, id}
	l.mu.Lock()
	delete(l.cur, k)
	delete(l.prev, k)
	l.mu.Unlock()
}

// UserSessions returns the live sessions of user. The store must implement
// UserIndex; otherwise the error wraps ErrUnsupported. Each candidate the
// index returns is loaded and checked, so stale links are never reported.
func (m *Manager) UserSessions(ctx context.Context, user string) ([]Info, error) {
	if m.users == nil {
		return nil, fmt.Errorf("%w: %T does not implement session.UserIndex", ErrUnsupported, m.store)
	}
	if user == "" {
		return nil, nil
	}
	start := m.start()
	ids, err := m.users.UserSessions(ctx, user)
	m.observe(ctx, OpUsers, "", start, err)
	if err != nil {
		return nil, fmt.Errorf("session: user sessions: %w", err)
	}
	now := m.cfg.now()
	var out []Info
	for _, id := range ids {
		data, exp, found, err := m.loadKey(ctx, id)
		if err != nil {
			return nil, err
		}
		if !found {
			m.unlinkKey(ctx, user, id)
			continue
		}
		var st State
		if !m.decode(ctx, id, data, &st) || userOf(st.Values, m.cfg.UserKey) != user {
			m.unlinkKey(ctx, user, id)
			continue
		}
		if !st.Deadline.IsZero() && !now.Before(st.Deadline) {
			continue
		}
		out = append(out, Info{ID: id, Created: st.Created, ExpiresAt: exp})
	}
	return out, nil
}

// RevokeUser deletes every live session of user ("log out everywhere") and
// returns how many it deleted. The store must implement UserIndex.
func (m *Manager) RevokeUser(ctx context.Context, user string) (int, error) {
	return m.revoke(ctx, user, "")
}

func (m *Manager) revoke(ctx context.Context, user, except string) (int, error) {
	infos, err := m.UserSessions(ctx, user)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range infos {
		if in.ID == except {
			continue
		}
		if err := m.deleteKey(ctx, in.ID); err != nil {
			return n, err
		}
		m.unlinkKey(ctx, user, in.ID)
		n++
	}
	if n > 0 {
		m.metrics.SessionEvent(EventDestroyed, int64(n))
	}
	return n, nil
}

// Others returns the live sessions of this session's user, this one
// included and marked Current. A session without a user has none.
func (s *Session) Others() ([]Info, error) {
	user, err := s.User()
	if err != nil || user == "" {
		return nil, err
	}
	s.mu.Lock()
	id := s.m.key(s.storedID())
	s.mu.Unlock()
	infos, err := s.m.UserSessions(s.ctx, user)
	for i := range infos {
		infos[i].Current = infos[i].ID == id
	}
	return infos, err
}

// RevokeOthers deletes every other live session of this session's user
// ("log out my other devices") and returns how many it deleted.
func (s *Session) RevokeOthers() (int, error) {
	user, err := s.User()
	if err != nil || user == "" {
		return 0, err
	}
	s.mu.Lock()
	id := s.m.key(s.storedID())
	s.mu.Unlock()
	return s.m.revoke(s.ctx, user, id)
}
