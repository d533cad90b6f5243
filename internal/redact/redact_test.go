package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, c := range []struct{ in, secret string }{
		{"postgres://app:s3cret@db/app?sslmode=require", "s3cret"},
		{"postgres://app:p%40ss@db/app", "p%40ss"},
		{"postgres://db/app?user=app&password=100%25sure", "100%25sure"},
		{"postgres://db/app?password=100%25sure", "100%sure"},
		{"redis+cluster://:hunter2@h1:7000,h2:7001/", "hunter2"},
		{"redis+sentinel://h1:26379?master_name=m&sentinel_password=t0ps3cret", "t0ps3cret"},
		{"host=db user=app password=s3cret dbname=app", "s3cret"},
		{"host=db password = 's3 cr\\'et' dbname=app", "s3 cr'et"},
		{"host=db password='s3 cr\\'et' dbname=app", `s3 cr\'et`},
	} {
		got := URL(c.in)
		if strings.Contains(got, c.secret) || !strings.Contains(got, Mask) {
			t.Errorf("URL(%q) = %q, still shows %q", c.in, got, c.secret)
		}
	}
	for _, in := range []string{"postgres://app@db/app", "bbolt:///tmp/x.db?bucket=b", "memory://", "host=db user=app"} {
		if got := URL(in); got != in {
			t.Errorf("URL(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestError(t *testing.T) {
	raw := "postgres://app:100%25sure@db/app?password=p%26q"
	base := fmt.Errorf("connect to %s as 100%%sure (p&q, p%%26q): %w", raw, fs.ErrNotExist)
	err := Error(base, raw)
	for _, s := range []string{"100%sure", "100%25sure", "p&q", "p%26q"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("Error shows %q: %v", s, err)
		}
	}
	if !errors.Is(err, fs.ErrNotExist) || errors.Unwrap(err) != base {
		t.Errorf("Error broke the chain of %v", err)
	}
	var target *redacted
	if !errors.As(fmt.Errorf("wrapped: %w", err), &target) {
		t.Error("errors.As does not find the redacted error through a wrapper")
	}
	if Error(nil, raw) != nil || Error(base, "memory://") != base {
		t.Error("Error changed a nil error or one whose URL has no password")
	}
}
