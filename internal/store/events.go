package store

import (
	"context"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// JobEvent is a job that was created or changed (Spec set) or deleted (nil).
// Err reports a stored value that could not be decoded; Spec is nil then.
type JobEvent struct {
	Name string
	Spec *job.Spec
	Err  error
}

// MirrorJobs mirrors all job specs (see Mirror).
func (s *Store) MirrorJobs(ctx context.Context, fn func([]JobEvent, bool)) error {
	return s.Mirror(ctx, s.k.jobPrefix(), func(raw []RawEvent, synced bool) {
		out := make([]JobEvent, 0, len(raw))
		for _, ev := range raw {
			je := JobEvent{Name: lastSegment(ev.Key)}
			if !ev.Deleted {
				spec, err := DecodeJob(ev.Key, ev.Value, ev.ModRevision)
				if err != nil {
					je.Err = err
				} else {
					je.Spec = &spec
				}
			}
			out = append(out, je)
		}
		fn(out, synced)
	})
}

// CursorEvent is a job's schedule cursor that moved, or was deleted with its
// job.
type CursorEvent struct {
	Job    string
	Cursor time.Time
	// Counts are the leader's counts that ride in the cursor.
	Counts  counts.Job
	Deleted bool
	Err     error
}

// MirrorCursors mirrors all schedule cursors.
func (s *Store) MirrorCursors(ctx context.Context, fn func([]CursorEvent, bool)) error {
	return s.Mirror(ctx, s.k.cursorPrefix(), func(raw []RawEvent, synced bool) {
		out := make([]CursorEvent, 0, len(raw))
		for _, ev := range raw {
			ce := CursorEvent{Job: lastSegment(ev.Key), Deleted: ev.Deleted}
			if !ev.Deleted {
				ce.Cursor, ce.Counts, ce.Err = cursor.Parse(string(ev.Value))
			}
			out = append(out, ce)
		}
		fn(out, synced)
	})
}

// ClientEvent is a client that registered (Client set) or whose lease ended
// (nil).
type ClientEvent struct {
	Group  string
	ID     string
	Client *cluster.Client
	Err    error
}

// MirrorClients mirrors the client registrations of every group.
func (s *Store) MirrorClients(ctx context.Context, fn func([]ClientEvent, bool)) error {
	return s.Mirror(ctx, s.k.clientsPrefix(), func(raw []RawEvent, synced bool) {
		out := make([]ClientEvent, 0, len(raw))
		for _, ev := range raw {
			group, id, ok := s.k.parseClient(ev.Key)
			if !ok {
				continue
			}
			ce := ClientEvent{Group: group, ID: id}
			if !ev.Deleted {
				c, err := DecodeClient(ev.Key, ev.Value, ev.CreateRevision)
				if err != nil {
					ce.Err = err
				} else {
					ce.Client = &c
				}
			}
			out = append(out, ce)
		}
		fn(out, synced)
	})
}

// SnapshotEvent is a live snapshot that appeared or changed (Snap set) or
// left its key (nil): dispatched, finished, canceled or moved. Pending tells
// which stage the key belongs to; Group and Client are set for assignments.
type SnapshotEvent struct {
	ID      string
	Pending bool
	Group   string
	Client  string
	Snap    *snapshot.Live
	// ModRevision is the revision of the change (of the deletion for a
	// delete), so a receiver can drop events older than what it knows.
	ModRevision int64
	Err         error
}

func (s *Store) snapshotEvents(raw []RawEvent, pending bool) []SnapshotEvent {
	out := make([]SnapshotEvent, 0, len(raw))
	for _, ev := range raw {
		se := SnapshotEvent{Pending: pending, ModRevision: ev.ModRevision}
		if pending {
			se.ID = lastSegment(ev.Key)
		} else {
			g, c, id, ok := s.k.parseAssign(ev.Key)
			if !ok {
				continue
			}
			se.Group, se.Client, se.ID = g, c, id
		}
		if !ev.Deleted {
			snap, err := DecodeSnapshot(ev.Key, ev.Value)
			if err != nil {
				se.Err = err
			} else {
				se.Snap = &snapshot.Live{Snapshot: snap, ModRevision: ev.ModRevision}
			}
		}
		out = append(out, se)
	}
	return out
}

// MirrorPending mirrors the snapshots waiting for a client.
func (s *Store) MirrorPending(ctx context.Context, fn func([]SnapshotEvent, bool)) error {
	return s.Mirror(ctx, s.k.pendingPrefix(), func(raw []RawEvent, synced bool) {
		fn(s.snapshotEvents(raw, true), synced)
	})
}

// MirrorAssigned mirrors the snapshots assigned to clients of every group.
func (s *Store) MirrorAssigned(ctx context.Context, fn func([]SnapshotEvent, bool)) error {
	return s.Mirror(ctx, s.k.assignPrefix(), func(raw []RawEvent, synced bool) {
		fn(s.snapshotEvents(raw, false), synced)
	})
}

// MirrorClientAssignments mirrors the snapshots assigned to one client: a
// worker's inbox.
func (s *Store) MirrorClientAssignments(ctx context.Context, group, clientID string, fn func([]SnapshotEvent, bool)) error {
	return s.Mirror(ctx, s.k.assignClientPrefix(group, clientID), func(raw []RawEvent, synced bool) {
		fn(s.snapshotEvents(raw, false), synced)
	})
}
