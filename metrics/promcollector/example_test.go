package promcollector_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/metrics/promcollector"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// The collector is the Manager's Metrics and is registered with Prometheus;
// /metrics then reports the store calls, the session events and, cached
// for 30 seconds, the live session count.
func Example() {
	st := memstore.New()
	defer st.Close()
	c, err := promcollector.New(promcollector.Config{Backend: "memory", Store: st})
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mgr, err := session.New(session.Config{Store: st, Codec: jsoncodec.New(), Metrics: c})
	if err != nil {
		log.Fatal(err)
	}
	_ = mgr // give it to middleware.New

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
