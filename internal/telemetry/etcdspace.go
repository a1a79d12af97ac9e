package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// EtcdAlarms are the alarms etcd raises, exported at 0 when clear so an
// alert can tell "no alarm" from "no data".
var EtcdAlarms = []string{"NOSPACE", "CORRUPT"}

// EtcdSpace is the metric set of etcd's space as a pink process sees it:
// each endpoint's database size, the part in use and the quota (from
// etcd's status API, so it works on any etcd), the cluster's alarms, and
// the maintenance pink does: compaction by the leader, defragmentation of
// pink dev's embedded etcd.
type EtcdSpace struct {
	dbSize, dbInUse, quota, up *prometheus.GaugeVec
	alarm                      *prometheus.GaugeVec
	compactions                *prometheus.CounterVec
	compactDuration            prometheus.Histogram
	compactedRev               prometheus.Gauge
	defrags                    *prometheus.CounterVec
	defragDuration             prometheus.Histogram
	historyKeep                prometheus.Gauge
	historyTrimmed             prometheus.Counter
}

// maintenanceBuckets are for compactions and defragmentations: milliseconds
// on a small database, seconds on a large one.
var maintenanceBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewEtcdSpace registers the etcd space metrics on r.
func NewEtcdSpace(r prometheus.Registerer) *EtcdSpace {
	ep := []string{"endpoint"}
	m := &EtcdSpace{
		dbSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pink_etcd_db_size_bytes",
			Help: "Size of the etcd member's database file, by endpoint (etcd status API)."}, ep),
		dbInUse: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pink_etcd_db_size_in_use_bytes",
			Help: "Bytes of the etcd member's database in use; the rest is free pages a defragmentation returns, by endpoint."}, ep),
		quota: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pink_etcd_db_quota_bytes",
			Help: "The etcd member's backend quota: past it etcd raises NOSPACE and refuses writes, by endpoint."}, ep),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pink_etcd_status_up",
			Help: "1 if the last status read of the endpoint succeeded, else 0."}, ep),
		alarm: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pink_etcd_alarm",
			Help: "1 while etcd has the alarm raised on any member (NOSPACE: writes are refused), else 0."}, []string{"alarm"}),
		compactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pink_etcd_compactions_total",
			Help: "Compactions of etcd's history by the leader, by result (ok, error)."}, []string{"result"}),
		compactDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pink_etcd_compaction_duration_seconds",
			Help: "Time etcd took to compact, as the leader saw it.", Buckets: maintenanceBuckets}),
		compactedRev: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pink_etcd_compacted_revision",
			Help: "The revision the leader last compacted etcd to."}),
		defrags: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pink_etcd_defrags_total",
			Help: "Defragmentations of pink dev's embedded etcd, by result (ok, error)."}, []string{"result"}),
		defragDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pink_etcd_defrag_duration_seconds",
			Help: "Time a defragmentation of the embedded etcd took; etcd serves nothing meanwhile.", Buckets: maintenanceBuckets}),
		historyKeep: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pink_history_runs_per_job",
			Help: "Runs each job keeps in etcd under --history-limit and --history-max-bytes (jobs may set a lower history_limit). Leader only."}),
		historyTrimmed: prometheus.NewCounter(prometheus.CounterOpts{Name: "pink_history_runs_deleted_total",
			Help: "History rows deleted by retention (count, age and byte bounds)."}),
	}
	m.dbSize, m.dbInUse, m.quota, m.up = shared(r, m.dbSize), shared(r, m.dbInUse), shared(r, m.quota), shared(r, m.up)
	m.alarm, m.compactions, m.compactedRev = shared(r, m.alarm), shared(r, m.compactions), shared(r, m.compactedRev)
	m.compactDuration, m.defrags, m.defragDuration = shared(r, m.compactDuration), shared(r, m.defrags), shared(r, m.defragDuration)
	m.historyKeep, m.historyTrimmed = shared(r, m.historyKeep), shared(r, m.historyTrimmed)
	for _, a := range EtcdAlarms {
		m.alarm.WithLabelValues(a)
	}
	for _, res := range []string{"ok", "error"} {
		m.compactions.WithLabelValues(res)
		m.defrags.WithLabelValues(res)
	}
	return m
}

// EndpointStatus records one endpoint's status read: its sizes, or, when
// ok is false, that it could not be read (the sizes keep their last value).
func (m *EtcdSpace) EndpointStatus(endpoint string, ok bool, size, inUse, quota int64) {
	if !ok {
		m.up.WithLabelValues(endpoint).Set(0)
		return
	}
	m.up.WithLabelValues(endpoint).Set(1)
	m.dbSize.WithLabelValues(endpoint).Set(float64(size))
	m.dbInUse.WithLabelValues(endpoint).Set(float64(inUse))
	m.quota.WithLabelValues(endpoint).Set(float64(quota))
}

// Alarms records which of EtcdAlarms are raised.
func (m *EtcdSpace) Alarms(raised map[string]bool) {
	for _, a := range EtcdAlarms {
		v := 0.0
		if raised[a] {
			v = 1
		}
		m.alarm.WithLabelValues(a).Set(v)
	}
}

// Compacted records a compaction to rev that took d, or failed.
func (m *EtcdSpace) Compacted(rev int64, d time.Duration, err error) {
	if err != nil {
		m.compactions.WithLabelValues("error").Inc()
		return
	}
	m.compactions.WithLabelValues("ok").Inc()
	m.compactDuration.Observe(d.Seconds())
	m.compactedRev.Set(float64(rev))
}

// Defragmented records a defragmentation that took d, or failed.
func (m *EtcdSpace) Defragmented(d time.Duration, err error) {
	if err != nil {
		m.defrags.WithLabelValues("error").Inc()
		return
	}
	m.defrags.WithLabelValues("ok").Inc()
	m.defragDuration.Observe(d.Seconds())
}

// HistoryKeep records the runs each job keeps.
func (m *EtcdSpace) HistoryKeep(runs int) { m.historyKeep.Set(float64(runs)) }

// HistoryTrimmed counts n history rows deleted.
func (m *EtcdSpace) HistoryTrimmed(n int) { m.historyTrimmed.Add(float64(n)) }
