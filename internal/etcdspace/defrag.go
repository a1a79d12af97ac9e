package etcdspace

import (
	"context"
	"time"
)

// DefaultDefragFree is how many free bytes the embedded etcd's database
// must hold, and at least half of its file, before it is defragmented:
// compaction frees pages inside the file, which etcd reuses but never
// returns to the disk; a defragmentation rewrites the file without them,
// and blocks the member meanwhile, so it is done only when it gives back
// a lot.
const DefaultDefragFree = 64 << 20

// ShouldDefrag reports whether an endpoint's database is worth
// defragmenting: at least minFree bytes and half of the file are free.
func ShouldDefrag(e Endpoint, minFree int64) bool {
	free := e.Size - e.InUse
	return e.Err == nil && minFree > 0 && free >= minFree && 2*free >= e.Size
}

// DefragEmbedded makes m defragment the endpoint url (pink dev's embedded
// etcd, which pink alone uses) after a status read finds it worth it.
// External clusters are left to their operators: a defragmentation blocks
// the member, and must be done one member at a time (docs/runbooks.md).
func (m *Monitor) DefragEmbedded(url string, minFree int64) {
	m.after = func(ctx context.Context, st Status) {
		for _, e := range st.Endpoints {
			if e.URL != url || !ShouldDefrag(e, minFree) {
				continue
			}
			m.defrag(ctx, e)
		}
	}
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
