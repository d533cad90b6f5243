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
//	sessionctl schema URL
//	                                print the PostgreSQL SQL
//	sessionctl cookie verify|sign …  check or mint a signed session cookie
//
// URLs are those the stores registry opens (postgres://, redis://, rediss://,
// redis+cluster://, redis+sentinel://, bbolt://, memory://, and any scheme
// registered beside them); sessionctl <command> -h lists every form with its
// parameters. sessionctl reaches a store only through the registry
// (stores.OpenWith) and the capability interfaces of package session, so it
// knows no store's URL parameters, SQL or file layout, and a store added to
// the registry works with every command. Passwords in URLs are never printed. Results go to
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
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

var usage = `usage: sessionctl <command> [flags] [arguments]

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
  cookie verify [--secret S]... [--name NAME] [--store URL] [--id-hash-key K] VALUE
                                  check a cookie value or a Cookie header
  cookie sign [--secret S] [ID]
                                  mint a signed cookie value (a new ID when none);
                                  the secret must be at least 32 bytes

Secrets come from --secret or SESSION_SECRET. sessionctl <command> -h
describes one command.

` + urlHelp

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

// urlHelp describes the URL arguments: every form the registry opens.
var urlHelp = "A URL names a session store; passwords in it are never printed. Its forms:\n\n" +
	indent(stores.Usage())

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// command returns the flag set of a command, whose -h prints synopsis, the
// flags and, when withURL, the forms of a store URL.
func command(name, synopsis string, withURL bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: sessionctl %s\n", synopsis)
		if hasFlags(fs) {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
		if withURL {
			fmt.Fprintf(w, "\n%s", urlHelp)
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// errHelp is returned when -h asked for a command's help, which is then
// printed: not a failure.
var errHelp = errors.New("help requested")

// usageError marks a mistake in the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// status prints err and returns the exit status it calls for.
func status(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
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
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
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

// target is an opened store and the name of its backend, for messages.
type target struct {
	backend string
	store   session.Store
}

func (t *target) Close() error {
	if c, ok := t.store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// open opens rawURL through the registry with background pruning off and
// the store libraries quiet: sessionctl does what it is asked and nothing
// else, and reports it itself. Commands that read a store set o.NoCreate,
// so that a mistyped URL is an error rather than a new, empty store.
func open(ctx context.Context, rawURL string, o stores.Options) (*target, error) {
	o.NoPruning, o.Quiet = true, true
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := stores.OpenWith(ctx, rawURL, o)
	if err != nil {
		return nil, err
	}
	return &target{backend: stores.Backend(rawURL), store: st}, nil
}

// existing is what commands that only read or prune a store ask of it.
var existing = stores.Options{NoCreate: true}

func runCount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := command("count", "count URL\n\nPrints the number of live sessions.", true)
	raw, err := oneURL(fs, args, stderr)
	if err != nil {
		return err
	}
	t, err := open(ctx, raw, existing)
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
