package redistest

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards loopback TCP connections to a Redis server and can hold
// every byte in both directions, as a server that stopped answering would,
// while the connections stay open. The conformance suite's stall cases use
// it to cancel a command that waits for its reply.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	gate    chan struct{} // closed while traffic flows
	release func()        // opens gate
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// NewProxy starts a proxy to target on a free loopback port; it stops, and
// closes every connection, when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	open := make(chan struct{})
	close(open)
	p := &Proxy{ln: ln, target: target, gate: open, release: func() {}, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is the address clients dial instead of the server's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stall holds all traffic until release is called; release may be called
// more than once.
func (p *Proxy) Stall() (release func()) {
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	p.mu.Lock()
	prev := p.release
	p.gate, p.release = gate, release
	p.mu.Unlock()
	prev()
	return release
}

func (p *Proxy) wait() {
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	<-gate
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, s) {
			return
		}
		p.wg.Go(func() { p.pipe(s, c) })
		p.wg.Go(func() { p.pipe(c, s) })
	}
}

// track records a connection pair, or closes it when the proxy is closing.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst, waiting at the gate before each write; it closes
// both when either side ends.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	release := p.release
	p.mu.Unlock()
	release() // let held writes through, to connections about to close
	for c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}
