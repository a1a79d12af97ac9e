package telemetry

import "github.com/prometheus/client_golang/prometheus"

// EtcdEndpoints is the health of each etcd endpoint as a pink process's
// endpoint checker sees it (internal/etcdhealth): whether a linearizable
// read through that member alone answered in time.
type EtcdEndpoints struct {
	healthy *prometheus.GaugeVec
}

// NewEtcdEndpoints registers the endpoint health metrics on r.
func NewEtcdEndpoints(r prometheus.Registerer) *EtcdEndpoints {
	m := &EtcdEndpoints{healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pink_etcd_endpoint_healthy",
		Help: "1 if the last probe of the etcd endpoint (a linearizable read through it alone) answered within a second, else 0; pink sends its requests only to healthy endpoints."},
		[]string{"endpoint"})}
	r.MustRegister(m.healthy)
	return m
}

// SetHealthy records the last probe of endpoint.
func (m *EtcdEndpoints) SetHealthy(endpoint string, healthy bool) {
	v := 0.0
	if healthy {
		v = 1
	}
	m.healthy.WithLabelValues(endpoint).Set(v)
}
