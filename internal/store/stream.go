package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Kinds of StreamEvent.
const (
	StreamJob      = "job"
	StreamSnapshot = "snapshot"
	StreamRun      = "run"
	StreamClient   = "client"
	StreamNode     = "node"
	StreamLeader   = "leader"
)

// StreamKinds are the kinds a stream may be filtered to.
var StreamKinds = []string{StreamJob, StreamSnapshot, StreamRun, StreamClient, StreamNode, StreamLeader}

// StreamEvent is one change that people watch, as the API streams it. It
// identifies the record and its state and holds nothing a viewer may not
// read (no params, outputs or errors): a console reads the record through
// the API, which masks what it must.
type StreamEvent struct {
	// Revision is the etcd revision of the change and Seq its place among
	// the changes of that revision (one transaction writes several); a
	// stream resumes after a StreamPosition.
	Revision int64  `json:"revision"`
	Seq      int    `json:"seq"`
	Kind     string `json:"type"`
	// Action is "put" (created or changed) or "delete".
	Action string `json:"action"`
	Job    string `json:"job,omitempty"`
	Group  string `json:"group,omitempty"`
	// ID is the snapshot's, run's, client's or node's id.
	ID     string          `json:"id,omitempty"`
	State  snapshot.State  `json:"state,omitempty"`
	Status snapshot.Status `json:"status,omitempty"`
	// Client is the client a snapshot is assigned to.
	Client string `json:"client,omitempty"`
}

// CompactedError says that a stream asked for revisions etcd has
// compacted: the caller reads the state again (the API sends a reset).
type CompactedError struct{ Revision int64 }

func (e *CompactedError) Error() string {
	return fmt.Sprintf("etcd compacted its history up to revision %d", e.Revision)
}

// ErrStreamClosed is returned by Stream when etcd ended the watch (a
// restart, a lost leader): the caller resumes after the last revision it
// saw.
var ErrStreamClosed = errors.New("etcd ended the watch")

// StreamPosition is a point of the stream: after the change Seq of
// revision Rev. Seq -1 is before every change of Rev; a position with a
// large Seq (AfterRevision) is after all of them.
type StreamPosition struct {
	Rev int64
	Seq int
}

// AfterRevision is the position after every change of revision rev.
func AfterRevision(rev int64) StreamPosition { return StreamPosition{Rev: rev, Seq: 1 << 30} }

// CurrentRevision is etcd's revision now: a stream from AfterRevision of
// it has every change made after the call.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.c.Get(ctx, s.k.root+"/node/cron-rules", clientv3.WithCountOnly())
	if err != nil {
		return 0, wrap("read etcd's revision", err)
	}
	return resp.Header.Revision, nil
}

// Stream calls fn with every change after position after, in order, until
// ctx ends (nil) or fn returns an error (that error). It returns a
// *CompactedError when etcd no longer has the revisions asked for.
func (s *Store) Stream(ctx context.Context, after StreamPosition, fn func(StreamEvent) error) error {
	for {
		err := s.streamFrom(ctx, &after, fn)
		if !errors.Is(err, errRewatch) {
			return err
		}
	}
}

// streamFrom is one watch of Stream; it moves after past each change it
// delivers, so that a watch reopened when etcd's endpoints change goes on
// from there.
func (s *Store) streamFrom(ctx context.Context, after *StreamPosition, fn func(StreamEvent) error) error {
	// Watch from after's revision, skipping the changes of it already
	// seen: the changes of one revision arrive together, in one order.
	rev, seq := int64(0), 0
	// Revision 0 would mean "from now" to etcd: from the start, then.
	w := s.openWatch(ctx, s.k.root+"/", clientv3.WithPrefix(), clientv3.WithRev(max(after.Rev, 1)))
	defer w.close()
	for {
		resp, err := w.next()
		switch {
		case errors.Is(err, errWatchClosed) && ctx.Err() != nil:
			return nil
		case errors.Is(err, errWatchClosed):
			return ErrStreamClosed
		case err != nil:
			return err
		}
		if resp.CompactRevision != 0 {
			return &CompactedError{Revision: resp.CompactRevision}
		}
		if err := resp.Err(); err != nil {
			return wrap("watch for the event stream", err)
		}
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision != rev {
				rev, seq = ev.Kv.ModRevision, 0
			} else {
				seq++
			}
			if rev < after.Rev || (rev == after.Rev && seq <= after.Seq) {
				continue
			}
			*after = StreamPosition{Rev: rev, Seq: seq}
			if e, ok := s.streamEvent(ev); ok {
				e.Seq = seq
				if err := fn(e); err != nil {
					return err
				}
			}
		}
	}
}

// streamEvent turns an etcd event under the root into a StreamEvent, if
// its key is one people watch.
func (s *Store) streamEvent(ev *clientv3.Event) (StreamEvent, bool) {
	key := string(ev.Kv.Key)
	e := StreamEvent{Revision: ev.Kv.ModRevision, Action: "put"}
	if ev.Type == mvccpb.DELETE {
		e.Action = "delete"
	}
	put := ev.Type == mvccpb.PUT
	switch {
	case strings.HasPrefix(key, s.k.jobPrefix()):
		e.Kind, e.Job = StreamJob, strings.TrimPrefix(key, s.k.jobPrefix())
		if put {
			var spec struct {
				Group string `json:"group"`
			}
			_ = json.Unmarshal(ev.Kv.Value, &spec)
			e.Group = spec.Group
		}
	case strings.HasPrefix(key, s.k.pendingPrefix()):
		e.Kind, e.ID = StreamSnapshot, strings.TrimPrefix(key, s.k.pendingPrefix())
		e.Job, _ = snapshot.JobOf(e.ID)
		if put {
			s.snapshotState(&e, ev.Kv.Value)
		}
	case strings.HasPrefix(key, s.k.assignPrefix()):
		group, client, id, ok := s.k.parseAssign(key)
		if !ok {
			return e, false
		}
		e.Kind, e.Group, e.Client, e.ID = StreamSnapshot, group, client, id
		e.Job, _ = snapshot.JobOf(id)
		if put {
			s.snapshotState(&e, ev.Kv.Value)
		}
	case strings.HasPrefix(key, s.k.runIndexPrefix()):
		if !put {
			return e, false // a trim: history only forgets
		}
		var entry indexEntry
		_ = json.Unmarshal(ev.Kv.Value, &entry)
		e.Kind, e.ID, e.Group, e.Status = StreamRun, lastSegment(key), entry.Group, entry.Status
		e.Job, _ = snapshot.JobOf(e.ID)
	case strings.HasPrefix(key, s.k.clientsPrefix()):
		group, id, ok := s.k.parseClient(key)
		if !ok {
			return e, false
		}
		e.Kind, e.Group, e.ID = StreamClient, group, id
	case strings.HasPrefix(key, s.k.nodePrefix()):
		e.Kind, e.ID = StreamNode, strings.TrimPrefix(key, s.k.nodePrefix())
	case strings.HasPrefix(key, s.k.electionPrefix()+"/"):
		e.Kind = StreamLeader
	default:
		return e, false
	}
	return e, true
}

// snapshotState fills a snapshot event's group, state and client from its
// stored record.
func (s *Store) snapshotState(e *StreamEvent, v []byte) {
	var snap struct {
		Group  string         `json:"group"`
		State  snapshot.State `json:"state"`
		Client string         `json:"client"`
	}
	if json.Unmarshal(v, &snap) == nil {
		e.Group, e.State = snap.Group, snap.State
		if snap.Client != "" {
			e.Client = snap.Client
		}
	}
}
