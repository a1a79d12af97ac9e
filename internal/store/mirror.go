package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// RawEvent is one change under a mirrored prefix.
type RawEvent struct {
	Deleted        bool
	Key            string
	Value          []byte
	ModRevision    int64
	CreateRevision int64
}

// MirrorFunc receives changes in revision order. synced is true for the batch
// that completes a (re-)list: after it the receiver's view equals etcd's at
// that revision.
type MirrorFunc func(events []RawEvent, synced bool)

// errCompacted ends a watch whose next revision was compacted away.
var errCompacted = errors.New("watch revision compacted")

// Mirror keeps a receiver in step with every key under prefix until ctx
// ends: it lists the prefix, then watches from the list's revision. A watch
// that fails resumes from the last revision it delivered; a watch that fell
// behind a compaction re-lists and delivers the difference (puts for new or
// changed keys, deletes for vanished ones), so no change is ever silently
// lost (guarantee 6). It returns ctx's error.
func (s *Store) Mirror(ctx context.Context, prefix string, fn MirrorFunc) error {
	m := &mirror{s: s, prefix: prefix, known: map[string]int64{}, fn: fn}
	return m.run(ctx)
}

type mirror struct {
	s      *Store
	prefix string
	known  map[string]int64 // key → mod revision, to diff a re-list
	rev    int64            // last revision delivered
	fn     MirrorFunc
}

func (m *mirror) run(ctx context.Context) error {
	// At most half a second between attempts: after etcd comes back (a
	// restart, quorum regained), a watch a second late is a second of
	// fires nobody hears of; an attempt twice a second is nothing to etcd.
	backoff := newBackoff(50*time.Millisecond, 500*time.Millisecond)
	needList := m.rev == 0
	for {
		rewatch := m.s.rewatch()
		if needList {
			if err := m.list(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if !backoff.waitOr(ctx, rewatch) {
					return ctx.Err()
				}
				continue
			}
			needList = false
		}
		err := m.watch(ctx, backoff)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errRewatch) {
			continue
		}
		if errors.Is(err, errCompacted) {
			needList = true
			continue
		}
		if !backoff.waitOr(ctx, rewatch) {
			return ctx.Err()
		}
	}
}

func (m *mirror) list(ctx context.Context) (err error) {
	defer m.s.track("mirror_list", time.Now(), &err)
	seen := make(map[string]bool, len(m.known))
	var events []RawEvent
	rev, err := m.s.listPrefix(ctx, m.prefix, func(key string, v []byte, modRev, createRev int64) error {
		seen[key] = true
		if m.known[key] != modRev {
			events = append(events, RawEvent{Key: key, Value: v, ModRevision: modRev, CreateRevision: createRev})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", m.prefix, err)
	}
	for key := range m.known {
		if !seen[key] {
			events = append(events, RawEvent{Deleted: true, Key: key, ModRevision: rev})
		}
	}
	m.apply(events)
	m.rev = rev
	m.fn(events, true)
	return nil
}

func (m *mirror) apply(events []RawEvent) {
	for _, ev := range events {
		if ev.Deleted {
			delete(m.known, ev.Key)
		} else {
			m.known[ev.Key] = ev.ModRevision
		}
	}
}

func (m *mirror) watch(ctx context.Context, backoff *backoff) error {
	w := m.s.openWatch(ctx, m.prefix, clientv3.WithPrefix(), clientv3.WithRev(m.rev+1), clientv3.WithProgressNotify())
	defer w.close()
	for {
		resp, err := w.next()
		if err != nil {
			return err
		}
		if resp.CompactRevision != 0 {
			return errCompacted
		}
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watch %s: %w", m.prefix, err)
		}
		backoff.reset()
		if len(resp.Events) == 0 {
			// Progress notification: nothing under the prefix changed up to
			// this revision.
			m.rev = max(m.rev, resp.Header.Revision)
			continue
		}
		events := make([]RawEvent, 0, len(resp.Events))
		for _, ev := range resp.Events {
			re := RawEvent{Key: string(ev.Kv.Key), ModRevision: ev.Kv.ModRevision, CreateRevision: ev.Kv.CreateRevision}
			if ev.Type == mvccpb.DELETE {
				re.Deleted = true
			} else {
				re.Value = ev.Kv.Value
			}
			events = append(events, re)
		}
		m.apply(events)
		m.rev = resp.Events[len(resp.Events)-1].Kv.ModRevision
		m.fn(events, false)
	}
}

// backoff is a capped exponential delay for retry loops.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, cur: min} }

func (b *backoff) reset() { b.cur = b.min }

// wait sleeps for the current delay and doubles it; false if ctx ended.
func (b *backoff) wait(ctx context.Context) bool { return b.waitOr(ctx, nil) }

// waitOr is wait, cut short when wake is closed: the etcd endpoints changed
// (rewatch), so a member that answers is there to retry on now.
func (b *backoff) waitOr(ctx context.Context, wake <-chan struct{}) bool {
	t := time.NewTimer(b.cur)
	defer t.Stop()
	b.cur = min(b.cur*2, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		return true
	case <-t.C:
		return true
	}
}
