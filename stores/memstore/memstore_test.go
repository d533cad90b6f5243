package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			s := memstore.New()
			t.Cleanup(func() { s.Close() })
			return s
		},
	})
}

func TestClosedStoreReturnsErrClosed(t *testing.T) {
	s := memstore.New()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := t.Context()
	if _, _, _, err := s.Load(ctx, "a"); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Load after Close = %v; want session.ErrClosed", err)
	}
	if err := s.Save(ctx, "a", []byte("x"), time.Now().Add(time.Hour)); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Save after Close = %v; want session.ErrClosed", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Ping after Close = %v; want session.ErrClosed", err)
	}
}

// TestIterateLetsFnCallStore checks that fn runs without the store's lock:
// deleting from fn would deadlock otherwise.
func TestIterateLetsFnCallStore(t *testing.T) {
	s := memstore.New(memstore.WithPruneInterval(0))
	defer s.Close()
	ctx := t.Context()
	for i := range 600 {
		if err := s.Save(ctx, fmt.Sprint(i), []byte("x"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	err := s.Iterate(ctx, func(r session.Record) error {
		seen++
		return s.Delete(ctx, r.ID)
	})
	if err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	if seen != 600 {
		t.Errorf("Iterate yielded %d records; want 600", seen)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Errorf("Count after deleting every record from fn = %d; want 0", n)
	}
}

func ExampleNew() {
	s := memstore.New(memstore.WithPruneInterval(10 * time.Minute))
	defer s.Close()

	ctx := context.Background()
	_ = s.Save(ctx, "id", []byte(`{"cookie":{}}`), time.Now().Add(time.Hour))
	data, _, found, _ := s.Load(ctx, "id")
	fmt.Println(found, string(data))
	// Output: true {"cookie":{}}
}

func BenchmarkLoad(b *testing.B) {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	if err := s.Save(ctx, "id", make([]byte, 1024), time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, found, err := s.Load(ctx, "id"); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

func BenchmarkSave(b *testing.B) {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	data := make([]byte, 1024)
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save(ctx, "id", data, exp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadParallel(b *testing.B) {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	if err := s.Save(ctx, "id", make([]byte, 1024), time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, _, err := s.Load(ctx, "id"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
