package stores

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/mysqlstore"
)

// The mysql scheme: mysqlstore parses its URL itself (see mysqlstore.Open).
func init() {
	Register("mysql", func(ctx context.Context, rawURL string) (session.Store, error) {
		return mysqlstore.Open(ctx, rawURL, mysqlstore.Options{})
	})
}
