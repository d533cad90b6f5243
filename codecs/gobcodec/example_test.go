package gobcodec_test

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/codecs/gobcodec"
	"github.com/sessionkit/sessionkit/session"
)

type Cart struct {
	Items   map[string]int
	Updated time.Time
}

func Example() {
	c := gobcodec.New()
	data, err := c.Encode(&session.State{
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Values: map[string]any{
			"cart": Cart{Items: map[string]int{"A-1": 2}, Updated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	var st session.State
	if err := c.Decode(data, &st); err != nil {
		fmt.Println(err)
		return
	}
	// The cart stays encoded until it is read with its type; Cart needs no
	// gobcodec.Register.
	var cart Cart
	if err := st.Values["cart"].(session.Raw).DecodeTo(&cart); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(data[0], cart.Items["A-1"], cart.Updated.Format(time.DateOnly), st.Created.Format(time.DateOnly))
	// Output: 1 2 2026-01-02 2026-01-02
}
