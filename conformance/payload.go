package conformance

import (
	"fmt"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

func (s *suite) payloadCases() []testCase {
	return []testCase{
		{"empty", s.emptyPayload},
		{"1mib", s.largePayload},
		{"all-bytes", s.allBytes},
		{"text", s.textPayload},
		{"sizes", s.payloadSizes},
		{"shrink-grow", s.shrinkGrow},
	}
}

// roundTrips saves each payload under its own ID, then loads them all, so
// that one record spilling into another shows.
func (s *suite) roundTrips(t *testing.T, st session.Store, what string, payloads ...[]byte) {
	t.Helper()
	exp := later()
	for i, p := range payloads {
		s.save(t, st, fmt.Sprint("p", i), p, exp)
	}
	for i, p := range payloads {
		s.wantRecord(t, st, fmt.Sprint("p", i), p, exp, "after saving "+what)
	}
}

func (s *suite) emptyPayload(t *testing.T, st session.Store) {
	empty := []byte{}
	if s.h.JSONOnly {
		empty = []byte("{}")
	}
	s.roundTrips(t, st, "an empty payload", empty)
}

func (s *suite) largePayload(t *testing.T, st session.Store) {
	s.roundTrips(t, st, "a 1 MiB payload", s.sized("large", 1<<20))
}

func (s *suite) allBytes(t *testing.T, st session.Store) {
	if s.h.JSONOnly {
		t.Skip("JSONOnly store: binary payloads are not checked")
	}
	b := make([]byte, 512)
	for i := range 256 {
		b[i], b[511-i] = byte(i), byte(i)
	}
	s.roundTrips(t, st, "every byte value", b)
}

// textPayload holds what JSON text and UTF-8 allow that a careless
// conversion breaks: escapes, multi-byte characters, a line separator.
func (s *suite) textPayload(t *testing.T, st session.Store) {
	s.roundTrips(t, st, "escaped and multi-byte text",
		[]byte(`{"cookie":{},"k":"é 日本 🍪 \"q\" \\ \n \u2028 \t <&>"}`))
}

func (s *suite) payloadSizes(t *testing.T, st session.Store) {
	var ps [][]byte
	for _, n := range []int{1, 255, 256, 1000, 4095, 4096, 4097, 65535, 65536, 65537} {
		ps = append(ps, s.sized(fmt.Sprint("size", n), n))
	}
	s.roundTrips(t, st, "payloads of 1 B to 64 KiB", ps...)
}

func (s *suite) shrinkGrow(t *testing.T, st session.Store) {
	exp := later()
	big, small := s.sized("big", 64<<10), s.data("small")
	s.save(t, st, "a", big, exp)
	s.save(t, st, "a", small, exp)
	s.wantRecord(t, st, "a", small, exp, "after a 64 KiB Save then a small one")
	s.save(t, st, "a", big, exp)
	s.wantRecord(t, st, "a", big, exp, "after growing it back to 64 KiB")
}
