package conformance

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// raceIDs and raceRounds set how many Touch races the race cases run: each
// round starts one race per ID at once.
const (
	raceIDs    = 32
	raceRounds = 4
)

// raceTouch runs, for each of raceIDs IDs at once and raceRounds times, a
// Touch beside other, both started together, after prepare; then check
// describes what a correct store holds whichever ran first.
func (s *suite) raceTouch(t *testing.T, st session.Store, prepare, other func(id string, round int) error, check func(id string, round int) error) {
	t.Helper()
	ctx := t.Context()
	for round := range raceRounds {
		var wg sync.WaitGroup
		for i := range raceIDs {
			id := fmt.Sprint("r", i)
			if err := prepare(id, round); err != nil {
				t.Fatal(err)
			}
			start := make(chan struct{})
			wg.Go(func() {
				defer recovered(t)
				<-start
				if err := st.Touch(ctx, id, later().Add(time.Hour)); err != nil {
					t.Errorf("Touch(%s) racing another call: %v", showID(id), err)
				}
			})
			wg.Go(func() {
				defer recovered(t)
				<-start
				if err := other(id, round); err != nil {
					t.Error(err)
				}
			})
			close(start)
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i := range raceIDs {
			if err := check(fmt.Sprint("r", i), round); err != nil {
				t.Fatalf("round %d of %d: %v", round+1, raceRounds, err)
			}
		}
	}
}

// touchVsSave races Touch with a Save of new data: whichever runs first,
// the new data must stay. A Touch done as read-then-write (GET, then SET
// with the old value; SELECT, then UPDATE of the whole row) writes the old
// data back over the Save.
func (s *suite) touchVsSave(t *testing.T, st session.Store) {
	ctx := t.Context()
	data := func(id string, round int, v string) []byte { return s.data(fmt.Sprint(id, "/", round, "/", v)) }
	s.raceTouch(t, st,
		func(id string, round int) error {
			return st.Save(ctx, id, data(id, round, "old"), later())
		},
		func(id string, round int) error {
			if err := st.Save(ctx, id, data(id, round, "new"), later()); err != nil {
				return fmt.Errorf("Save(%s) racing a Touch: %v", showID(id), err)
			}
			return nil
		},
		func(id string, round int) error {
			got, _, found, err := st.Load(ctx, id)
			switch {
			case err != nil:
				return fmt.Errorf("Load(%s): %v", showID(id), err)
			case !found:
				return fmt.Errorf("after a Save and a Touch raced, Load(%s) found nothing; want the saved data", showID(id))
			case !s.same(got, data(id, round, "new")):
				return fmt.Errorf("after a Save and a Touch raced, Load(%s) = %s, the data before the Save; want %s (the contract: Touch moves the expiry without rewriting data, so it must never write back data it read)",
					showID(id), show(got), show(data(id, round, "new")))
			}
			return nil
		})
}

// touchVsDelete races Touch with Delete, as a request of a session racing
// its logout: whichever runs first, the record must be gone. A Touch done as
// read-then-write brings the deleted record back.
func (s *suite) touchVsDelete(t *testing.T, st session.Store) {
	ctx := t.Context()
	s.raceTouch(t, st,
		func(id string, _ int) error { return st.Save(ctx, id, s.data(id), later()) },
		func(id string, _ int) error {
			if err := st.Delete(ctx, id); err != nil {
				return fmt.Errorf("Delete(%s) racing a Touch: %v", showID(id), err)
			}
			return nil
		},
		func(id string, _ int) error {
			got, exp, found, err := st.Load(ctx, id)
			switch {
			case err != nil:
				return fmt.Errorf("Load(%s): %v", showID(id), err)
			case found:
				return fmt.Errorf("after a Delete and a Touch raced, Load(%s) = %s expiring %s; want not found (the contract: Touch never creates a record; a logout racing a request must stay a logout)",
					showID(id), show(got), showExp(exp))
			}
			return nil
		})
}
