package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Snapshots lists every live snapshot (pending ones first), of one group
// and/or job if given, reading all pages; LiveSnapshots also says why a
// pending one waits.
func (c *Client) Snapshots(ctx context.Context, group, jobName string) ([]snapshot.Snapshot, error) {
	live, err := c.LiveSnapshots(ctx, group, jobName)
	out := make([]snapshot.Snapshot, len(live))
	for i := range live {
		out[i] = live[i].Snapshot
	}
	return out, err
}

// Snapshot is a live snapshot as the API returns it.
type Snapshot struct {
	snapshot.Snapshot
	// PendingReason says why a pending snapshot waits when no live worker
	// would take it: `no live worker in group "g"`, or `no live worker of
	// group "g" runs target "shel"`. "" otherwise.
	PendingReason string `json:"pending_reason,omitempty"`
}

// LiveSnapshots is Snapshots with each pending snapshot's reason.
func (c *Client) LiveSnapshots(ctx context.Context, group, jobName string) ([]Snapshot, error) {
	views, err := listAll[snapshotView](ctx, c, "/api/v1/snapshots", snapshotQuery(group, jobName), "snapshots")
	out := make([]Snapshot, len(views))
	for i, v := range views {
		out[i] = Snapshot{Snapshot: v.Snapshot, PendingReason: v.PendingReason}
		if v.Timeout != 0 || v.RetryBackoff != 0 { // else an older server's timeout_ns
			out[i].Timeout, out[i].RetryBackoff = v.Timeout.Std(), v.RetryBackoff.Std()
		}
	}
	return out, err
}

func snapshotQuery(group, jobName string) url.Values {
	q := url.Values{}
	if group != "" {
		q.Set("group", group)
	}
	if jobName != "" {
		q.Set("job", jobName)
	}
	return q
}

// snapshotView is a snapshot as the API writes it: its durations as Go
// strings (timeout, retry_backoff, with _seconds twins), where etcd's
// record has nanoseconds (timeout_ns, retry_backoff_ns).
type snapshotView struct {
	snapshot.Snapshot
	Timeout       job.Duration `json:"timeout"`
	RetryBackoff  job.Duration `json:"retry_backoff"`
	PendingReason string       `json:"pending_reason"`
}

// Triggered is the answer of a trigger: the one snapshot it made
// (SnapshotID), or the snapshots of a fire that made several, one per
// shard or per worker of a broadcast (SnapshotIDs); one of the two is set.
type Triggered struct {
	SnapshotID  string   `json:"snapshot_id,omitempty"`
	SnapshotIDs []string `json:"snapshot_ids,omitempty"`
	Job         string   `json:"job"`
	State       string   `json:"state"`
}

// IDs are the ids of every snapshot the trigger made.
func (t Triggered) IDs() []string {
	if t.SnapshotID != "" {
		return []string{t.SnapshotID}
	}
	return t.SnapshotIDs
}

// Trigger runs a job now; with force even if its concurrency is forbid and
// a run of it is live.
func (c *Client) Trigger(ctx context.Context, name string, force bool, reason string) (Triggered, error) {
	path := "/api/v1/jobs/" + url.PathEscape(name) + "/trigger"
	if force {
		path += "?force=true"
	}
	var out Triggered
	err := c.Do(ctx, http.MethodPost, path, nil, &out, reasonHeader(reason))
	return out, err
}
