// Package conformance is the test suite every session.Store must pass: pass
// it in CI and the store keeps the contract the session.Manager relies on.
// The contract itself is written once, in the documentation of
// session.Store and of the optional capabilities beside it; this package
// checks it and says, when a case fails, which promise was broken.
//
// # Running it
//
// A store author calls Run from a test with a Harness whose New opens a
// fresh, isolated store per case:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			New: func(t *testing.T) session.Store {
//				s := mystore.New(...) // its own table, key prefix or file
//				t.Cleanup(func() { s.Close() })
//				return s
//			},
//		})
//	}
//
// Run it under -race. Cases run as parallel subtests named area/case, so a
// failure reads like
//
//	--- FAIL: TestConformance/concurrency/touch-vs-delete
//	    round 1 of 4: after a Delete and a Touch raced,
//	    Load("r2") = "data:r2" expiring in 2h0m0s; want not found (the
//	    contract: Touch never creates a record; a logout racing a request
//	    must stay a logout)
//
// naming the operation, its inputs, what came back and the promise. Run a
// single area or case with -run 'TestConformance/expiry/' as for any
// subtest.
//
// # Harness
//
// Only New is required. The other fields describe the store:
//   - Reopen closes a store and opens another on the same data, as after a
//     restart; the persist cases (records, expiries, deletes, the user
//     index) run only with it.
//   - ExpiryGranularity is the unit a store keeps expiry in, such as
//     time.Second for a timestamp column in whole seconds (default 10ms);
//     see "Expiry granularity" in session.Store for the rounding it implies.
//   - JSONOnly says the store holds only JSON documents; UserKey says it
//     reads a session's user from the document itself (implies JSONOnly).
//   - Stall makes the store's backend stop answering until released, so the
//     stall cases can cancel a call while it waits; without it they are
//     skipped with a note.
//   - Skip opts cases out, each with the reason the skip prints.
//
// # What the cases check
//
// basic, expiry, payload and ids check the four Store methods: round trips,
// overwrite, Touch moving only the expiry (and never creating or reviving a
// record), records expiring in milliseconds and in minutes, payloads from
// empty to 1 MiB and every byte value, and IDs that a mangled key, a
// pattern match or a collation would confuse. cancel calls each method with
// a cancelled context; stall cancels each while the backend is stalled.
// concurrency runs many goroutines on distinct and shared IDs, and races
// Touch against Save and against Delete. counter, pruner, iterator,
// userindex, pinger and closer check each optional capability the store
// implements, including a Prune of thousands of expired records among live
// ones, an Iterate over thousands of records whose fn keeps the data and
// deletes as it goes, user links whose sessions expire at different times,
// and a Close while other calls are in flight. persist checks a reopened
// store, its user index included. manager runs the store under a
// session.Manager: lazy loads, no writes for unmodified sessions, throttled
// touches, idle and absolute timeouts, renewal, destroy, revoke (also of a
// session kept alive past the expiry it was first linked with).
//
// # What a store must allow
//
// A few cases constrain the store New returns:
//   - The pruner cases expect Prune to find the records that expired during
//     the case: disable background pruning, or keep its interval above a
//     minute.
//   - The closer case closes the store itself; the cleanup New registered
//     may close it again, so Close must tolerate a second call.
//   - The volume cases (pruner/many, iterator/many) write 3,000 small
//     records from 16 goroutines; the race cases run 32 pairs of calls at
//     once.
//   - A call that panics fails its case only, and the other cases run on.
//     A call that must return at once (a cancelled context, a closed store)
//     and has not within 3 seconds fails its case; the calls of the closer
//     case run at once, so a store that hangs after Close costs 3 seconds,
//     not 3 per method.
//
// # Opting out
//
// A store that documents that it does not keep one promise opts out of the
// cases that check it with Harness.Skip, keyed by the names the subtests
// print: an area ("pruner"), a case ("concurrency/touch-vs-delete"), or one
// check of a case ("iterator/many/no-repeats"). The value is the reason,
// printed with the skip:
//
//	Skip: map[string]string{
//		"iterator/many/no-repeats": "SCAN may return a key twice while Redis resizes",
//	},
//
// Run fails at once on a key that names nothing the suite runs, so a
// misspelt opt-out cannot leave a case running unnoticed, or one with no
// reason. A capability the store does not implement needs no opt-out: its
// cases skip themselves, saying which interface is missing.
//
// # Timing
//
// Expiry is checked in real time with ExpiryGranularity as the tolerance
// both ways. When calls are so slow that a short-lived record could already
// have expired, a case retries with longer lifetimes instead of failing, so
// a loaded machine makes the suite slower, never wrong. With the default
// granularity the suite takes a few seconds; with whole seconds, about half
// a minute at -parallel 2, as each waiting case sleeps past a few expiries.
package conformance
