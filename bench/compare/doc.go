// Package compare holds the benchmarks and tests that put sessionkit beside
// scs's own PostgreSQL and Redis stores (pgxstore, goredisstore): the same
// operations in one process, so that ratios hold on a noisy machine, and
// scs's stores through scsbridge.Adapt and the conformance suite. It is a
// module of its own so that the library's go.mod does not require those
// stores; it has no API. Figures and commands are in BENCHMARKS.md.
package compare
