package jsoncodec_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// nodeNumbers is a session as express-session stores it after a Node app set
// user_id to 2**60 and the other values to numbers: JSON.stringify writes
// 2**60 as 1152921504606847000, which float64 reads as …6976.
const nodeNumbers = `{"cookie":{"originalMaxAge":3600000,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},` +
	`"big":1152921504606847000,"exp":1e+21,"frac":0.1,"neg":-42,"small":1.5e-7,"user_id":1152921504606847000}`

// TestNodeNumbersExact reads a Node-written session whose user is a number
// beyond float64's exact integers: its user is the text Node wrote, so the
// user can be revoked by that text, and numbers read and put back by Go are
// stored as the same text.
func TestNodeNumbersExact(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	defer st.Close()
	m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, "node-sid", []byte(nodeNumbers), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s := m.Open(ctx, "node-sid")
	if u, err := s.User(); err != nil || u != "1152921504606847000" {
		t.Errorf("User() = %q, %v; want the text Node wrote, 1152921504606847000", u, err)
	}
	for _, k := range []string{"big", "exp", "frac", "neg", "small"} {
		v, err := session.Get[any](s, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Commit(ctx, s); err != nil {
		t.Fatal(err)
	}
	data, _, _, err := st.Load(ctx, "node-sid")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"big":1152921504606847000,`, `"exp":1e+21,`, `"frac":0.1,`, `"neg":-42,`, `"small":1.5e-7,`, `"user_id":1152921504606847000`} {
		if !bytes.Contains(data, []byte(w)) {
			t.Errorf("the saved document lacks %s:\n%s", w, data)
		}
	}

	infos, err := m.UserSessions(ctx, "1152921504606847000")
	if err != nil || len(infos) != 1 {
		t.Fatalf("UserSessions(1152921504606847000) = %v, %v; want the Node session", infos, err)
	}
	if n, err := m.RevokeUser(ctx, "1152921504606847000"); err != nil || n != 1 {
		t.Fatalf("RevokeUser(1152921504606847000) = %d, %v; want 1", n, err)
	}
}

// TestPutRefusesInvalidUTF8Key puts keys that are not valid UTF-8, which
// JSON would turn into U+FFFD (so that "k\xff" and "k\xfe" became one key
// and both values were lost): Put refuses them with session.ErrKey and
// keeps the session as it was.
func TestPutRefusesInvalidUTF8Key(t *testing.T) {
	st := memstore.New()
	defer st.Close()
	m, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Open(context.Background(), "")
	for _, k := range []string{"k\xff", "k\xfe", "\xc3", "a\xed\xa0\x80"} {
		if err := s.Put(k, 1); !errors.Is(err, session.ErrKey) {
			t.Errorf("Put(%q) = %v; want session.ErrKey", k, err)
		}
	}
	if keys, _ := s.Keys(); len(keys) != 0 || s.Modified() {
		t.Errorf("refused puts changed the session: keys %q, modified %v", keys, s.Modified())
	}
	if err := s.Put("k\uFFFD", 1); err != nil { // valid UTF-8, if odd
		t.Error(err)
	}
	if _, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), UserKey: "u\xff"}); !errors.Is(err, session.ErrKey) {
		t.Errorf("UserKey u\\xff: %v; want session.ErrKey", err)
	}
}
