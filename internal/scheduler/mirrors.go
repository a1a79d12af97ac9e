package scheduler

import (
	"context"
	"sync"

	"github.com/pink-scheduler/pink/internal/store"
)

// batch is one delivery of a mirror: its events, to fold into the view.
type batch struct {
	source string
	synced bool
	apply  func(*view)
}

// source is one mirrored prefix and the view's handler of its events.
type source struct {
	name string
	run  func(ctx context.Context, st *store.Store, send func(batch)) error
}

// mirrorOf makes the source name from a typed mirror of the store and the
// handler that folds one of its events into the view.
func mirrorOf[E any](name string, mirror func(*store.Store, context.Context, func([]E, bool)) error, on func(*view, E)) source {
	return source{name: name, run: func(ctx context.Context, st *store.Store, send func(batch)) error {
		return mirror(st, ctx, func(evs []E, synced bool) {
			send(batch{source: name, synced: synced, apply: func(v *view) {
				for _, ev := range evs {
					on(v, ev)
				}
			}})
		})
	}}
}

// sources are everything the leader follows. It acts once each of them has
// delivered its first list.
var sources = []source{
	mirrorOf("jobs", (*store.Store).MirrorJobs, (*view).onJob),
	mirrorOf("cursors", (*store.Store).MirrorCursors, (*view).onCursor),
	mirrorOf("clients", (*store.Store).MirrorClients, (*view).onClient),
	mirrorOf("pending", (*store.Store).MirrorPending, (*view).onSnapshot),
	mirrorOf("assigned", (*store.Store).MirrorAssigned, (*view).onSnapshot),
	mirrorOf("fires", (*store.Store).MirrorFires, (*view).onFire),
	mirrorOf("backfills", (*store.Store).MirrorBackfills, (*view).onBackfill),
	mirrorOf("counts", (*store.Store).MirrorCounts, (*view).onCounts),
	mirrorOf("groups", (*store.Store).MirrorGroups, (*view).onGroup),
	mirrorOf("last", (*store.Store).MirrorJobLast, (*view).onLast),
}

// startMirrors runs every source until ctx ends; wg counts them.
func (t *term) startMirrors(ctx context.Context, wg *sync.WaitGroup) {
	send := func(b batch) {
		select {
		case t.in <- b:
		case <-ctx.Done():
		}
	}
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := src.run(ctx, t.st, send); err != nil && ctx.Err() == nil {
				t.log.Error("mirror stopped", "mirror", src.name, "err", err)
			}
		}()
	}
}
