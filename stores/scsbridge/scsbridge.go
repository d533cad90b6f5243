// Package scsbridge connects sessionkit stores and alexedwards/scs/v2 stores,
// in both directions.
//
// New turns any session.Store into an scs store, so an application on scs's
// SessionManager can keep its sessions in sessionkit's PostgreSQL, Redis or
// bbolt store:
//
//	sm := scs.New()
//	sm.Store = scsbridge.New(bboltStore)
//
// Adapt turns any scs store into a session.Store, so it can serve a
// session.Manager or run through conformance.Run:
//
//	st := scsbridge.Adapt(memstore.New())
//
// The package is not called scs so that it can be imported beside
// github.com/alexedwards/scs/v2 without renaming either.
//
// # Our stores under scs
//
// scs's SessionManager needs only Find, Commit and Delete, which map onto
// Load, Save and Delete (it calls the Ctx variants, so the request's context
// reaches the store); its Iterate needs All, which is served by the
// store's session.Iterator and fails with session.ErrUnsupported without one
// (where an scs store would make Iterate panic). scs encodes sessions with
// gob by default, so the store must accept binary payloads: the PostgreSQL
// store, whose column is json, needs an scs Codec that writes JSON objects.
// scs slides an idle timeout by rewriting the whole record on every request;
// the Manager's throttled Touch is not used on this path.
//
// # scs stores under sessionkit
//
// An scs store's Find returns no expiry, which Load must report. Adapt
// therefore writes each payload behind a 12-byte header holding the expiry
// (a magic number and the instant in Unix microseconds) and strips it on
// Load, so the expiry round-trips exactly and is checked on every Load even
// when the scs store keeps records longer than asked. The consequences:
//
//   - Records written by scs itself, or by any writer other than Adapt, have
//     no header; Load treats them as unreadable (not found), Touch leaves
//     them alone and Delete removes them.
//   - Touch cannot move an expiry alone: it reads the whole record with Find
//     and writes it back with Commit, one full read and one full write where
//     a native store does a small UPDATE or EXPIRE. The Manager touches at
//     most once per Config.TouchInterval per session, which bounds the cost.
//   - That read-modify-write is serialized per ID within one adapted store
//     (a Delete cannot be undone by a Touch in flight), but not across
//     processes: with several instances on one shared scs store, a Touch
//     racing a Delete or Save on another instance can bring back the data it
//     read, a logged-out session included. Prefer a native sessionkit store
//     for a backend that several instances share.
//   - Save and Touch with an expiry that is not in the future call Delete:
//     scs's goredisstore, asked to commit with a past expiry, stores the
//     record with no TTL at all.
//   - Sessions that scs wrote (in its own codec, without the header) are not
//     readable through Adapt. To keep an scs application's sessions, run the
//     application on a sessionkit store through New instead.
//   - A call with a context already done returns its error without reaching
//     the scs store. A plain scs.Store (no CtxStore) cannot be interrupted
//     once called.
//   - scs has no way to count, prune on demand, index users, ping or close,
//     so the adapted store implements none of session.Counter,
//     session.Pruner, session.UserIndex, session.Pinger or io.Closer. It
//     implements session.Iterator when the scs store implements
//     scs.IterableStore or scs.IterableCtxStore; All loads every record into
//     one map, so iterating a large store costs memory in proportion.
//   - Nor does it implement session.ConditionalStore: scs's interface has
//     no compare-and-set, so a Manager on an adapted store saves with plain
//     Saves. Concurrent requests of one session then overwrite each other
//     (the last commit wins) and an in-flight request can write back a
//     session that was destroyed or revoked; the conformance suite skips its
//     conditional and manager-races cases for this reason.
//
// # scs stores through the conformance suite
//
// TestMemstore runs scs's memstore through Adapt and through a naive
// one-to-one mapping, and bench/compare runs scs's goredisstore and pgxstore
// through Adapt; docs/scsbridge-conformance.md has the case-by-case results
// and why the naive mapping fails where it does.
package scsbridge
