package etcdspace

import (
	"context"
	"time"
)

// DefaultDefragFree is how many free bytes the embedded etcd's database
// must hold, and at least half of its file, before it is defragmented:
// compaction frees pages inside the file, which etcd reuses but never
// returns to the disk; a defragmentation rewrites the file without them,
// and blocks the member meanwhile (about 3 s per GiB here), so it is done
// only when it gives back a lot.
const DefaultDefragFree = 64 << 20

// DefragAfter is how long the free space must stay worth it before a
// defragmentation: under a steady load the database's use swings with
// each compaction and its free pages are soon used again, so
// defragmenting then would only block etcd (and cost the leader its
// session) for nothing; after a burst that is over, the space stays free.
const DefragAfter = 10 * time.Minute

// ShouldDefrag reports whether an endpoint's database is worth
// defragmenting: at least minFree bytes and half of the file are free.
func ShouldDefrag(e Endpoint, minFree int64) bool {
	free := e.Size - e.InUse
	return e.Err == nil && minFree > 0 && free >= minFree && 2*free >= e.Size
}

// defragger decides when the embedded etcd is defragmented: once
// ShouldDefrag has held at every status read for DefragAfter.
type defragger struct {
	url     string
	minFree int64
	after   time.Duration
	since   time.Time // first read of the current run of worthwhile reads
}

// due reports whether the read e at now calls for a defragmentation.
func (d *defragger) due(e Endpoint, now time.Time) bool {
	if !ShouldDefrag(e, d.minFree) {
		d.since = time.Time{}
		return false
	}
	if d.since.IsZero() {
		d.since = now
	}
	return now.Sub(d.since) >= d.after
}

// DefragEmbedded makes m defragment the endpoint url (pink dev's embedded
// etcd, which pink alone uses) once a run of status reads finds it worth it
// for DefragAfter. External clusters are left to their operators: a
// defragmentation blocks the member, and must be done one member at a time
// (docs/runbooks.md). Call it before Run.
func (m *Monitor) DefragEmbedded(url string, minFree int64) {
	d := &defragger{url: url, minFree: minFree, after: DefragAfter}
	m.OnStatus(func(ctx context.Context, st Status) {
		for _, e := range st.Endpoints {
			if e.URL == url && d.due(e, st.At) {
				m.defrag(ctx, e)
				d.since = time.Time{}
			}
		}
	})
}

func (m *Monitor) defrag(ctx context.Context, e Endpoint) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	_, err := m.cli.Defragment(ctx, e.URL)
	took := time.Since(start)
	m.metrics.Defragmented(took, err)
	if err != nil {
		m.log.Warn("defragmenting the embedded etcd failed; retrying after the next status read", "endpoint", e.URL, "err", err)
		return
	}
	after := m.readEndpoint(ctx, e.URL)
	m.log.Info("embedded etcd defragmented", "endpoint", e.URL, "took", took.Round(time.Millisecond),
		"before", mib(e.Size), "after", mib(after.Size), "in_use", mib(after.InUse))
}
