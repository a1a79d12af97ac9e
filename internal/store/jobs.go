package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// CreateJob stores a new job and its schedule cursor (set to the creation
// time: fires before the job existed are not missed fires). It fails with
// ErrExists or ErrGroupNotFound and then writes nothing. The returned spec
// carries its revision.
func (s *Store) CreateJob(ctx context.Context, spec job.Spec) (out job.Spec, err error) {
	defer s.track("job_create", time.Now(), &err)
	key, gkey := s.k.job(spec.Name), s.k.group(spec.Group)
	spec.Revision = 0
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(gkey), ">", 0)).
		Then(append(s.createJobOps(spec), s.auditOps(ctx, nil)...)...).
		Else(clientv3.OpGet(gkey, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return out, wrap("create job", err)
	}
	if !resp.Succeeded {
		if resp.Responses[0].GetResponseRange().Count == 0 {
			return out, ErrGroupNotFound
		}
		return out, ErrExists
	}
	spec.Revision = resp.Header.Revision
	return spec, nil
}

// createJobOps are the writes that create a job (Revision zero): its spec,
// its schedule cursor at its creation time (fires before the job existed
// are not missed fires), its entry in its group's index and, for a forbid
// job, its switch mark (runs of an earlier job of the same name may still
// be live without active entries; see active.go).
func (s *Store) createJobOps(spec job.Spec) []clientv3.Op {
	return append([]clientv3.Op{clientv3.OpPut(s.k.job(spec.Name), encode(spec)),
		clientv3.OpPut(s.k.cursor(spec.Name), cursor.Stamp(spec.CreatedAt)),
		clientv3.OpPut(s.k.groupJob(spec.Group, spec.Name), "")}, s.switchOps(spec)...)
}

// UpdateJob replaces a job whose stored group is prevGroup. With expectRev >
// 0 the stored revision must match (ErrRevisionMismatch otherwise).
// advanceCursor moves the schedule cursor to at least that time, so a
// changed schedule or a resume does not make up fires from before the
// change.
func (s *Store) UpdateJob(ctx context.Context, spec job.Spec, prevGroup string, expectRev int64, advanceCursor time.Time) (out job.Spec, err error) {
	defer s.track("job_update", time.Now(), &err)
	for range 5 {
		out, err = s.updateJob(ctx, spec, prevGroup, expectRev, advanceCursor)
		if !errors.Is(err, errCursorMoved) {
			return out, err
		}
	}
	return out, ErrConflict
}

// updateJob is one attempt of UpdateJob; errCursorMoved if the leader moved
// the cursor between its read and the transaction.
func (s *Store) updateJob(ctx context.Context, spec job.Spec, prevGroup string, expectRev int64, advanceCursor time.Time) (out job.Spec, err error) {
	key, gkey := s.k.job(spec.Name), s.k.group(spec.Group)
	cmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.CreateRevision(key), ">", 0),
		clientv3.Compare(clientv3.CreateRevision(gkey), ">", 0),
	}
	if expectRev > 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", expectRev))
	}
	spec.Revision = 0
	// A forbid job's write raises its switch mark: it may have been allow
	// or replace until now (see active.go).
	then := append([]clientv3.Op{clientv3.OpPut(key, encode(spec)), s.bumpJobs()}, s.switchOps(spec)...)
	if prevGroup != spec.Group {
		then = append(then, clientv3.OpDelete(s.k.groupJob(prevGroup, spec.Name)), clientv3.OpPut(s.k.groupJob(spec.Group, spec.Name), ""))
	}
	elseOps := []clientv3.Op{clientv3.OpGet(key, clientv3.WithKeysOnly()), clientv3.OpGet(gkey, clientv3.WithCountOnly())}
	var curRev int64
	if !advanceCursor.IsZero() {
		// The cursor carries the leader's counts: the advance keeps them.
		cmp, rev, ops, err := s.cursorAdvance(ctx, spec.Name, advanceCursor)
		if err != nil {
			return out, err
		}
		curRev = rev
		cmps = append(cmps, cmp)
		then = append(then, ops...)
		elseOps = append(elseOps, clientv3.OpGet(s.k.cursor(spec.Name), clientv3.WithKeysOnly()))
	}
	then = append(then, s.auditOps(ctx, nil)...)
	resp, err := s.c.Txn(ctx).If(cmps...).
		Then(then...).
		Else(elseOps...).
		Commit()
	if err != nil {
		return out, wrap("update job", err)
	}
	if !resp.Succeeded {
		switch {
		case len(resp.Responses[0].GetResponseRange().Kvs) == 0:
			return out, ErrNotFound
		case resp.Responses[1].GetResponseRange().Count == 0:
			return out, ErrGroupNotFound
		case !advanceCursor.IsZero() && cursorMoved((*clientv3.GetResponse)(resp.Responses[2].GetResponseRange()), curRev):
			return out, errCursorMoved
		default:
			return out, ErrRevisionMismatch
		}
	}
	spec.Revision = resp.Header.Revision
	return spec, nil
}

