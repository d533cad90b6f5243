package session

import (
	"context"
	"testing"
)

// TestForeignSessionLinkCostsNoReadRoundTrip reads a session another
// application wrote (no user index of its own) over and over: it is linked to
// its user the first time, so "log out everywhere" finds it, and later reads
// cost no further store call, as a Go session's reads do, until the other
// application has extended the session by a touch interval, when the link is
// renewed so that it lives as long as the session.
func TestForeignSessionLinkCostsNoReadRoundTrip(t *testing.T) {
	f := newFixture(t, nil)
	f.foreign("node-made", nil, "ana")
	read := func() { f.request("node-made", func(s *Session) { _, _ = s.User() }) }
	read() // links it, and touches it to Go's idle window (another link)
	first := f.st.count("link")
	if first == 0 {
		t.Fatal("the first read did not link the foreign session")
	}
	for range 5 {
		read()
	}
	if n := f.st.count("link"); n != first {
		t.Errorf("%d links after 5 more reads of one foreign session, want %d", n, first)
	}
	// The other application extends the session (a longer maxAge, its
	// touch) well past the link: the next read links it again, once.
	must(t, f.st.Touch(context.Background(), "node-made", f.clk.now().Add(f.m.cfg.IdleTimeout+2*f.m.cfg.TouchInterval)))
	read()
	read()
	if n := f.st.count("link"); n != first+1 {
		t.Errorf("%d links after the session was extended past its link, want %d", n, first+1)
	}
	if n, err := f.m.RevokeUser(context.Background(), "ana"); err != nil || n != 1 {
		t.Errorf("RevokeUser = %d, %v; want the foreign session revoked", n, err)
	}
}
