// Package bench holds sessionkit's benchmarks: the whole request path
// (middleware, Manager, memory store, JSON codec) beside a bare handler and
// beside alexedwards/scs/v2 with its memstore, measured in one process so
// that the ratios hold on a noisy machine. It has no non-test code.
//
// Run them with:
//
//	go test -run='^$' -bench=. -benchmem ./bench
package bench
