package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "pruning", 200)
	if p.tty {
		t.Fatal("a buffer taken for a terminal")
	}
	p.tty = true
	p.last = time.Time{}
	p.set(50)
	if got := b.String(); !strings.HasPrefix(got, "\r\x1b[Kpruning [#######                       ]  25% 50/200") {
		t.Errorf("bar %q", got)
	}
	p.set(60) // within 100ms: not redrawn
	if strings.Contains(b.String(), "60/200") {
		t.Error("redrawn too often")
	}
	p.finish(200)
	if got := b.String(); !strings.HasSuffix(got, "\n") || !strings.Contains(got, "100% 200/200") {
		t.Errorf("finish %q", got)
	}

	b.Reset()
	p = newProgress(&b, "copying", 0)
	p.last = time.Time{}
	p.set(7)
	if got := b.String(); !strings.HasPrefix(got, "copying: 7 after") || !strings.HasSuffix(got, "\n") || strings.Contains(got, "\r") {
		t.Errorf("plain line %q", got)
	}
}

// TestDevNullIsNoTerminal: /dev/null is a character device but not a
// terminal, so stderr sent there gets the plain lines, not a bar.
func TestDevNullIsNoTerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("/dev/null taken for a terminal")
	}
}
