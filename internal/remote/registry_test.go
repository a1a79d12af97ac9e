package remote_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/remote"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func setup(t *testing.T) (*pinktest.Cluster, *remote.Registry, *store.Store) {
	t.Helper()
	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "n1")
	r := remote.New(remote.Config{Client: c.Etcd.Client, Root: c.Root})
	t.Cleanup(r.Close)
	return c, r, store.New(c.Etcd.Client, c.Root)
}

func register(t *testing.T, r *remote.Registry, name string, capacity int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, ttl, err := r.Register(ctx, "py", remote.Registration{Name: name, Capacity: capacity, Targets: []string{"send"}, TTL: 2 * time.Second})
	if err != nil || ttl != 2*time.Second {
		t.Fatalf("register %s: %q %v %v", name, id, ttl, err)
	}
	return id
}

// pollOne long-polls worker id until it is handed a run.
func pollOne(t *testing.T, r *remote.Registry, id string) remote.Run {
	t.Helper()
	runs, err := r.Poll(context.Background(), "py", id, 4, 15*time.Second)
	if err != nil || len(runs) != 1 {
		t.Fatalf("poll of %s: %d runs, %v", id, len(runs), err)
	}
	return runs[0]
}

// history is a job's runs in the order they finished, as "attempt status
// client output", and " error: ..." for a failed one.
func history(t *testing.T, c *pinktest.Cluster, name string, names map[string]string, n int) []string {
	t.Helper()
	var out []string
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		runs := c.Runs(t, name)
		slices.SortFunc(runs, func(a, b snapshot.Run) int { return a.FinishedAt.Compare(b.FinishedAt) })
		out = out[:0]
		for _, r := range runs {
			line := fmt.Sprintf("%d %s %s %s", r.Attempt, r.Status, names[r.Client], r.Output)
			if r.Status == snapshot.StatusFailed {
				line += " error: " + r.Error
			}
			out = append(out, line)
		}
		return len(out) >= n, fmt.Sprintf("history of %s: %v", name, out)
	})
	return out
}

// TestRemoteWorkerRunsAndReports: a registered remote worker is a client of
// its group; a poll hands it a claimed run with its deadline and trace;
// its results are recorded with their output or error; a result with the
// wrong claim, or twice, is refused.
func TestRemoteWorkerRunsAndReports(t *testing.T) {
	c, r, st := setup(t)
	id := register(t, r, "billing-py", 2)
	clients, err := st.ListClients(context.Background(), "py")
	if err != nil || len(clients) != 1 || clients[0].ID != id || clients[0].Capacity != 2 || strings.Join(clients[0].Targets, ",") != "send" {
		t.Fatalf("clients of py: %+v %v", clients, err)
	}
	spec := c.CreateJob(t, job.Spec{Name: "invoices", Group: "py", Schedule: "@daily", Target: "send", Paused: true,
		Timeout: job.Duration(time.Minute), Params: []byte(`{"batch":7}`)})

	c.Trigger(t, spec)
	run := pollOne(t, r, id)
	if run.Job != "invoices" || run.Attempt != 1 || string(run.Params) != `{"batch":7}` || run.Claim == "" || run.Client != id ||
		time.Until(run.Deadline) > time.Minute || time.Until(run.Deadline) < 50*time.Second {
		t.Errorf("handed run %+v", run)
	}
	if err := r.Report(context.Background(), id, run.SnapshotID, "not-the-claim", remote.Result{Succeeded: true}); !errors.Is(err, remote.ErrClaimLost) {
		t.Errorf("a result with another claim: %v, want ErrClaimLost", err)
	}
	if err := r.Report(context.Background(), id, run.SnapshotID, run.Claim, remote.Result{Succeeded: true, Output: "7 sent"}); err != nil {
		t.Fatalf("report: %v", err)
	}
	if err := r.Report(context.Background(), id, run.SnapshotID, run.Claim, remote.Result{Succeeded: true}); !errors.Is(err, remote.ErrClaimLost) {
		t.Errorf("a second result: %v, want ErrClaimLost", err)
	}

	c.Trigger(t, spec)
	run = pollOne(t, r, id)
	if err := r.Report(context.Background(), id, run.SnapshotID, run.Claim, remote.Result{Output: "half", Error: "smtp down"}); err != nil {
		t.Fatalf("report failure: %v", err)
	}
	got := history(t, c, "invoices", map[string]string{id: "py"}, 2)
	if want := []string{"1 succeeded py 7 sent", "1 failed py half error: smtp down"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("history %q, want %q", got, want)
	}
}

