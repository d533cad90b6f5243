// Package session is the portable core of sessionkit: the Manager that owns
// every session rule once, the Session a request works with, and the small
// contracts (Store, Codec) that backends and formats implement.
//
// # The parts
//
// A [Manager] is built once per application with [New] from a [Config]. Its
// two required fields are a [Store], which persists opaque bytes under an ID
// with an absolute expiry instant and decides no policy, and a [Codec], which
// turns a session's values and metadata into those bytes and back
// (codecs/jsoncodec writes express-session's document; codecs/gobcodec is for
// Go-only deployments). Stores live under stores/ (memstore, boltstore,
// pgstore, mysqlstore, redisstore), or stores.Open picks one from a URL; any
// store of your own proves itself with conformance.Run.
//
// The middleware package connects a Manager to net/http: it reads and
// verifies the signed cookie, opens the request's [Session] with
// [Manager.Open], hands it to the handler (middleware.Get), and commits it
// with [Manager.Commit] before the first byte of the response, setting or
// clearing the cookie as the [CommitResult] says. Code outside HTTP (a job,
// a test) calls Open and Commit itself.
//
// # A request's session
//
// Values are read with the generic [Get], [GetOr] and [Pop] and written with
// [Session.Put] and [Session.Delete]; [AddFlash] and [Flashes] keep one-time
// messages. A Session is safe for the goroutines of one request.
//
// Loading is lazy: a request whose handler never uses its session makes no
// store call at all. The first use loads the record once. A session the
// handler did not modify is never written back, and a new session the
// handler did not modify gets neither a record nor a cookie.
//
// # Timeouts and touches
//
// Config.IdleTimeout (default 24 hours) ends a session that has seen no
// request for that long; the store enforces it through the record's expiry.
// Keeping an idle expiry current would mean a write per request, so an
// unmodified session is moved forward with the store's cheap Touch only once
// its expiry has fallen Config.TouchInterval behind (default a tenth of the
// idle timeout). Config.AbsoluteTimeout (default 7 days) ends a session that
// long after its creation however active it is, checked on every load.
//
// # Renew, destroy and the user index
//
// [Session.Renew] moves the session to a new ID with the same data and
// deletes the old record at commit: call it on login and on any change of
// privilege, so an ID learned before is worthless after. [Session.Destroy]
// deletes the record and leaves an empty new session behind (a flash added
// afterwards starts a fresh one).
//
// [Session.SetUser] stores the user under Config.UserKey. Where the store
// implements [UserIndex], the Manager keeps the index in step, and
// [Manager.UserSessions], [Manager.RevokeUser] ("log out everywhere"),
// [Session.Others] and [Session.RevokeOthers] work; elsewhere they return
// [ErrUnsupported]. The Manager finds [Counter], [Pruner], [Pinger] and
// [ConditionalStore] the same way, once, at construction, and
// [Manager.Close] closes a store that is an io.Closer; [Iterator],
// [Checker] and [ExpiredCounter] serve tools such as sessionctl, which ask
// the store for them. A codec whose format reserves keys implements
// [KeyChecker], and Put refuses those keys with [ErrReserved].
//
// # Concurrent requests of one session
//
// A browser sends requests of one session in parallel, and each commits what
// it changed. Where the store implements [ConditionalStore], loaded sessions
// are saved conditionally against what was loaded, with these guarantees:
//
//   - Changes merge per top-level key: two requests that put different keys
//     both keep their change. For the same key the later commit wins. A
//     commit that finds the record changed since its load reloads it and
//     re-applies its own changes (the keys it put or deleted, flashes it
//     added or consumed, [Session.SetIdleTimeout], a Renew), up to
//     [Config].ConflictRetries times, after which it fails with an error
//     wrapping [ErrConflict].
//   - [Update] changes one key atomically, for counters and carts: its
//     function runs again on the fresh value when a retry is needed, so n
//     concurrent increments add exactly n.
//   - An ended session stays ended: a session that was destroyed, renewed
//     away, revoked or expired while a request held it is never re-created by
//     that request's commit. The commit writes nothing, drops the changes,
//     leaves the cookie alone (a parallel request may just have set a newer
//     one) and returns [ErrEnded], which the middleware treats as an outcome,
//     not a failure. Only a new session is ever inserted.
//   - The read path costs what it did: an unmodified request makes one
//     round trip and writes nothing. A conflict costs one write and at most
//     one load per retry (none where the store's Replace returns a
//     [StaleError]).
//
// A store without ConditionalStore gets plain saves: the last commit writes
// the whole session, and Update is Get, fn, Put. Store authors: see
// ConditionalStore for the contract, which any token works for (a row
// version, a compare-and-set), and which needs no change to a schema a Node
// application shares.
//
// # Errors and logs
//
// Failures wrap the sentinel errors of this package ([ErrNotFound],
// [ErrReserved], [ErrCommitted], [ErrClosed], …) so callers branch with
// errors.Is. Nothing here logs or reports a session's data or raw ID; logs
// and [Metrics] carry a short hash of it ([LogID]).
package session
