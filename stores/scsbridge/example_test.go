package scsbridge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/scsbridge"
)

// An scs application keeps its sessions in a sessionkit store.
func ExampleNew() {
	st := memstore.New() // or a PostgreSQL, Redis or bbolt store
	defer st.Close()

	sm := scs.New()
	sm.Store = scsbridge.New(st)
	sm.Lifetime = 12 * time.Hour
	// Serve with sm.LoadAndSave(handler), as any scs application.
	fmt.Printf("%T\n", sm.Store)
	// Output: *scsbridge.Store
}

// An scs store serves as a session.Store, here checked by hand; a test
// would pass it to conformance.Run.
func ExampleAdapt() {
	st := scsbridge.Adapt(scsmem.NewWithCleanupInterval(0))
	ctx := context.Background()
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond)

	_ = st.Save(ctx, "id", []byte("data"), exp)
	data, gotExp, found, _ := st.Load(ctx, "id")
	fmt.Println(string(data), found, gotExp.Equal(exp))
	// Output: data true true
}
