package interop

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/express"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
)

// secretShort is what many Express apps sign with (the seed app's literal
// fallback): far under middleware.MinSecretLen.
const secretShort = "keyboard cat"

// TestRedisJoinShortSecretFleet joins a Node fleet that signs with a short
// secret without logging anyone out, along the documented rotation path:
// Go starts on [new long, old short], verifying the fleet's cookies and
// signing its own with the long secret; the Node apps move to the same list
// and read Go's cookies; cookies Node signed before the move still work on
// both.
func TestRedisJoinShortSecretFleet(t *testing.T) {
	e := newRedisEnv(t)
	oldNodeP := e.node(t, time.Hour, secretShort)
	movedNodeP := e.node(t, time.Hour, secretNew, secretShort)
	goURL := e.goApp(t, time.Hour, secretNew, secretShort).URL
	oldNode, movedNode := oldNodeP.wait().URL, movedNodeP.wait().URL

	t.Run("node-signs-short-go-verifies", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(oldNode, "kim")
		if want := middleware.Sign(id, secretShort); b.cookie != want {
			t.Fatalf("Node's cookie %q, want one signed with the short secret", b.cookie)
		}
		got := b.session(goURL)
		if got.SessionID != id {
			t.Fatalf("Go read session %q, want Node's %q", got.SessionID, id)
		}
		checkValues(t, "go", got.Session, expectedLogin("kim"))
		// Go's answer to a change re-signs the cookie with the long secret.
		b.must(200, "POST", goURL+"/set", map[string]any{"n": 1})
		if want := middleware.Sign(id, secretNew); b.cookie != want {
			t.Errorf("Go re-sent %q, want the cookie signed with the long secret", b.cookie)
		}
		if got := b.session(movedNode); got.SessionID != id {
			t.Errorf("Node on [long, short] read %q, want %q", got.SessionID, id)
		}
	})

	t.Run("go-signs-long-node-verifies", func(t *testing.T) {
		b := newBrowser(t)
		id := b.login(goURL, "lee")
		if want := middleware.Sign(id, secretNew); b.cookie != want {
			t.Fatalf("Go's cookie %q, want one signed with the long secret", b.cookie)
		}
		got := b.session(movedNode)
		if got.SessionID != id {
			t.Fatalf("Node on [long, short] read %q, want Go's %q", got.SessionID, id)
		}
		checkValues(t, "node", got.Session, expectedLogin("lee"))
	})
}

// TestShortSecretNeverSigns checks the refusal the rotation path relies on:
// a short secret may follow a long one, never come first.
func TestShortSecretNeverSigns(t *testing.T) {
	for _, secrets := range [][]string{{secretShort}, {secretShort, secretNew}} {
		if _, err := express.New(session.Config{Store: newRedisEnv(t).store}, secrets...); err == nil {
			t.Errorf("express.New accepted %d secrets with a short one first", len(secrets))
		}
	}
}
