package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// probe is one call of a store method, made by the cancel cases with a
// cancelled context and by the closer case on a closed store, after
// prepareProbes.
type probe struct {
	name   string // subtest name
	method string
	// call makes the call; it returns errAbsent when the store lacks the
	// method's capability.
	call func(ctx context.Context, st session.Store) error
	// unchanged, when set, checks with a live context that a refused call
	// changed nothing.
	unchanged func(t *testing.T, st session.Store)
}

// errCalledFn is what the probe's fn returns, so an Iterate that calls fn
// when it should refuse to run shows up in its error.
var errCalledFn = errors.New("conformance: Iterate called fn")

// prepareProbes saves record "a" and links it to user "u", the state every
// probe's call would change.
func (s *suite) prepareProbes(t *testing.T, st session.Store) {
	t.Helper()
	if _, ok := st.(session.UserIndex); ok {
		s.link(t, st, "u", "a")
		return
	}
	s.save(t, st, "a", s.data("a"), later())
}

func (s *suite) probes() []probe {
	stillThere := func(t *testing.T, st session.Store) {
		want := s.data("a")
		if _, ok := st.(session.UserIndex); ok {
			want = s.userData("a", "u")
		}
		s.wantRecord(t, st, "a", want, time.Time{}, "after a call refused for its cancelled context (the contract: such a call changes nothing)")
	}
	return []probe{
		{"load", "Load", func(ctx context.Context, st session.Store) error {
			_, _, _, err := st.Load(ctx, "a")
			return err
		}, nil},
		{"save", "Save", func(ctx context.Context, st session.Store) error {
			return st.Save(ctx, "a", s.data("changed"), later())
		}, stillThere},
		{"touch", "Touch", func(ctx context.Context, st session.Store) error {
			return st.Touch(ctx, "a", s.past())
		}, stillThere},
		{"delete", "Delete", func(ctx context.Context, st session.Store) error {
			return st.Delete(ctx, "a")
		}, stillThere},
		{"count", "Count", func(ctx context.Context, st session.Store) error {
			return with(st, func(c session.Counter) error { _, err := c.Count(ctx); return err })
		}, nil},
		{"prune", "Prune", func(ctx context.Context, st session.Store) error {
			return with(st, func(p session.Pruner) error { _, err := p.Prune(ctx); return err })
		}, nil},
		{"iterate", "Iterate", func(ctx context.Context, st session.Store) error {
			return with(st, func(it session.Iterator) error {
				return it.Iterate(ctx, func(session.Record) error { return errCalledFn })
			})
		}, nil},
		{"link-user", "LinkUser", func(ctx context.Context, st session.Store) error {
			return with(st, func(ui session.UserIndex) error { return ui.LinkUser(ctx, "v", "a", later()) })
		}, func(t *testing.T, st session.Store) {
			s.wantUserSessions(t, st.(session.UserIndex), "v")
		}},
		{"unlink-user", "UnlinkUser", func(ctx context.Context, st session.Store) error {
			return with(st, func(ui session.UserIndex) error { return ui.UnlinkUser(ctx, "u", "a") })
		}, func(t *testing.T, st session.Store) {
			s.wantUserSessions(t, st.(session.UserIndex), "u", "a")
		}},
		{"user-sessions", "UserSessions", func(ctx context.Context, st session.Store) error {
			return with(st, func(ui session.UserIndex) error { _, err := ui.UserSessions(ctx, "u"); return err })
		}, nil},
		{"load-version", "LoadVersion", func(ctx context.Context, st session.Store) error {
			return with(st, func(c session.ConditionalStore) error { _, _, _, _, err := c.LoadVersion(ctx, "a"); return err })
		}, nil},
		{"insert", "Insert", func(ctx context.Context, st session.Store) error {
			return with(st, func(c session.ConditionalStore) error {
				_, err := c.Insert(ctx, "fresh", s.data("new"), later())
				return err
			})
		}, func(t *testing.T, st session.Store) {
			s.wantMissing(t, st, "fresh", "after an Insert refused for its cancelled context (the contract: such a call changes nothing)")
		}},
		{"replace", "Replace", func(ctx context.Context, st session.Store) error {
			return with(st, func(c session.ConditionalStore) error {
				return c.Replace(ctx, "a", s.data("changed"), later(), []byte("not-a-version"))
			})
		}, stillThere},
		{"ping", "Ping", func(ctx context.Context, st session.Store) error {
			return with(st, func(p session.Pinger) error { return p.Ping(ctx) })
		}, nil},
	}
}

// probeCases makes a case of each probe, which run checks.
func (s *suite) probeCases(run func(*testing.T, session.Store, probe)) []testCase {
	var cs []testCase
	for _, p := range s.probes() {
		cs = append(cs, testCase{p.name, func(t *testing.T, st session.Store) { run(t, st, p) }})
	}
	return cs
}

// cancelled makes p's call with a context cancelled beforehand: it must
// return promptly an error wrapping context.Canceled and change nothing.
func (s *suite) cancelled(t *testing.T, st session.Store, p probe) {
	s.prepareProbes(t, st)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	o := guard(func() error { return p.call(ctx, st) })
	switch {
	case errors.Is(o.err, errAbsent):
		t.Skipf("the store lacks %s: %v", p.method, o.err)
	case o.fault != "":
		t.Fatalf("%s with a cancelled context %s", p.method, o.fault)
	case !errors.Is(o.err, context.Canceled):
		t.Fatalf("%s with a cancelled context returned %v; want an error wrapping context.Canceled (the contract: every method returns the context's error once it is done)", p.method, o.err)
	}
	if p.unchanged != nil {
		p.unchanged(t, st)
	}
}
