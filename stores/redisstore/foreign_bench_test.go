package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

// BenchmarkForeignRead puts side by side a Manager read (load, read the user,
// commit: no write) of sessions a Node app wrote with connect-redis, which no
// user index holds, and of sessions Go wrote, alternating call by call
// (x-go is the ratio of the medians). Each set has benchKeys sessions, read
// in turn, so every foreign session is read many times, as a logged-in
// user's is.
//
//	scripts/bench-cores apart -- go test -run '^$' -bench ForeignRead -benchtime 20000x ./stores/redisstore/
func BenchmarkForeignRead(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	m, err := session.New(session.Config{Store: e.ours, Codec: jsoncodec.New()})
	if err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(24 * time.Hour)
	goIDs := make([]string, benchKeys)
	nodeIDs := make([]string, benchKeys)
	for i := range benchKeys {
		s := m.Open(ctx, "")
		if err := s.SetUser("u" + strconv.Itoa(i%50)); err != nil {
			b.Fatal(err)
		}
		res, err := m.Commit(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		goIDs[i] = res.ID
		nodeIDs[i] = session.NewID()
		doc := `{"cookie":{"originalMaxAge":86400000,"expires":"` + exp.UTC().Format("2006-01-02T15:04:05.000Z") +
			`","httpOnly":true,"path":"/"},"user_id":"u` + strconv.Itoa(i%50) + `"}`
		if err := e.c.Set(ctx, e.prefix+nodeIDs[i], doc, 24*time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
	}
	read := func(ids []string) func(i int) error {
		return func(i int) error {
			s := m.Open(ctx, ids[i%benchKeys])
			u, err := s.User()
			if err != nil {
				return err
			}
			if u == "" {
				b.Fatal("session without its user")
			}
			_, err = m.Commit(ctx, s)
			return err
		}
	}
	interleave(b, "go", read(goIDs), "node", read(nodeIDs))
}