// TestRemoteWorkerDeathAndDrain: a remote worker that stops polling and
// heartbeating is gone after its TTL — its running run is recorded lost and
// retried on another worker, and its late result is refused; a drained
// one's unstarted run moves at once as the same attempt.
func TestRemoteWorkerDeathAndDrain(t *testing.T) {
	c, r, _ := setup(t)
	a := register(t, r, "a", 1)
	spec := c.CreateJob(t, job.Spec{Name: "sync", Group: "py", Schedule: "@daily", Target: "send", Paused: true, Retries: 1,
		RetryBackoff: job.Duration(10 * time.Millisecond)})
	c.Trigger(t, spec)
	first := pollOne(t, r, a)
	b := register(t, r, "b", 1)
	// a says nothing more; b polls (and so lives) until it is handed the retry.
	retry := pollOne(t, r, b)
	if retry.SnapshotID != first.SnapshotID || retry.Attempt != 2 {
		t.Errorf("b was handed %s attempt %d, want %s attempt 2", retry.SnapshotID, retry.Attempt, first.SnapshotID)
	}
	if err := r.Heartbeat("py", a); !errors.Is(err, remote.ErrGone) {
		t.Errorf("heartbeat of the dead worker: %v, want ErrGone", err)
	}
	if err := r.Report(context.Background(), a, first.SnapshotID, first.Claim, remote.Result{Succeeded: true, Output: "late"}); !errors.Is(err, remote.ErrClaimLost) {
		t.Errorf("the dead worker's late result: %v, want ErrClaimLost", err)
	}
	if err := r.Report(context.Background(), b, retry.SnapshotID, retry.Claim, remote.Result{Succeeded: true, Output: "ok"}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{a: "a", b: "b"}
	if got, want := history(t, c, "sync", names, 2), []string{"1 lost a ", "2 succeeded b ok"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("history %q, want %q", got, want)
	}

	// Drain: b holds one run (capacity 1) when a second is assigned to it;
	// the drain moves the second at once, unstarted, to a new worker.
	c.Trigger(t, spec)
	held := pollOne(t, r, b)
	c.Trigger(t, spec)
	waitAssigned(t, c, b, 2)
	if err := r.Drain("py", b); err != nil {
		t.Fatal(err)
	}
	d := register(t, r, "d", 2)
	names[d] = "d"
	var moved []remote.Run
	for len(moved) < 2 {
		runs, err := r.Poll(context.Background(), "py", d, 2, 15*time.Second)
		if err != nil || len(runs) == 0 {
			t.Fatalf("poll of d: %v %v", runs, err)
		}
		moved = append(moved, runs...)
	}
	for _, m := range moved {
		if err := r.Report(context.Background(), d, m.SnapshotID, m.Claim, remote.Result{Succeeded: true, Output: "d"}); err != nil {
			t.Fatal(err)
		}
	}
	runs := c.Runs(t, "sync")
	var heldRuns, movedRuns []string
	for _, run := range runs {
		line := fmt.Sprintf("%d %s %s", run.Attempt, run.Status, names[run.Client])
		if run.SnapshotID == held.SnapshotID {
			heldRuns = append(heldRuns, line)
		} else if run.SnapshotID != first.SnapshotID {
			movedRuns = append(movedRuns, line)
		}
	}
	// The held run was running on b: lost, retried on d. The other had not
	// started: it ran on d as its first attempt.
	if strings.Join(heldRuns, "|") != "2 succeeded d|1 lost b" || strings.Join(movedRuns, "|") != "1 succeeded d" {
		t.Errorf("after the drain: held %q, moved %q", heldRuns, movedRuns)
	}
}

// waitAssigned waits until n live snapshots are assigned to client.
func waitAssigned(t *testing.T, c *pinktest.Cluster, client string, n int) {
	t.Helper()
	st := store.New(c.Etcd.Client, c.Root)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := st.ListLive(context.Background(), "py", "")
		got := 0
		for _, s := range live {
			if s.Client == client {
				got++
			}
		}
		return err == nil && got == n, fmt.Sprintf("%d snapshots assigned to %s, want %d (%v)", got, client, n, err)
	})
}

// TestRegisterRefusesBadValues: what the protocol does not take is refused
// before anything registers.
func TestRegisterRefusesBadValues(t *testing.T) {
	_, r, st := setup(t)
	for _, tc := range []struct {
		group string
		reg   remote.Registration
		want  string
	}{
		{"Py", remote.Registration{Targets: []string{"send"}}, "not a valid name"},
		{"py", remote.Registration{}, "targets must name"},
		{"py", remote.Registration{Targets: []string{"send it"}}, `target "send it"`},
		{"py", remote.Registration{Targets: []string{"send"}, Capacity: remote.MaxCapacity + 1}, "capacity must be"},
		{"py", remote.Registration{Targets: []string{"send"}, TTL: time.Second}, "ttl must be"},
	} {
		_, _, err := r.Register(context.Background(), tc.group, tc.reg)
		if !errors.Is(err, remote.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("register %q %+v: %v, want ErrInvalid with %q", tc.group, tc.reg, err, tc.want)
		}
	}
	if clients, err := st.ListClients(context.Background(), "py"); err != nil || len(clients) != 0 {
		t.Errorf("refused registrations left clients: %v %v", clients, err)
	}
	if _, err := r.Poll(context.Background(), "py", "nobody", 1, 0); !errors.Is(err, remote.ErrGone) {
		t.Errorf("poll of an unknown worker: %v", err)
	}
}
