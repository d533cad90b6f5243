package storeurl

import (
	"strings"
	"testing"
	"time"
)

func TestSplit(t *testing.T) {
	rest, p, err := Split("redis", "redis+cluster://h1:1,h2:2/?prefix=a%3A&dial_timeout=1s&prefix=b#frag", "prefix", "scan_count")
	if err != nil {
		t.Fatal(err)
	}
	if rest != "redis+cluster://h1:1,h2:2/?dial_timeout=1s#frag" {
		t.Errorf("rest = %q", rest)
	}
	var prefix string
	p.String("prefix", &prefix)
	n := 7
	p.Positive("scan_count", &n)
	if prefix != "b" || n != 7 || p.Has("scan_count") || p.Err() != nil {
		t.Errorf("prefix %q, scan_count %d, err %v; want the last prefix and scan_count untouched", prefix, n, p.Err())
	}
	if rest, _, _ := Split("x", "memory://", "a"); rest != "memory://" {
		t.Errorf("a URL without a query became %q", rest)
	}
	if _, _, err := Split("x", "memory://?a=%zz", "a"); err == nil {
		t.Error("a malformed query was accepted")
	}
}

func TestOnly(t *testing.T) {
	if _, err := Only("bbolt", "bbolt:///x.db?bucket=a&zeta=1&buckt=x", "bucket"); err == nil ||
		err.Error() != `bbolt: unknown URL parameter "buckt" (known: bucket)` {
		t.Errorf("Only: %v; want the first unknown parameter, in order, named", err)
	}
	p, err := Only("bbolt", "bbolt:///x.db?bucket=a", "bucket", "verify")
	if err != nil || !p.Has("bucket") {
		t.Errorf("Only of known parameters: %v", err)
	}
}

func TestGetters(t *testing.T) {
	_, p, _ := Split("s", "s://?d=off&e=90s&b=yes&n=0&bad=x", "d", "e", "b", "n", "bad")
	d, e := time.Minute, time.Minute
	p.Duration("d", &d, -1)
	p.Duration("e", &e, -1)
	if d != -1 || e != 90*time.Second || p.Err() != nil {
		t.Errorf("durations %v %v, err %v", d, e, p.Err())
	}
	var b bool
	p.Bool("b", &b)
	if p.Err() == nil || !strings.Contains(p.Err().Error(), `s: URL parameter b="yes" is not a boolean`) {
		t.Errorf("Bool(yes): %v", p.Err())
	}
	n := 3
	p.Positive("n", &n)
	if n != 3 || !strings.Contains(p.Err().Error(), "b=") {
		t.Errorf("the first error is kept and a bad value leaves the default: n %d, %v", n, p.Err())
	}
}