// GetJob reads one job; ErrNotFound if it does not exist.
func (s *Store) GetJob(ctx context.Context, name string) (spec job.Spec, err error) {
	defer s.track("job_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.job(name))
	if err != nil {
		return spec, wrap("get job", err)
	}
	if len(resp.Kvs) == 0 {
		return spec, ErrNotFound
	}
	return DecodeJob(name, resp.Kvs[0].Value, resp.Kvs[0].ModRevision)
}

// DecodeJob decodes a stored job value and sets its revision.
func DecodeJob(key string, v []byte, modRev int64) (job.Spec, error) {
	var spec job.Spec
	if err := decode(key, v, &spec); err != nil {
		return spec, err
	}
	spec.Revision = modRev
	return spec, nil
}

// ListJobs returns all jobs, or those of one group, ordered by name.
func (s *Store) ListJobs(ctx context.Context, group string) (specs []job.Spec, err error) {
	defer s.track("job_list", time.Now(), &err)
	_, err = s.listPrefix(ctx, s.k.jobPrefix(), func(key string, v []byte, modRev, _ int64) error {
		spec, err := DecodeJob(key, v, modRev)
		if err != nil {
			return err
		}
		if group == "" || spec.Group == group {
			specs = append(specs, spec)
		}
		return nil
	})
	return specs, wrap("list jobs", err)
}

// DeleteJob removes a job, its cursor and its pending snapshots (recorded
// as canceled) in one transaction. Runs already assigned to clients finish
// and are kept in history.
func (s *Store) DeleteJob(ctx context.Context, name string, now time.Time) (err error) {
	defer s.track("job_delete", time.Now(), &err)
	key, pprefix := s.k.job(name), s.k.pendingOfJob(name)
	for range 5 {
		spec, err := s.GetJob(ctx, name)
		if err != nil {
			return err
		}
		var pending []snapshot.Live
		rev, err := s.listPrefix(ctx, pprefix, func(k string, v []byte, modRev, _ int64) error {
			snap, err := DecodeSnapshot(k, v)
			pending = append(pending, snapshot.Live{Snapshot: snap, ModRevision: modRev})
			return err
		})
		if err != nil {
			return wrap("delete job", err)
		}
		// The transaction deletes exactly the pending snapshots read above:
		// each unchanged, and none created since.
		t := &txn{}
		t.when(clientv3.Compare(clientv3.ModRevision(key), "=", spec.Revision),
			clientv3.Compare(clientv3.CreateRevision(pprefix), "<", rev+1).WithPrefix())
		jobRead := t.orRead(clientv3.OpGet(key, clientv3.WithCountOnly()))
		t.then(clientv3.OpDelete(key), s.bumpJobs(), clientv3.OpDelete(s.k.cursor(name)), clientv3.OpDelete(s.k.jobCounters(name)),
			clientv3.OpDelete(s.k.lastOfJob(name), clientv3.WithPrefix()), clientv3.OpDelete(s.k.groupJob(spec.Group, name)),
			clientv3.OpDelete(s.k.activeSwitch(name)))
		t.then(s.auditOps(ctx, nil)...)
		for _, l := range pending {
			s.cancel(t, l, "the job was deleted", now)
		}
		resp, err := t.commit(ctx, s)
		if err != nil {
			return wrap("delete job", err)
		}
		if resp.Succeeded {
			return nil
		}
		if read(resp, jobRead).Count == 0 {
			return ErrNotFound
		}
	}
	return ErrConflict
}

// Cursor reads a job's schedule cursor: the last nominal fire time that was
// turned into a snapshot (or skipped on purpose).
func (s *Store) Cursor(ctx context.Context, name string) (t time.Time, err error) {
	defer s.track("cursor_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.cursor(name))
	if err != nil {
		return t, wrap("get cursor", err)
	}
	if len(resp.Kvs) == 0 {
		return t, ErrNotFound
	}
	t, _, err = cursor.Parse(string(resp.Kvs[0].Value))
	return t, err
}

// AutoResume resumes a job whose pause has expired (paused_until), fenced
// by leadership and the job's revision, and records it in the audit log.
// It reports whether it resumed the job.
func (s *Store) AutoResume(ctx context.Context, fence Fence, spec job.Spec, now time.Time) (resumed bool, err error) {
	defer s.track("job_auto_resume", time.Now(), &err)
	key := s.k.job(spec.Name)
	rev := spec.Revision
	spec.Paused, spec.PausedBy, spec.PauseReason, spec.PausedUntil = false, "", "", nil
	spec.UpdatedAt = now.UTC().Truncate(time.Millisecond)
	spec.Revision = 0
	actx := audit.With(ctx, audit.Entry{At: now.UTC(), Who: "pink", Role: "leader", Action: "job.resume", Target: spec.Name,
		Reason: "pause expired (paused_until)"})
	// The cursor carries the leader's counts: the advance keeps them, and is
	// read again if it moved meanwhile.
	for range 5 {
		cmp, curRev, curOps, err := s.cursorAdvance(ctx, spec.Name, now)
		if err != nil {
			return false, err
		}
		resp, err := s.c.Txn(ctx).
			If(fence.cmp(), clientv3.Compare(clientv3.ModRevision(key), "=", rev), cmp).
			Then(append(append([]clientv3.Op{clientv3.OpPut(key, encode(spec)), s.bumpJobs()}, curOps...), s.auditOps(actx, nil)...)...).
			Else(clientv3.OpGet(s.k.cursor(spec.Name), clientv3.WithKeysOnly())).
			Commit()
		if err != nil {
			return false, wrap("auto-resume job", err)
		}
		if resp.Succeeded || !cursorMoved((*clientv3.GetResponse)(resp.Responses[0].GetResponseRange()), curRev) {
			return resp.Succeeded, nil
		}
	}
	return false, ErrConflict
}

// CreateJobs stores many new jobs with few transactions (bulk loads and
// benchmarks); each transaction holds only if none of its jobs exists and
// the group does. It returns how many it created before any error.
func (s *Store) CreateJobs(ctx context.Context, specs []job.Spec) (created int, err error) {
	defer s.track("job_create_bulk", time.Now(), &err)
	const perTxn = 30 // 3 operations each (4 for forbid), under etcd's default of 128
	for len(specs) > 0 {
		n := min(len(specs), perTxn)
		var cmps []clientv3.Cmp
		var ops []clientv3.Op
		groups := map[string]bool{}
		for _, spec := range specs[:n] {
			spec.Revision = 0
			key := s.k.job(spec.Name)
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
			if !groups[spec.Group] {
				groups[spec.Group] = true
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(s.k.group(spec.Group)), ">", 0))
			}
			ops = append(ops, s.createJobOps(spec)...)
		}
		resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return created, wrap("create jobs", err)
		}
		if !resp.Succeeded {
			return created, fmt.Errorf("create jobs %s...: a job exists or the group does not: %w", specs[0].Name, ErrConflict)
		}
		created += n
		specs = specs[n:]
	}
	return created, nil
}
