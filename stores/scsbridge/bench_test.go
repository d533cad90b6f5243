package scsbridge_test

import (
	"testing"
	"time"

	scsmem "github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

// BenchmarkTouch compares a native Touch (the memory store moves the
// expiry alone) with Adapt's, which rewrites the record, on a 4 KiB
// session.
func BenchmarkTouch(b *testing.B) {
	for _, bc := range []struct {
		name string
		st   func() session.Store
	}{
		{"memory", func() session.Store { return memstore.New(memstore.WithPruneInterval(0)) }},
		{"adapt-memstore", func() session.Store { return scsbridge.Adapt(scsmem.NewWithCleanupInterval(0)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := bc.st()
			ctx := b.Context()
			exp := time.Now().Add(time.Hour)
			if err := st.Save(ctx, "a", make([]byte, 4096), exp); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				exp = exp.Add(time.Millisecond)
				if err := st.Touch(ctx, "a", exp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
