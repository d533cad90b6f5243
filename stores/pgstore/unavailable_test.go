package pgstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"57P01", true}, // admin shutdown
		{"57P02", true}, // crash shutdown
		{"57P03", true}, // cannot connect now: starting up
		{"53300", true}, // too many connections
		{"08006", true}, // connection failure
		{"08001", true},
		{"42P01", false}, // undefined table
		{"28P01", false}, // wrong password
		{"23505", false},
	} {
		err := fmt.Errorf("query: %w", &pgconn.PgError{Code: tc.code})
		if got := unavailable(err); got != tc.want {
			t.Errorf("SQLSTATE %s: unavailable %v, want %v", tc.code, got, tc.want)
		}
	}
	if unavailable(errors.New("json: bad value")) {
		t.Error("a plain error counted as unavailable")
	}
}
