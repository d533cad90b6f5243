package stores_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func ExampleOpen() {
	// In a program: stores.Open(ctx, os.Getenv("SESSION_STORE")), with
	// SESSION_STORE such as postgres://app@db/app?create_table=true or
	// bbolt:///var/lib/app/sessions.db.
	st, err := stores.Open(context.Background(), "memory://?prune_interval=off")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.(io.Closer).Close()
	fmt.Printf("%T\n", st)

	// An unknown scheme's error lists the known ones.
	_, err = stores.Open(context.Background(), "mongodb://db/app")
	fmt.Println(errors.Is(err, stores.ErrUnknownScheme))
	// Output:
	// *memstore.Store
	// true
}

func ExampleOpenWith() {
	// A tool that inspects an application's store (as sessionctl does) asks
	// for nothing to be created and no background pruning to run.
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	url := "bbolt://" + filepath.ToSlash(filepath.Join(dir, "sessions.db"))
	inspect := stores.Options{NoCreate: true, NoPruning: true}

	// A mistyped path is an error, not a new, empty store.
	_, err = stores.OpenWith(context.Background(), url, inspect)
	fmt.Println(errors.Is(err, fs.ErrNotExist))

	// The application creates its store; the tool then opens it.
	st, err := stores.Open(context.Background(), url)
	if err != nil {
		fmt.Println(err)
		return
	}
	st.(io.Closer).Close()
	st, err = stores.OpenWith(context.Background(), url, inspect)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.(io.Closer).Close()
	n, err := st.(session.Counter).Count(context.Background())
	fmt.Println(n, err)
	// Output:
	// true
	// 0 <nil>
}

func ExampleRegister() {
	// A third-party driver joins Open with its own scheme.
	stores.Register("tmpmem", func(ctx context.Context, rawURL string, o stores.Options) (session.Store, error) {
		return memstore.New(memstore.WithPruneInterval(time.Hour)), nil
	})
	st, err := stores.Open(context.Background(), "tmpmem://")
	fmt.Println(err == nil)
	st.(io.Closer).Close()
	// Output: true
}

func ExampleRedact() {
	fmt.Println(stores.Redact("postgres://app:s3cret@db.internal/app?sslmode=require"))
	// Output: postgres://app:xxxxx@db.internal/app?sslmode=require
}
