package store

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// DecodeSnapshot decodes a stored snapshot value.
func DecodeSnapshot(key string, v []byte) (snapshot.Snapshot, error) {
	var snap snapshot.Snapshot
	err := decode(key, v, &snap)
	return snap, err
}

// ErrOverlap refuses a new snapshot of a job that forbids overlapping runs
// while one is live.
var ErrOverlap = errors.New("a run of the job is in progress")

// CreatePending writes snapshots that wait for the leader to dispatch them
// (a manual trigger: one, or one per shard with the sharded fire's record).
// The job must exist (ErrNotFound otherwise); with forbid, no snapshot of
// the job may be live (ErrOverlap otherwise).
// Manual triggers are exclusive snapshots (see active.go); an overlap that
// is only a job's switch mark is settled and the write tried again.
func (s *Store) CreatePending(ctx context.Context, snaps []snapshot.Snapshot, sharded *snapshot.ShardedFire, forbid bool) (err error) {
	defer s.track("pending_create", time.Now(), &err)
	if len(snaps) == 0 {
		return nil
	}
	err = s.createPending(ctx, snaps, sharded, forbid)
	if !errors.Is(err, ErrOverlap) {
		return err
	}
	if settled, serr := s.settleSwitch(ctx, snaps[0].Job); serr != nil || !settled {
		return errors.Join(err, serr)
	}
	return s.createPending(ctx, snaps, sharded, forbid)
}

func (s *Store) createPending(ctx context.Context, snaps []snapshot.Snapshot, sharded *snapshot.ShardedFire, forbid bool) error {
	jobName := snaps[0].Job
	t := &txn{}
	t.when(clientv3.Compare(clientv3.CreateRevision(s.k.job(jobName)), ">", 0))
	jobRead := t.orRead(clientv3.OpGet(s.k.job(jobName), clientv3.WithCountOnly()))
	ids := make([]string, len(snaps))
	for i, snap := range snaps {
		s.createLive(t, snap, nil, time.Time{}, true)
		ids[i] = snap.ID
	}
	s.recordShardedFire(t, sharded)
	t.then(s.auditOps(ctx, map[string]any{"snapshot_ids": ids})...)
	activeRead := -1
	if forbid {
		t.when(s.noneActive(jobName))
		activeRead = t.orRead(clientv3.OpGet(s.k.activeOfJob(jobName), clientv3.WithPrefix(), clientv3.WithCountOnly()))
	}
	resp, err := t.commit(ctx, s)
	if err != nil {
		return wrap("create pending snapshot", err)
	}
	if !resp.Succeeded {
		switch {
		case read(resp, jobRead).Count == 0:
			return ErrNotFound
		case forbid && read(resp, activeRead).Count > 0:
			return ErrOverlap
		}
		return ErrExists
	}
	return nil
}

// ListLive returns the pending and assigned snapshots, optionally only those
// of one group and/or one job, pending ones first.
func (s *Store) ListLive(ctx context.Context, group, jobName string) (out []snapshot.Live, err error) {
	defer s.track("live_list", time.Now(), &err)
	pprefix := s.k.pendingPrefix()
	if jobName != "" {
		pprefix = s.k.pendingOfJob(jobName)
	}
	collect := func(key string, v []byte, modRev, _ int64) error {
		snap, err := DecodeSnapshot(key, v)
		if err != nil {
			return err
		}
		if (group == "" || snap.Group == group) && (jobName == "" || snap.Job == jobName) {
			out = append(out, snapshot.Live{Snapshot: snap, ModRevision: modRev})
		}
		return nil
	}
	rev, err := s.listPrefix(ctx, pprefix, collect)
	if err != nil {
		return nil, wrap("list pending snapshots", err)
	}
	aprefix := s.k.assignPrefix()
	if group != "" {
		aprefix = s.k.assignGroupPrefix(group)
	}
	if _, err := s.listRange(ctx, aprefix, prefixEnd(aprefix), rev, collect); err != nil {
		return nil, wrap("list assigned snapshots", err)
	}
	return out, nil
}

// ErrBadCursor refuses a page cursor that no previous page returned.
var ErrBadCursor = errors.New("not a cursor of this list")

// LivePage is one page of live snapshots.
type LivePage struct {
	Snapshots []snapshot.Live
	// Next is the opaque cursor of the following page, "" on the last page.
	Next string
	// Cursors[i] is the cursor that resumes after Snapshots[i], for a
	// caller that cuts the page short.
	Cursors []string
}

// Cursor tags of ListLivePage: which of its two key ranges a cursor is in.
const (
	liveCursorPending  = "p"
	liveCursorAssigned = "a"
)

