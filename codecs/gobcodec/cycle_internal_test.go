package gobcodec

import (
	"bytes"
	"testing"
)

// BenchmarkCycleCheck compares, on a JSON-shaped value (the kind that must
// be walked), the cycle check alone with the whole encoding of the value.
func BenchmarkCycleCheck(b *testing.B) {
	v := map[string]any{
		"user":  map[string]any{"id": 1234.0, "email": "ada@example.com", "roles": []any{"admin", "dev"}},
		"prefs": map[string]any{"theme": "dark", "langs": []any{"en", "ja"}, "beta": false},
		"cart":  []any{map[string]any{"sku": "a1", "n": 2.0}, map[string]any{"sku": "b2", "n": 1.0}},
	}
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkCycles(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var vb bytes.Buffer
		for b.Loop() {
			if _, err := encodeValue(&vb, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
