package redisstore_test

import (
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// New takes the application's own go-redis client: a single node, a
// Sentinel failover client or a Cluster client alike. The store does not
// close it.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()

	store, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	m, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// Hand m to middleware.New; sessions land under sess:<id>, where
	// connect-redis looks for them.
}
