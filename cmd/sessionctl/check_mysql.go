package main

import (
	"context"

	"github.com/sessionkit/sessionkit/stores/mysqlstore"
)

func checkMySQL(ctx context.Context, r *report, st *mysqlstore.Store) {
	rep, err := st.Check(ctx)
	if err != nil {
		r.fail("cannot check: %v", err)
		return
	}
	if rep.ServerVersion != "" {
		r.ok("connected to MySQL/MariaDB %s, database %s", rep.ServerVersion, rep.Database)
	}
	r.info("time_zone %s (server default %s, system %s; expiry is Unix seconds, independent of them)", rep.TimeZone, rep.GlobalTimeZone, rep.SystemTimeZone)
	r.info("table %s", rep.Table)
	r.info("%d live sessions, %d expired awaiting pruning", rep.Live, rep.Expired)
	if !rep.OldestExpiry.IsZero() {
		r.info("expiries from %s to %s", stamp(rep.OldestExpiry), stamp(rep.NewestExpiry))
	}
	for _, f := range rep.Findings {
		switch f.Severity {
		case mysqlstore.Error:
			r.fail("%s", f.Message)
		case mysqlstore.Warning:
			r.warn("%s", f.Message)
		default:
			r.info("%s", f.Message)
		}
	}
	if rep.OK() {
		r.ok("table, columns, primary key and expires index fit express-mysql-session and this store")
	}
}
