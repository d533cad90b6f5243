package conformance

import (
	"encoding/json"
	"testing"
)

func TestSizedPayloads(t *testing.T) {
	for _, jsonOnly := range []bool{false, true} {
		s := newSuite(Harness{JSONOnly: jsonOnly})
		min := len(s.data("tag"))
		for _, n := range []int{0, 1, min, min + 1, 4096, 1 << 20} {
			b := s.sized("tag", n)
			want := n
			if jsonOnly && n < min {
				want = min
			}
			if len(b) != want {
				t.Errorf("JSONOnly=%v: sized(%d) has %d bytes; want %d", jsonOnly, n, len(b), want)
			}
			if jsonOnly && !json.Valid(b) {
				t.Errorf("sized(%d) for a JSONOnly store is not JSON: %s", n, show(b))
			}
		}
		if a, b := s.sized("a", 64), s.sized("b", 64); s.same(a, b) {
			t.Errorf("JSONOnly=%v: payloads of different tags are equal", jsonOnly)
		}
	}
}
