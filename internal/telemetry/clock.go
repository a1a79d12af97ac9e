package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Clock is a worker's clock offset from the leader's: the leader publishes
// its wall time every few seconds, and the worker compares it with its own
// at arrival (see pkg/worker). A worker that starts runs at their
// scheduled time by its own clock starts them early by the offset (late if
// it is negative).
type Clock struct {
	offset, bound *prometheus.GaugeVec
}

// NewClock registers the clock offset gauges on r, or shares those of
// another worker registered there already. They appear with the first
// measurement: until then no value is better than a made-up 0.
func NewClock(r prometheus.Registerer) *Clock {
	c := &Clock{
		offset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_worker_clock_offset_seconds",
			Help: "This worker's clock minus the leader's (positive: the worker is ahead and starts runs early), midpoint of the measured bounds."}, nil),
		bound: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_worker_clock_offset_error_seconds",
			Help: "Half the width of the bounds of pink_worker_clock_offset_seconds: the true offset is within this of it."}, nil),
	}
	c.offset, c.bound = shared(r, c.offset), shared(r, c.bound)
	return c
}

// Set records a measured offset and its error bound.
func (c *Clock) Set(offset, bound time.Duration) {
	c.offset.WithLabelValues().Set(offset.Seconds())
	c.bound.WithLabelValues().Set(bound.Seconds())
}
