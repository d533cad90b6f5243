package boltstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sessionkit/sessionkit/stores/boltstore"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The zero Options prune expired sessions every minute or so and give
	// up after one second when another process holds the file.
	store, err := boltstore.Open(filepath.Join(dir, "sessions.db"), boltstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.Save(ctx, "id", []byte(`{"cookie":{}}`), time.Now().Add(time.Hour)); err != nil {
		log.Fatal(err)
	}
	data, _, found, err := store.Load(ctx, "id")
	fmt.Println(string(data), found, err)
	// Output: {"cookie":{}} true <nil>
}
