package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// keyWrites watches every key under /pink from revision from and returns a
// function that waits for the writes of revision until and returns the
// keys put or deleted from, one entry per write, sorted, as "put <key>" or
// "delete <key>" with the per-run tails cut (see kind).
func keyWrites(t *testing.T, cli *clientv3.Client, from int64) func(until int64) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wc := cli.Watch(ctx, "/pink/", clientv3.WithPrefix(), clientv3.WithRev(from))
	return func(until int64) []string {
		var out []string
		seen := int64(0)
		for resp := range wc {
			for _, ev := range resp.Events {
				op := "put "
				if ev.Type == clientv3.EventTypeDelete {
					op = "delete "
				}
				out = append(out, op+kind(string(ev.Kv.Key)))
				seen = ev.Kv.ModRevision
			}
			if seen >= until {
				break
			}
		}
		slices.Sort(out)
		return out
	}
}

// kind is a key without its per-run part: the prefix up to the job name.
func kind(key string) string {
	if i := strings.IndexByte(key, '@'); i >= 0 {
		key = key[:i]
	}
	if strings.HasPrefix(key, "/pink/execute/history/index/") {
		return "/pink/execute/history/index/"
	}
	return key
}

// runOnce fires the job once on c at at (forbid as given), claims and
// completes the run, and returns the revision before the fire and after the
// completion.
func runOnce(t *testing.T, e *pinktest.Etcd, st *store.Store, fence store.Fence, spec job.Spec, c cluster.Client, at time.Time, forbid bool) (from, until int64) {
	t.Helper()
	ctx := context.Background()
	from = e.Revision(t) + 1
	f := fireAt(spec, at, &c)
	f.Forbid = forbid
	res, err := st.WriteFire(ctx, fence, f, at)
	if err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("fire: %v %v", res.Outcome, err)
	}
	l := res.Written[0]
	claimRev, err := st.Claim(ctx, c, l, at)
	if err != nil {
		t.Fatal(err)
	}
	running := l
	running.State, running.StartedAt = snapshot.StateRunning, &at
	run := running.Finish(snapshot.StatusSucceeded, "", "", at.Add(100*time.Millisecond))
	if err := st.Complete(ctx, c.ID, claimRev, run, nil); err != nil {
		t.Fatal(err)
	}
	return from, e.Revision(t)
}

// TestKeysPerRun counts, through a watch over the whole root, the keys that
// one fire → claim → complete cycle writes (issue 14): 7 for a job without
// an overlap rule (fire: assignment and cursor; claim: assignment;
// complete: history row, run index entry, last-run time, assignment
// delete), and 9 for a forbid job, whose run also has an active entry.
func TestKeysPerRun(t *testing.T) {
	e, st, spec := setup(t)
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")

	from, until := runOnce(t, e, st, fence, spec, c, t0.Add(time.Second), false)
	got := keyWrites(t, e.Client, from)(until)
	want := []string{
		"delete /pink/execute/snapshots/g/w1/tick",
		"put /pink/execute/history/index/",
		"put /pink/execute/history/snapshots/tick/tick",
		"put /pink/execute/snapshots/g/w1/tick",
		"put /pink/execute/snapshots/g/w1/tick",
		"put /pink/job/last/tick/success",
		"put /pink/schedule/cursor/tick",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("allow run wrote %d keys:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}

	from, until = runOnce(t, e, st, fence, spec, c, t0.Add(2*time.Second), true)
	got = keyWrites(t, e.Client, from)(until)
	want = slices.Sorted(slices.Values(append(want, "put /pink/execute/active/tick/tick", "delete /pink/execute/active/tick/tick")))
	if !slices.Equal(got, want) {
		t.Fatalf("forbid run wrote %d keys:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}
