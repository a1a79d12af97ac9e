package store_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// runsSeen collects what a store's RunRecorder is told.
type runsSeen struct {
	mu   sync.Mutex
	runs []store.RecordedRun
}

func (r *runsSeen) add(_ context.Context, runs []store.RecordedRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, runs...)
}

// take returns what was reported since the last take.
func (r *runsSeen) take() []store.RecordedRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.runs
	r.runs = nil
	return out
}

func traceParentOf(i int) string { return fmt.Sprintf("00-%032x-%016x-01", i, i) }

// TestRunRecorderSeesCommittedHistoryOnly: every writer of history tells
// the recorder about the run it wrote, with the traceparent of the
// snapshot it ended, once its transaction committed; a transaction that
// was refused (stale snapshot, deposed leader, zombie result) tells
// nothing. Each run reported is the history row as stored.
func TestRunRecorderSeesCommittedHistoryOnly(t *testing.T) {
	e, plain, spec := setup(t)
	seen := &runsSeen{}
	st := store.New(e.Client, "/pink", store.WithRunRecorder(seen.add))
	ctx := context.Background()
	sess, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")
	fire := func(i int, onClient bool) snapshot.Live {
		t.Helper()
		at := t0.Add(time.Duration(i) * time.Second)
		f := fireAt(spec, at, nil)
		if onClient {
			f = fireAt(spec, at, &c)
		}
		f.Placements[0].Snapshot.TraceParent = traceParentOf(i)
		if res, err := st.WriteFire(ctx, fence, f, at); err != nil || res.Outcome != store.FireWritten {
			t.Fatalf("fire %d: %v %v", i, res.Outcome, err)
		}
		l, err := st.GetLive(ctx, snapshot.CronID(spec.Name, at))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	expect := func(step string, want ...store.RecordedRun) {
		t.Helper()
		got := seen.take()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: recorder got %+v, want %+v", step, got, want)
		}
		for _, r := range got {
			if row, err := plain.GetRun(ctx, r.Run.ID); err != nil || !reflect.DeepEqual(row, r.Run) {
				t.Fatalf("%s: history holds %+v (%v), the recorder got %+v", step, row, err, r.Run)
			}
		}
	}

	// The API cancels a pending snapshot; a second cancel of the same read
	// is refused and reports nothing.
	l1 := fire(1, false)
	now := t0.Add(time.Minute)
	if err := st.CancelLive(ctx, l1, "canceled through the API", now); err != nil {
		t.Fatal(err)
	}
	expect("cancel", store.RecordedRun{Run: l1.Finish(snapshot.StatusCanceled, "", "canceled through the API", now), TraceParent: traceParentOf(1)})
	if err := st.CancelLive(ctx, l1, "again", now); err != store.ErrConflict {
		t.Fatalf("second cancel: %v, want ErrConflict", err)
	}
	expect("refused cancel")

	// A worker completes a claimed run; its zombie result is refused.
	l2 := fire(2, true)
	claimRev, err := st.Claim(ctx, c, l2, now)
	if err != nil {
		t.Fatal(err)
	}
	running, _ := st.GetLive(ctx, l2.ID)
	done := running.Finish(snapshot.StatusSucceeded, "ok", "", now.Add(time.Second))
	if err := st.Complete(ctx, c.ID, claimRev, done, nil); err != nil {
		t.Fatal(err)
	}
	expect("complete", store.RecordedRun{Run: done})
	if err := st.Complete(ctx, c.ID, claimRev, done, nil); err != store.ErrConflict {
		t.Fatalf("second complete: %v, want ErrConflict", err)
	}
	expect("refused complete")

	// The leader records a running attempt lost; a move from a stale read
	// reports nothing.
	l3 := fire(3, true)
	if _, err := st.Claim(ctx, c, l3, now); err != nil {
		t.Fatal(err)
	}
	running, _ = st.GetLive(ctx, l3.ID)
	lost := running.Finish(snapshot.StatusLost, "", "client w1 stopped while the run was in progress", now)
	if res, err := st.Move(ctx, fence, l3, &lost, nil, now); err != nil || res.Outcome != store.MoveSnapshotChanged {
		t.Fatalf("move of a stale read: %v %v", res.Outcome, err)
	}
	expect("refused move")
	if res, err := st.Move(ctx, fence, running, &lost, nil, now); err != nil || res.Outcome != store.Moved {
		t.Fatalf("move: %v %v", res.Outcome, err)
	}
	expect("lost", store.RecordedRun{Run: lost, TraceParent: traceParentOf(3)})

	// Deleting the job cancels its pending snapshot.
	l4 := fire(4, false)
	if err := st.DeleteJob(ctx, spec.Name, now); err != nil {
		t.Fatal(err)
	}
	expect("delete job", store.RecordedRun{Run: l4.Finish(snapshot.StatusCanceled, "", "the job was deleted", now), TraceParent: traceParentOf(4)})

	// A deposed leader's move writes and reports nothing.
	spec2 := job.Spec{Name: "tock", Group: "g", Schedule: "* * * * * *", Target: "noop", CreatedAt: t0}
	spec2.ApplyDefaults()
	if spec, err = st.CreateJob(ctx, spec2); err != nil {
		t.Fatal(err)
	}
	l5 := fire(5, false)
	if _, err := e.Client.Revoke(ctx, sess.Lease()); err != nil {
		t.Fatal(err)
	}
	canceled := l5.Finish(snapshot.StatusCanceled, "", "replaced", now)
	if res, err := st.Move(ctx, fence, l5, &canceled, nil, now); err != nil || res.Outcome != store.MoveNotLeader {
		t.Fatalf("deposed leader's move: %v %v", res.Outcome, err)
	}
	expect("deposed leader")
}
