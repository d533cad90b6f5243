// Command sessionctl answers an operator's questions about a session store
// and moves sessions between stores.
//
//	sessionctl check URL            is the store reachable and laid out as expected?
//	sessionctl count URL            how many live sessions?
//	sessionctl prune [--batch N] URL
//	                                delete expired sessions, in batches
//	sessionctl migrate --from URL --to URL [--workers N] [--force] [--user-key K]
//	                                copy every live session with its expiry
//	sessionctl revoke --user U [--user-key K] [--scan] [--dry-run] URL
//	                                end every live session of a user
//	sessionctl schema [--table T] [--schema S] [--user-index]
//	                                print the PostgreSQL SQL
//	sessionctl cookie verify|sign …  check or mint a signed session cookie
//
// URLs are those of package stores (postgres://, mysql://, redis://,
// redis+cluster://, bbolt://, memory://). Passwords in URLs are never printed. Results go to
// standard output, one line per finding; progress and errors to standard
// error. The exit status is 0 on success, 1 when a check finds a deviation or
// an operation fails, and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
	"github.com/sessionkit/sessionkit/stores/boltstore"
)

func main() {
	// go-redis narrates Sentinel lookups and pool redials on the standard
	// logger; sessionctl reports what matters itself.
	goredis.SetLogger(quietRedis{})
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

const usage = `usage: sessionctl <command> [flags] [arguments]

commands:
  check URL                       reachability, layout, live/expired counts, expiry range
  count URL                       number of live sessions
  prune [--batch N] URL           delete expired sessions in batches of N
  migrate --from URL --to URL     copy live sessions with their expiry, then verify
          [--workers N] [--force] [--user-key KEY] [--no-verify]
  revoke --user U URL             end every live session of a user (log out everywhere)
          [--user-key KEY] [--scan] [--dry-run]
                                  --scan reads every session, finding those no index links
  schema [--table T] [--schema S] [--user-index]
                                  print the PostgreSQL table SQL
  cookie verify [--secret S]... [--name NAME] [--store URL] VALUE
                                  check a cookie value or a Cookie header
  cookie sign [--secret S]... [ID]
                                  mint a signed cookie value (a new ID when none)

URLs: postgres://…, mysql://…, redis://…, rediss://…, redis+cluster://h1,h2/…,
      bbolt:///abs/file.db, bbolt://rel/file.db, memory://
Secrets come from --secret or SESSION_SECRET.
`

// exit statuses.
const (
	exitOK        = 0
	exitDeviation = 1
	exitUsage     = 2
)

// run is the whole command, without the process around it.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	var err error
	switch cmd {
	case "check":
		return runCheck(ctx, args, stdout, stderr)
	case "count":
		err = runCount(ctx, args, stdout, stderr)
	case "prune":
		err = runPrune(ctx, args, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	case "revoke":
		err = runRevoke(ctx, args, stdout, stderr)
	case "schema":
		err = runSchema(args, stdout, stderr)
	case "cookie":
		return runCookie(ctx, args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sessionctl: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	return status(err, stderr)
}

// usageError marks a mistake in the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// status prints err and returns the exit status it calls for.
func status(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "sessionctl: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitDeviation
}

// parse parses flags that may come before, between or after the positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneURL parses a command that takes exactly one store URL.
func oneURL(fs *flag.FlagSet, args []string, stderr io.Writer) (string, error) {
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("%s takes one store URL, got %d arguments", fs.Name(), len(pos))
	}
	return pos[0], nil
}

// target is an opened store with what sessionctl needs beside the Store
// contract.
type target struct {
	url     string
	backend string
	store   session.Store
	// db and bucket are set for bbolt, whose file sessionctl opens itself
	// so that it can read the layout beside the store.
	db     *bbolt.DB
	bucket string
}

func (t *target) Close() error {
	var err error
	if c, ok := t.store.(io.Closer); ok {
		err = c.Close()
	}
	if t.db != nil {
		err = errors.Join(err, t.db.Close())
	}
	return err
}

// openOptions adjust how a store is opened for a command.
type openOptions struct {
	// noCreate turns a PostgreSQL create_table off, so that a check reports
	// a missing table instead of creating it.
	noCreate bool
	// pruneBatch, when positive, sets the batch size of Prune.
	pruneBatch int
	// poolConns, when positive, sizes a PostgreSQL pool that the URL does
	// not size itself: pgx's default (the CPU count, at least 4) would make
	// concurrent workers wait for connections.
	poolConns int
	// mustExist refuses a bbolt file that does not exist rather than
	// creating an empty one.
	mustExist bool
}

// open opens rawURL with background pruning off: sessionctl does what it is
// asked and nothing else.
func open(ctx context.Context, rawURL string, o openOptions) (*target, error) {
	t := &target{url: rawURL, backend: stores.Backend(rawURL)}
	switch t.backend {
	case "bbolt":
		return t, t.openBbolt(o)
	case "mysql":
		rawURL = setParam(rawURL, "prune_interval", "off")
		if o.noCreate {
			rawURL = setParam(rawURL, "create_table", "false")
		}
		if o.pruneBatch > 0 {
			rawURL = setParam(rawURL, "prune_batch", fmt.Sprint(o.pruneBatch))
		}
	case "postgres":
		rawURL = setParam(rawURL, "prune_interval", "off")
		if o.noCreate {
			rawURL = setParam(rawURL, "create_table", "false")
		}
		if o.pruneBatch > 0 {
			rawURL = setParam(rawURL, "prune_batch", fmt.Sprint(o.pruneBatch))
		}
		if o.poolConns > 0 && !query(rawURL).Has("pool_max_conns") {
			rawURL = setParam(rawURL, "pool_max_conns", fmt.Sprint(o.poolConns))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := stores.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	t.store = st
	return t, nil
}

// openBbolt opens the file with bbolt directly and builds the store on it.
func (t *target) openBbolt(o openOptions) error {
	path, err := stores.BboltPath(t.url)
	if err != nil {
		return err
	}
	if o.mustExist {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("bbolt: %w", err)
		}
	}
	q := query(t.url)
	bopts := boltstore.Options{Bucket: q.Get("bucket"), PruneInterval: -1, PruneBatch: o.pruneBatch}
	if bopts.Bucket == "" {
		bopts.Bucket = "sessionkit"
	}
	t.bucket = bopts.Bucket
	timeout := time.Second
	if s := q.Get("open_timeout"); s != "" {
		if timeout, err = time.ParseDuration(s); err != nil {
			return usagef("open_timeout=%q is not a duration", s)
		}
	}
	mode := os.FileMode(0o600)
	if s := q.Get("mode"); s != "" {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o777 {
			return usagef("mode=%q is not an octal permission such as 0600", s)
		}
		mode = os.FileMode(m)
	}
	db, err := bbolt.Open(path, mode, &bbolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return fmt.Errorf("bbolt: %s is locked by another process (a running server?); stop it first", path)
		}
		return fmt.Errorf("bbolt: %s: %w", path, err)
	}
	if o.mustExist {
		// New would create the buckets; a file without them is another
		// application's, or the bucket parameter is wrong.
		err := db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte(t.bucket+"/data")) == nil {
				return fmt.Errorf("bbolt: %s holds no sessions under bucket %q (another application's file, or a different bucket= parameter?)", path, t.bucket)
			}
			return nil
		})
		if err != nil {
			db.Close()
			return err
		}
	}
	st, err := boltstore.New(db, bopts)
	if err != nil {
		db.Close()
		return err
	}
	t.db, t.store = db, st
	return nil
}

// query returns the query parameters of rawURL, read from its text.
func query(rawURL string) url.Values {
	_, q, ok := strings.Cut(rawURL, "?")
	if !ok {
		return url.Values{}
	}
	q, _, _ = strings.Cut(q, "#")
	v, _ := url.ParseQuery(q)
	if v == nil {
		v = url.Values{}
	}
	return v
}

// setParam sets the query parameter key of rawURL to value.
func setParam(rawURL, key, value string) string {
	base, q, _ := strings.Cut(rawURL, "?")
	q, frag, hasFrag := strings.Cut(q, "#")
	v, err := url.ParseQuery(q)
	if err != nil {
		return rawURL
	}
	v.Set(key, value)
	out := base + "?" + v.Encode()
	if hasFrag {
		out += "#" + frag
	}
	return out
}

func runCount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("count", flag.ContinueOnError)
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return err
	}
	t, err := open(ctx, raw, openOptions{noCreate: true, mustExist: true})
	if err != nil {
		return err
	}
	defer t.Close()
	c, ok := t.store.(session.Counter)
	if !ok {
		return fmt.Errorf("the %s store cannot count its sessions", t.backend)
	}
	n, err := c.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, n)
	return nil
}
