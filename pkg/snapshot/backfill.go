package snapshot

import "time"

// Backfill is a request to run a job's past fires. It is written in one
// transaction; the leader then turns it into snapshots (trigger backfill,
// ids from BackfillID) a chunk at a time (one at a time for jobs that
// forbid overlap), so a request of any size is all-or-nothing and survives
// leader changes.
type Backfill struct {
	ID    string      `json:"id"`
	Job   string      `json:"job"`
	Fires []time.Time `json:"fires"`
	// Next is the index of the first fire not yet turned into a snapshot.
	Next      int       `json:"next"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`

	ModRevision int64 `json:"-"`
}
