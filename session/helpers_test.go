package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// testStore is a map store that counts calls and can be told to fail; the
// real stores live in their own packages and run the conformance suite.
type testStore struct {
	mu    sync.Mutex
	recs  map[string]testRec
	links map[string]map[string]bool
	calls map[string]int
	fail  error
	now   func() time.Time
}

type testRec struct {
	data []byte
	exp  time.Time
}

func newTestStore(now func() time.Time) *testStore {
	return &testStore{recs: map[string]testRec{}, links: map[string]map[string]bool{}, calls: map[string]int{}, now: now}
}

func (s *testStore) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *testStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

func (s *testStore) enter(op string) error {
	s.mu.Lock()
	s.calls[op]++
	return s.fail
}

func (s *testStore) Load(_ context.Context, id string) ([]byte, time.Time, bool, error) {
	err := s.enter("load")
	defer s.mu.Unlock()
	if err != nil {
		return nil, time.Time{}, false, err
	}
	r, ok := s.recs[id]
	if !ok || !r.exp.After(s.now()) {
		return nil, time.Time{}, false, nil
	}
	return append([]byte(nil), r.data...), r.exp, true, nil
}

func (s *testStore) Save(_ context.Context, id string, data []byte, exp time.Time) error {
	err := s.enter("save")
	defer s.mu.Unlock()
	if err == nil {
		s.recs[id] = testRec{append([]byte(nil), data...), exp}
	}
	return err
}

func (s *testStore) Touch(_ context.Context, id string, exp time.Time) error {
	err := s.enter("touch")
	defer s.mu.Unlock()
	if r, ok := s.recs[id]; ok && err == nil {
		r.exp = exp
		s.recs[id] = r
	}
	return err
}

func (s *testStore) Delete(_ context.Context, id string) error {
	err := s.enter("delete")
	defer s.mu.Unlock()
	if err == nil {
		delete(s.recs, id)
	}
	return err
}

func (s *testStore) LinkUser(_ context.Context, user, id string, _ time.Time) error {
	err := s.enter("link")
	defer s.mu.Unlock()
	if s.links[user] == nil {
		s.links[user] = map[string]bool{}
	}
	s.links[user][id] = true
	return err
}

func (s *testStore) UnlinkUser(_ context.Context, user, id string) error {
	err := s.enter("unlink")
	defer s.mu.Unlock()
	delete(s.links[user], id)
	return err
}

func (s *testStore) UserSessions(_ context.Context, user string) ([]string, error) {
	err := s.enter("users")
	defer s.mu.Unlock()
	var ids []string
	for id := range s.links[user] {
		ids = append(ids, id)
	}
	return ids, err
}

// testCodec is a minimal JSON codec that leaves values raw, as the real
// codecs/jsoncodec does.
type testCodec struct{}

type testRaw json.RawMessage

func (r testRaw) DecodeTo(dst any) error { return json.Unmarshal(r, dst) }

type testDoc struct {
	Created  int64                      `json:"created"`
	Deadline int64                      `json:"deadline"`
	Expires  int64                      `json:"expires"`
	MaxAge   *int64                     `json:"maxAge"`
	Values   map[string]json.RawMessage `json:"values"`
}

func (testCodec) Name() string { return "test" }

// CheckKey reserves a few keys, as a format may (see KeyChecker).
func (testCodec) CheckKey(key string) error {
	switch key {
	case "cookie", "__sessionkit", "toString":
		return fmt.Errorf("%w: %q", ErrReserved, key)
	}
	return nil
}

func (testCodec) Encode(st *State) ([]byte, error) {
	d := testDoc{Created: st.Created.UnixMilli(), Deadline: st.Deadline.UnixMilli(), Values: map[string]json.RawMessage{}}
	if st.Cookie.Expires != nil {
		d.Expires = st.Cookie.Expires.UnixMilli()
	}
	d.MaxAge = st.Cookie.OriginalMaxAge
	for k, v := range st.Values {
		if r, ok := v.(testRaw); ok {
			d.Values[k] = json.RawMessage(r)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		d.Values[k] = b
	}
	return json.Marshal(d)
}

func (testCodec) Decode(data []byte, st *State) error {
	var d testDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return errors.New("test codec: not a document")
	}
	st.Created, st.Deadline = time.UnixMilli(d.Created), time.UnixMilli(d.Deadline)
	if d.Created == 0 {
		st.Created = time.Time{}
	}
	if d.Deadline == 0 {
		st.Deadline = time.Time{}
	}
	st.Cookie.OriginalMaxAge = d.MaxAge
	st.Values = map[string]any{}
	for k, v := range d.Values {
		st.Values[k] = testRaw(v)
	}
	return nil
}

// clock is a settable clock for the Manager and the test store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingMetrics records events and store calls.
type countingMetrics struct {
	mu     sync.Mutex
	events map[Event]int64
	calls  map[Op]int
}

func (m *countingMetrics) StoreCall(op Op, _ time.Duration, _ error) {
	m.mu.Lock()
	m.calls[op]++
	m.mu.Unlock()
}

func (m *countingMetrics) SessionEvent(e Event, n int64) {
	m.mu.Lock()
	m.events[e] += n
	m.mu.Unlock()
}

func (m *countingMetrics) event(e Event) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.events[e]
}
