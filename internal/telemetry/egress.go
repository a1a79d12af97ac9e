package telemetry

import "github.com/prometheus/client_golang/prometheus"

// EgressRuleKinds are the kinds of rule a denied http call is counted by.
var EgressRuleKinds = []string{"protected", "deny_list", "link_local", "loopback", "not_allowed"}

// Egress counts the http target's calls that the worker's egress policy
// refused.
type Egress struct {
	denied *prometheus.CounterVec
}

// NewEgress registers the egress metrics on r.
func NewEgress(r prometheus.Registerer) *Egress {
	e := &Egress{denied: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pink_http_egress_denied_total",
		Help: "Runs of the http target refused by the worker's egress policy, by group and kind of rule.",
	}, []string{"group", "rule"})}
	e.denied = shared(r, e.denied)
	return e
}

// AddGroup creates a group's series at 0.
func (e *Egress) AddGroup(group string) {
	for _, k := range EgressRuleKinds {
		e.denied.WithLabelValues(group, k)
	}
}

// Denied counts one refused run of group by the rule of kind.
func (e *Egress) Denied(group, kind string) { e.denied.WithLabelValues(group, kind).Inc() }