// ListLivePage returns up to limit (>= 1) live snapshots filtered like
// ListLive and in its order (pending ones by id, then assigned ones by
// group, client and id), starting after cursor (a Next of a previous page,
// "" for the first; ErrBadCursor if it is not one). A page is read at one
// etcd revision, but snapshots move from pending to assigned while a caller
// pages: one dispatched between two pages can show on both or on neither.
func (s *Store) ListLivePage(ctx context.Context, group, jobName string, limit int, cursor string) (page LivePage, err error) {
	defer s.track("live_list", time.Now(), &err)
	pprefix, aprefix := s.k.pendingPrefix(), s.k.assignPrefix()
	if jobName != "" {
		pprefix = s.k.pendingOfJob(jobName)
	}
	if group != "" {
		aprefix = s.k.assignGroupPrefix(group)
	}
	ranges := []struct{ tag, base, start string }{
		{liveCursorPending, s.k.pendingPrefix(), pprefix},
		{liveCursorAssigned, s.k.assignPrefix(), aprefix},
	}
	skip, after := -1, ""
	if cursor != "" {
		tag, key, err := parseLiveCursor(cursor)
		if err != nil {
			return page, err
		}
		for i, rg := range ranges {
			if rg.tag == tag {
				skip, after = i, rg.base+key
			}
		}
	}
	var rev int64
	lastCursor := ""
	size := 0
	for i, rg := range ranges {
		if i < skip {
			continue
		}
		from, end := rg.start, prefixEnd(rg.start)
		if i == skip && after >= from {
			from = after + "\x00"
		}
		for from < end {
			opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(batchSize(len(page.Snapshots), size, PageBytes-size, limit+1-len(page.Snapshots)))}
			if rev > 0 {
				opts = append(opts, clientv3.WithRev(rev))
			}
			resp, err := s.c.Get(ctx, from, opts...)
			if err != nil {
				return page, wrap("list live snapshots", err)
			}
			rev = resp.Header.Revision
			for _, kv := range resp.Kvs {
				snap, err := DecodeSnapshot(string(kv.Key), kv.Value)
				if err != nil {
					return page, err
				}
				if (group != "" && snap.Group != group) || (jobName != "" && snap.Job != jobName) {
					continue
				}
				if len(page.Snapshots) == limit || (len(page.Snapshots) > 0 && size+len(kv.Value) > PageBytes) {
					page.Next = lastCursor
					return page, nil
				}
				size += len(kv.Value)
				page.Snapshots = append(page.Snapshots, snapshot.Live{Snapshot: snap, ModRevision: kv.ModRevision})
				lastCursor = liveCursor(rg.tag, strings.TrimPrefix(string(kv.Key), rg.base))
				page.Cursors = append(page.Cursors, lastCursor)
			}
			if !resp.More || len(resp.Kvs) == 0 {
				break
			}
			from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
	}
	return page, nil
}

// liveCursor is the opaque cursor that resumes a ListLivePage after the
// snapshot at key within the range tagged tag: both, base64url-encoded.
func liveCursor(tag, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + "/" + key))
}

func parseLiveCursor(cursor string) (tag, key string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", "", ErrBadCursor
	}
	tag, key, ok := strings.Cut(string(b), "/")
	if !ok || key == "" || (tag != liveCursorPending && tag != liveCursorAssigned) {
		return "", "", ErrBadCursor
	}
	return tag, key, nil
}

// GetLive finds a pending or assigned snapshot by id; ErrNotFound if it has
// finished or never existed.
func (s *Store) GetLive(ctx context.Context, id string) (l snapshot.Live, err error) {
	defer s.track("live_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.pending(id))
	if err != nil {
		return l, wrap("get snapshot", err)
	}
	if len(resp.Kvs) > 0 {
		snap, err := DecodeSnapshot(id, resp.Kvs[0].Value)
		return snapshot.Live{Snapshot: snap, ModRevision: resp.Kvs[0].ModRevision}, err
	}
	// Assigned snapshots are keyed by group and client; look in the job's
	// group first, then everywhere (the job may be gone).
	prefixes := []string{}
	if name, ok := snapshot.JobOf(id); ok {
		if spec, gerr := s.GetJob(ctx, name); gerr == nil {
			prefixes = append(prefixes, s.k.assignGroupPrefix(spec.Group))
		}
	}
	prefixes = append(prefixes, s.k.assignPrefix())
	for _, p := range prefixes {
		found := false
		_, err := s.listPrefix(ctx, p, func(key string, v []byte, modRev, _ int64) error {
			if found || !strings.HasSuffix(key, "/"+id) {
				return nil
			}
			snap, err := DecodeSnapshot(key, v)
			if err != nil {
				return err
			}
			l, found = snapshot.Live{Snapshot: snap, ModRevision: modRev}, true
			return nil
		})
		if err != nil {
			return l, wrap("find snapshot", err)
		}
		if found {
			return l, nil
		}
	}
	return l, ErrNotFound
}
