package scheduler

import (
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// historyRowBytes bounds what one history row costs etcd: the run record
// (snapshot.MaxRunBytes), its key, and etcd's own bookkeeping of a key
// (512), plus its entry in the run index across jobs (256).
const historyRowBytes = snapshot.MaxRunBytes + 512 + 256

// DefaultHistoryMaxBytes is the default bound of all run history in etcd:
// a quarter of etcd's default 2 GiB quota, leaving the rest to the live
// state and to the revisions kept between compactions.
const DefaultHistoryMaxBytes = 512 << 20

// historyKeep is how many runs each job keeps so that the history of jobs
// jobs fits in budget bytes, at most limit (its history_limit, or the
// default), and at least one: keep rows of at most historyRowBytes for
// every job, plus the slack a job gathers between two trims, fit the
// budget (docs/architecture.md, "How big etcd gets"). slack is how many
// runs a job may gather beyond keep before it is trimmed again.
func historyKeep(budget int64, jobs, limit int) (keep, slack int) {
	perJob := budget / int64(max(jobs, 1)) / historyRowBytes
	keep = int(min(int64(limit), perJob*10/11))
	keep = max(keep, 1)
	return keep, max(1, (keep+9)/10)
}
