package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress reports how far an operation has come: a redrawn bar on a
// terminal, and a plain line every few seconds otherwise (a log, a pipe).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	what  string
	total int64 // 0 when unknown
	start time.Time
	last  time.Time
	drawn bool
}

// isTerminal reports whether w is a terminal. A character device is not
// enough: /dev/null is one too.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, what string, total int64) *progress {
	now := time.Now()
	return &progress{w: w, tty: isTerminal(w), what: what, total: total, start: now, last: now}
}

// set reports that n units are done. It draws at most ten times a second on
// a terminal and once every five seconds elsewhere.
func (p *progress) set(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	p.draw(n)
}

func (p *progress) draw(n int64) {
	elapsed := time.Since(p.start).Truncate(100 * time.Millisecond)
	if !p.tty {
		if p.total > 0 {
			fmt.Fprintf(p.w, "%s: %d of %d (%d%%) after %v\n", p.what, n, p.total, pct(n, p.total), elapsed)
		} else {
			fmt.Fprintf(p.w, "%s: %d after %v\n", p.what, n, elapsed)
		}
		return
	}
	p.drawn = true
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d  %v", p.what, n, elapsed)
		return
	}
	const width = 30
	fill := int(min(n, p.total) * width / p.total)
	fmt.Fprintf(p.w, "\r\x1b[K%s [%s%s] %3d%% %d/%d  %v", p.what,
		strings.Repeat("#", fill), strings.Repeat(" ", width-fill), pct(n, p.total), n, p.total, elapsed)
}

// finish draws the final state and ends the bar's line.
func (p *progress) finish(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.draw(n)
		fmt.Fprintln(p.w)
	} else if time.Since(p.start) >= 5*time.Second {
		p.draw(n)
	}
}

func pct(n, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(100, n*100/total)
}
