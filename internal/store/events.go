package store

import (
	"context"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The typed mirrors: each follows one prefix with Mirror and hands its
// receiver decoded events. An event whose value does not decode carries Err
// (and no value) instead of stopping the mirror.

// mirrorAs is Mirror with every raw event turned into an E by conv; conv
// reports false for a key that is not one of the prefix's records.
func mirrorAs[E any](ctx context.Context, s *Store, prefix string, fn func([]E, bool), conv func(RawEvent) (E, bool)) error {
	return s.Mirror(ctx, prefix, func(raw []RawEvent, synced bool) {
		out := make([]E, 0, len(raw))
		for _, ev := range raw {
			if e, ok := conv(ev); ok {
				out = append(out, e)
			}
		}
		fn(out, synced)
	})
}

// decodeEvent decodes a put event's JSON value into a new T; nil for a
// delete.
func decodeEvent[T any](ev RawEvent) (*T, error) {
	if ev.Deleted {
		return nil, nil
	}
	v := new(T)
	if err := decode(ev.Key, ev.Value, v); err != nil {
		return nil, err
	}
	return v, nil
}

// JobEvent is a job that was created or changed (Spec set) or deleted (nil).
// Err reports a stored value that could not be decoded; Spec is nil then.
type JobEvent struct {
	Name string
	Spec *job.Spec
	Err  error
}

// MirrorJobs mirrors all job specs (see Mirror).
func (s *Store) MirrorJobs(ctx context.Context, fn func([]JobEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.jobPrefix(), fn, func(ev RawEvent) (JobEvent, bool) {
		je := JobEvent{Name: lastSegment(ev.Key)}
		if !ev.Deleted {
			spec, err := DecodeJob(ev.Key, ev.Value, ev.ModRevision)
			if err != nil {
				je.Err = err
			} else {
				je.Spec = &spec
			}
		}
		return je, true
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
	// Revision is the cursor key's mod revision (0 for a delete found by a
	// re-list).
	Revision int64
	Err      error
}

// MirrorCursors mirrors all schedule cursors.
func (s *Store) MirrorCursors(ctx context.Context, fn func([]CursorEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.cursorPrefix(), fn, func(ev RawEvent) (CursorEvent, bool) {
		ce := CursorEvent{Job: lastSegment(ev.Key), Deleted: ev.Deleted, Revision: ev.ModRevision}
		if !ev.Deleted {
			ce.Cursor, ce.Counts, ce.Err = cursor.Parse(string(ev.Value))
		}
		return ce, true
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
	return mirrorAs(ctx, s, s.k.clientsPrefix(), fn, func(ev RawEvent) (ClientEvent, bool) {
		group, id, ok := s.k.parseClient(ev.Key)
		if !ok {
			return ClientEvent{}, false
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
		return ce, true
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

// snapshotEvent converts an event of the pending or the assigned prefix.
func (s *Store) snapshotEvent(ev RawEvent, pending bool) (SnapshotEvent, bool) {
	se := SnapshotEvent{Pending: pending, ModRevision: ev.ModRevision}
	if pending {
		se.ID = lastSegment(ev.Key)
	} else {
		g, c, id, ok := s.k.parseAssign(ev.Key)
		if !ok {
			return se, false
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
	return se, true
}

func (s *Store) pendingEvent(ev RawEvent) (SnapshotEvent, bool)  { return s.snapshotEvent(ev, true) }
func (s *Store) assignedEvent(ev RawEvent) (SnapshotEvent, bool) { return s.snapshotEvent(ev, false) }

// MirrorPending mirrors the snapshots waiting for a client.
func (s *Store) MirrorPending(ctx context.Context, fn func([]SnapshotEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.pendingPrefix(), fn, s.pendingEvent)
}

// MirrorAssigned mirrors the snapshots assigned to clients of every group.
func (s *Store) MirrorAssigned(ctx context.Context, fn func([]SnapshotEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.assignPrefix(), fn, s.assignedEvent)
}

// MirrorClientAssignments mirrors the snapshots assigned to one client: a
// worker's inbox.
func (s *Store) MirrorClientAssignments(ctx context.Context, group, clientID string, fn func([]SnapshotEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.assignClientPrefix(group, clientID), fn, s.assignedEvent)
}

// FireEvent is a sharded fire that was recorded (Fire set) or summarized
// (nil).
type FireEvent struct {
	Job  string
	ID   string
	Fire *snapshot.ShardedFire
	Err  error
}

// MirrorFires mirrors the records of sharded fires.
func (s *Store) MirrorFires(ctx context.Context, fn func([]FireEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.firePrefix(), fn, func(ev RawEvent) (FireEvent, bool) {
		fe := FireEvent{ID: lastSegment(ev.Key)}
		fe.Fire, fe.Err = decodeEvent[snapshot.ShardedFire](ev)
		if fe.Fire != nil {
			fe.Job = fe.Fire.Job
		}
		return fe, true
	})
}

// BackfillEvent is a backfill request that appeared or progressed (set) or
// finished (nil).
type BackfillEvent struct {
	ID       string
	Backfill *snapshot.Backfill
	Err      error
}

// MirrorBackfills mirrors the backfill requests.
func (s *Store) MirrorBackfills(ctx context.Context, fn func([]BackfillEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.backfillPrefix(), fn, func(ev RawEvent) (BackfillEvent, bool) {
		be := BackfillEvent{ID: lastSegment(ev.Key)}
		be.Backfill, be.Err = decodeEvent[snapshot.Backfill](ev)
		if be.Backfill != nil {
			be.Backfill.ModRevision = ev.ModRevision
		}
		return be, true
	})
}

// LastEvent is a change of a job's last-success or last-failure time; a
// deleted job gives an event with Deleted set.
type LastEvent struct {
	Job     string
	Outcome string // "success" or "failure"
	At      time.Time
	Deleted bool
	Err     error
}

// MirrorJobLast mirrors every job's last-success and last-failure times.
func (s *Store) MirrorJobLast(ctx context.Context, fn func([]LastEvent, bool)) error {
	prefix := s.k.lastPrefix()
	return mirrorAs(ctx, s, prefix, fn, func(ev RawEvent) (LastEvent, bool) {
		job, outcome, ok := strings.Cut(strings.TrimPrefix(ev.Key, prefix), "/")
		if !ok {
			return LastEvent{}, false
		}
		le := LastEvent{Job: job, Outcome: outcome, Deleted: ev.Deleted}
		if !ev.Deleted {
			le.At, le.Err = cursor.ParseStamp(string(ev.Value))
		}
		return le, true
	})
}

// CountsEvent is a job's or a group's counters key that changed (Job or
// Group counts set) or was deleted with its job or group.
type CountsEvent struct {
	// Job or Group names whose counts these are; one is empty.
	Job, Group  string
	JobCounts   counts.Job
	Counts      counts.Group
	ModRevision int64
	Deleted     bool
	Err         error
}

// MirrorCounts mirrors the counters keys of all jobs and groups.
func (s *Store) MirrorCounts(ctx context.Context, fn func([]CountsEvent, bool)) error {
	prefix := s.k.countersPrefix()
	return mirrorAs(ctx, s, prefix, fn, func(ev RawEvent) (CountsEvent, bool) {
		kind, name, ok := strings.Cut(strings.TrimPrefix(ev.Key, prefix), "/")
		ce := CountsEvent{ModRevision: ev.ModRevision, Deleted: ev.Deleted}
		switch {
		case ok && kind == "job":
			ce.Job = name
			if !ev.Deleted {
				ce.Err = decode(ev.Key, ev.Value, &ce.JobCounts)
			}
		case ok && kind == "group":
			ce.Group = name
			if !ev.Deleted {
				ce.Err = decode(ev.Key, ev.Value, &ce.Counts)
			}
		default:
			return ce, false
		}
		return ce, true
	})
}

// GroupEvent is a group that was created or changed, or deleted.
type GroupEvent struct {
	Name    string
	Deleted bool
}

// MirrorGroups mirrors the group keys (see Mirror).
func (s *Store) MirrorGroups(ctx context.Context, fn func([]GroupEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.groupPrefix(), fn, func(ev RawEvent) (GroupEvent, bool) {
		return GroupEvent{Name: lastSegment(ev.Key), Deleted: ev.Deleted}, true
	})
}

// GroupJobEvent is a job that joined a group (created in it, or moved to it)
// or left it (deleted, or moved away).
type GroupJobEvent struct {
	Job     string
	Deleted bool
}

// MirrorGroupJobs mirrors the names of the jobs of one group (the
// group/jobs/ index): a worker follows the jobs it may run.
func (s *Store) MirrorGroupJobs(ctx context.Context, group string, fn func([]GroupJobEvent, bool)) error {
	return mirrorAs(ctx, s, s.k.groupJobs(group), fn, func(ev RawEvent) (GroupJobEvent, bool) {
		return GroupJobEvent{Job: lastSegment(ev.Key), Deleted: ev.Deleted}, true
	})
}
