package conformance

import (
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// idPairs are IDs that a store might mangle, each beside a similar ID that a
// mangled key, a pattern match, a path or a collation would confuse it with.
var idPairs = []struct{ name, id, similar string }{
	{"quotes", `a'b"c`, `a''b""c`},
	{"backslash", `a\b`, `a\\b`},
	{"star", `*`, `a`},
	{"glob", `a?[bc]`, `a1b`},
	{"braces", `{a}`, `a`},
	{"sql-like", `a%_`, `abc`},
	{"percent", `a%2Fb`, `a/b`},
	{"slash", `a/b`, `a`},
	{"dotdot", `../a`, `a`},
	{"dots", `..`, `.`},
	{"colon", `sess:a`, `a`},
	{"space", `a b`, `a+b`},
	{"trailing-space", `ab `, `ab`},
	{"case", `AB`, `ab`},
	{"unicode", "sé日本🍪", "se日本🍪"},
	{"normalization", "\u00e9", "e\u0301"},
	{"long", strings.Repeat("a", 250), strings.Repeat("a", 249) + "b"},
}

func (s *suite) idCases() []testCase {
	var cs []testCase
	for _, p := range idPairs {
		cs = append(cs, testCase{p.name, func(t *testing.T, st session.Store) {
			s.idIsolated(t, st, p.id, p.similar)
		}})
	}
	return cs
}

// idIsolated checks that id and similar are two records through Save, Load,
// Iterate, Count, Touch and Delete.
func (s *suite) idIsolated(t *testing.T, st session.Store, id, similar string) {
	exp := later()
	s.save(t, st, id, s.data("id"), exp)
	s.save(t, st, similar, s.data("similar"), exp)
	s.wantRecord(t, st, id, s.data("id"), exp, "after saving it and "+showID(similar))
	s.wantRecord(t, st, similar, s.data("similar"), exp, "after saving it and "+showID(id))
	if it, ok := st.(session.Iterator); ok {
		s.wantIDs(t, s.collect(t, it), id, similar)
	}
	if c, ok := st.(session.Counter); ok {
		s.wantCount(t, c, 2, "after saving "+showID(id)+" and "+showID(similar))
	}

	s.touch(t, st, id, s.past())
	s.wantMissing(t, st, id, "after touching it to the past")
	s.wantRecord(t, st, similar, s.data("similar"), exp, "after touching "+showID(id)+" to the past")

	s.save(t, st, id, s.data("id"), exp)
	s.del(t, st, id)
	s.wantMissing(t, st, id, "after deleting it")
	s.wantRecord(t, st, similar, s.data("similar"), exp, "after deleting "+showID(id))
}
