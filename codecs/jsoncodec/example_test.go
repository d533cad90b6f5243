package jsoncodec_test

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
)

func Example() {
	c := jsoncodec.New()

	// A record as express-session and connect-pg-simple store it.
	doc := []byte(`{"cookie":{"originalMaxAge":86400000,"expires":"2026-01-03T03:04:05.678Z","httpOnly":true,"path":"/"},"user":{"id":42,"name":"Ada"},"big":9007199254740993}`)

	var st session.State
	if err := c.Decode(doc, &st); err != nil {
		fmt.Println(err)
		return
	}
	var u struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if err := st.Values["user"].(session.Raw).DecodeTo(&u); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.ID, u.Name, st.Cookie.Expires.Format(time.RFC3339))

	// Change one value; the others are written back as they were read.
	st.Values["visits"] = 1
	st.Created = time.UnixMilli(1767323045678)
	out, err := c.Encode(&st)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// 42 Ada 2026-01-03T03:04:05Z
	// {"cookie":{"originalMaxAge":86400000,"expires":"2026-01-03T03:04:05.678Z","httpOnly":true,"path":"/"},"__sessionkit":{"created":1767323045678},"big":9007199254740993,"user":{"id":42,"name":"Ada"},"visits":1}
}
