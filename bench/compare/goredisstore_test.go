package compare

import (
	"testing"

	"github.com/alexedwards/scs/goredisstore"

	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

// TestGoredisstore runs scs's Redis store through Adapt and the whole
// conformance suite, against the real Redis of SESSIONKIT_REDIS_URL: every
// case it reaches passes, as for memstore. Each case gets its own key
// prefix, deleted when it ends.
func TestGoredisstore(t *testing.T) {
	c := redistest.Client(t)
	conformance.Run(t, conformance.Harness{
		New: func(t *testing.T) session.Store {
			return scsbridge.Adapt(goredisstore.NewWithPrefix(c, redistest.Prefix(t, c)))
		},
	})
}
