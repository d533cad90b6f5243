package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

func TestRevoke(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			raw := be.url(t)
			ctx := context.Background()
			st := openStore(t, raw)
			m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New()})
			if err != nil {
				t.Fatal(err)
			}
			login := func(user string) string {
				s := m.Open(ctx, "")
				if err := s.SetUser(user); err != nil {
					t.Fatal(err)
				}
				res, err := m.Commit(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				return res.ID
			}
			alice := []string{login("alice"), login("alice")}
			bob := login("bob")
			// A session another application wrote and no user index links.
			foreign := session.NewID()
			if err := st.Save(ctx, foreign, []byte(`{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user_id":"alice"}`), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			closeStore(t, st)

			byIndex := 2
			if be.name == "postgres" || be.name == "mysql" {
				byIndex = 3 // its index is the user_id inside the document itself
			}
			want(t, exitOK, []string{fmt.Sprintf("%d live sessions of the user in the user index; none deleted", byIndex)},
				"revoke", "--user", "alice", "--dry-run", raw)
			want(t, exitOK, []string{"3 live sessions of the user among 4 read; none deleted"},
				"revoke", "--dry-run", "--scan", "--user", "alice", raw)
			want(t, exitOK, []string{fmt.Sprintf("revoked %d sessions of the user found in the user index", byIndex)},
				"revoke", "--user", "alice", raw)
			want(t, exitOK, []string{fmt.Sprintf("revoked %d sessions of the user among %d read", 3-byIndex, 4-byIndex)},
				"revoke", "--user", "alice", "--scan", raw)

			st = openStore(t, raw)
			defer closeStore(t, st)
			for _, id := range append(alice, foreign) {
				if _, _, found, err := st.Load(ctx, id); err != nil || found {
					t.Errorf("alice's session %s: found %v, %v after revoke", session.LogID(id), found, err)
				}
			}
			if _, _, found, err := st.Load(ctx, bob); err != nil || !found {
				t.Errorf("bob's session: found %v, %v; revoking alice must leave it", found, err)
			}
			if ui, ok := st.(session.UserIndex); ok {
				ids, err := ui.UserSessions(ctx, "alice")
				if err != nil || len(ids) != 0 {
					t.Errorf("alice still has %d index entries (%v)", len(ids), err)
				}
			}
		})
	}
}

func TestRevokeUsage(t *testing.T) {
	raw := backends[2].url(t) // bbolt: no server needed
	for _, args := range [][]string{
		{"revoke", raw},
		{"revoke", "--user", "alice"},
		{"revoke", "--user", "alice", "--user-key", "", raw},
	} {
		if _, _, code := ctl(t, args...); code != exitUsage {
			t.Errorf("sessionctl %s: exit %d, want %d", redactArgs(args), code, exitUsage)
		}
	}
}
