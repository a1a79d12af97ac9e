package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// runRecords returns the pink.run log records received, by run id, and
// how many there are in all.
func runRecords(otlp *otlpReceiver) (map[string]logRecord, int) {
	byRun, n := map[string]logRecord{}, 0
	for _, r := range otlp.logs() {
		if r.event == "pink.run" {
			byRun[r.attrs["pink.run.id"]] = r
			n++
		}
	}
	return byRun, n
}

// awaitRunRecords waits until the receiver holds a pink.run record for
// each of runs.
func awaitRunRecords(t *testing.T, otlp *otlpReceiver, runs []snapshot.Run) map[string]logRecord {
	t.Helper()
	var byRun map[string]logRecord
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		byRun, _ = runRecords(otlp)
		var missing []string
		for _, r := range runs {
			if _, ok := byRun[r.ID]; !ok {
				missing = append(missing, r.ID)
			}
		}
		return len(missing) == 0, fmt.Sprintf("no log record of the runs %v", missing)
	})
	return byRun
}

// storedRuns reads runs' history rows as etcd holds them.
func storedRuns(t *testing.T, st *store.Store, runs []snapshot.Run) []snapshot.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]snapshot.Run, len(runs))
	for i, r := range runs {
		var err error
		if out[i], err = st.GetRun(ctx, r.ID); err != nil {
			t.Fatalf("history row of %s: %v", r.ID, err)
		}
	}
	return out
}

// TestRunHistoryInLogBackend: real scheduler and worker processes export
// every run they write to history as one OTLP log record: the worker its
// succeeded and failed runs, the leader a run it records lost (its worker
// was killed mid-run), the API a snapshot it cancels. The records received
// are exactly the history rows the API lists, with their fields as
// attributes, their severity, and the trace and span ids of the run's
// span as the same receiver got them.
func TestRunHistoryInLogBackend(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	otlp := startOTLP(t)
	svc := newObsService()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	_, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "s1", otlp.env()...)
	w1, _ := pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1", otlp.env()...)

	for _, body := range []string{
		httpJob("ok", "default", srv.URL+"/ok", ""),
		httpJob("fail", "default", srv.URL+"/fail", ""),
		httpJob("victim", "default", srv.URL+"/lose-first", `,"retries":1`),
	} {
		api.JSON(t, "POST", "/api/v1/jobs", body, http.StatusCreated, nil)
	}
	api.JSON(t, "POST", "/api/v1/jobs/ok/trigger", nil, http.StatusAccepted, nil)
	api.JSON(t, "POST", "/api/v1/jobs/ok/trigger", nil, http.StatusAccepted, nil)
	api.JSON(t, "POST", "/api/v1/jobs/fail/trigger", nil, http.StatusAccepted, nil)
	// A long output: etcd keeps an excerpt, the log record all of it.
	bigOutput := strings.Repeat("x", 20_000) + "END\n"
	api.JSON(t, "POST", "/api/v1/jobs", `{"name":"big","group":"default","schedule":"@yearly","target":"shell",
		"params":{"command":["sh","-c","head -c 20000 /dev/zero | tr '\\0' x; echo END"]}}`, http.StatusCreated, nil)
	api.JSON(t, "POST", "/api/v1/jobs/big/trigger", nil, http.StatusAccepted, nil)
	// w1 is killed below: what it exports in batches, its run records and
	// (in another batch) their spans, must be out first.
	early := awaitRunRecords(t, otlp, append(append(waitRunsOf(t, api, "ok", 2), waitRunsOf(t, api, "fail", 1)...), waitRunsOf(t, api, "big", 1)...))
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		have := map[string]bool{}
		for _, s := range otlp.get() {
			have[s.traceID+"/"+s.spanID] = true
		}
		for id, rec := range early {
			if !have[rec.traceID+"/"+rec.spanID] {
				return false, "no span of run " + id + " yet"
			}
		}
		return true, ""
	})

	// Lost: attempt 1 of victim hangs on w1, which is killed; the leader
	// records it lost, w2 runs attempt 2.
	api.JSON(t, "POST", "/api/v1/jobs/victim/trigger", nil, http.StatusAccepted, nil)
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) { return svc.seen("/lose-first") == 1, "attempt 1 not started" })
	pinktest.StartWorkerProcess(t, etcd.Endpoints, "w2", otlp.env()...)
	w1.Kill()
	waitRunsOf(t, api, "victim", 2)

	// Canceled: a cron fire of a group without workers waits pending, with
	// the trace of its pink.fire; the API cancels it.
	api.JSON(t, "POST", "/api/v1/groups", `{"name":"parked"}`, http.StatusCreated, nil)
	api.JSON(t, "POST", "/api/v1/jobs", `{"name":"parked","group":"parked","schedule":"* * * * * *","target":"http",
		"concurrency":"forbid","params":{"url":"`+srv.URL+`/ok"}}`, http.StatusCreated, nil)
	var pending struct {
		Snapshots []snapshot.Live `json:"snapshots"`
	}
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		api.JSON(t, "GET", "/api/v1/snapshots?job=parked", nil, http.StatusOK, &pending)
		return len(pending.Snapshots) == 1, fmt.Sprintf("%d pending snapshots of parked", len(pending.Snapshots))
	})
	api.JSON(t, "POST", "/api/v1/jobs/parked/pause", nil, http.StatusOK, nil)
	api.JSON(t, "DELETE", "/api/v1/snapshots/"+pending.Snapshots[0].ID, nil, http.StatusOK, nil)

	// Exactly the history rows, each once: the API lists them, etcd holds
	// them as the records were written (the API answers times to the
	// millisecond; a record has the nanoseconds).
	var runs []snapshot.Run
	for _, job := range []string{"ok", "fail", "victim", "parked", "big"} {
		runs = append(runs, api.Runs(t, job)...)
	}
	runs = storedRuns(t, store.New(etcd.Client, ""), runs)
	byRun := awaitRunRecords(t, otlp, runs)
	if got, n := runRecords(otlp); n != len(runs) || len(got) != len(runs) {
		ids := make([]string, 0, len(got))
		for id := range got {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		t.Fatalf("%d pink.run records for %d runs (%d distinct: %v)", n, len(runs), len(got), ids)
	}
	statuses := map[snapshot.Status]int{}
	for _, run := range runs {
		statuses[run.Status]++
		if run.Job == "big" {
			if len(run.Output) > snapshot.MaxStoredOutputBytes || !strings.Contains(run.Output, "bytes cut ...]") || !strings.HasSuffix(run.Output, "END\n") {
				t.Errorf("etcd holds %d bytes of big's output, ending %q; want an excerpt of at most %d", len(run.Output),
					run.Output[max(0, len(run.Output)-20):], snapshot.MaxStoredOutputBytes)
			}
			run.Output = bigOutput // what the record must hold
		}
		checkRunRecord(t, otlp, run, byRun[run.ID])
	}
	want := map[snapshot.Status]int{snapshot.StatusSucceeded: 4, snapshot.StatusFailed: 1, snapshot.StatusLost: 1, snapshot.StatusCanceled: 1}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("history rows by status %v, want %v", statuses, want)
	}
}

// checkRunRecord compares a run's log record with its history row, and
// its trace with the spans the receiver got: a worker's record carries its
// pink.execute span; the leader's and the API's, the span stored with the
// snapshot (the pink.dispatch of a lost run, the pink.fire of a pending
// one).
func checkRunRecord(t *testing.T, otlp *otlpReceiver, run snapshot.Run, rec logRecord) {
	t.Helper()
	stamp := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }
	want := map[string]string{"pink.job": run.Job, "pink.group": run.Group, "pink.snapshot_id": run.SnapshotID, "pink.run.id": run.ID,
		"pink.run.status": string(run.Status), "pink.run.attempt": strconv.Itoa(run.Attempt), "pink.run.trigger": string(run.Trigger),
		"pink.run.target": run.Target, "pink.run.scheduled_at": stamp(run.ScheduledAt),
		"pink.run.duration_seconds": strconv.FormatFloat(run.DurationSeconds, 'g', -1, 64)}
	for k, v := range map[string]string{"pink.run.client": run.Client, "pink.run.error": run.Error, "pink.run.error_code": run.ErrorCode,
		"pink.run.output": run.Output} {
		if v != "" {
			want[k] = v
		}
	}
	if run.StartedAt != nil {
		want["pink.run.started_at"] = stamp(*run.StartedAt)
	}
	if run.DispatchedAt != nil {
		want["pink.run.dispatched_at"] = stamp(*run.DispatchedAt)
	}
	if fmt.Sprint(rec.attrs) != fmt.Sprint(want) {
		t.Errorf("run %s (%s): attributes\n%v\nwant\n%v", run.ID, run.Status, rec.attrs, want)
	}
	severity := map[snapshot.Status]int32{snapshot.StatusSucceeded: 9, snapshot.StatusCanceled: 13,
		snapshot.StatusFailed: 17, snapshot.StatusLost: 17}[run.Status]
	body := "run " + string(run.Status)
	if run.Error != "" {
		body += ": " + run.Error
	}
	if rec.severity != severity || rec.body != body || !rec.time.Equal(run.FinishedAt) || rec.observed.Before(rec.time) {
		t.Errorf("run %s: severity %d body %q time %s observed %s, want %d %q %s", run.ID, rec.severity, rec.body, rec.time,
			rec.observed, severity, body, run.FinishedAt)
	}
	// The span the record points at, as the receiver got it.
	wantSpan, service := "pink.execute", "pink-worker"
	switch run.Status {
	case snapshot.StatusLost:
		wantSpan, service = "pink.dispatch", "pink-scheduler"
	case snapshot.StatusCanceled:
		wantSpan, service = "pink.fire", "pink-scheduler"
	}
	if run.TraceID == "" || rec.traceID != run.TraceID || rec.service != service {
		t.Errorf("run %s: record trace %q from %q, want the run's trace %q from %s", run.ID, rec.traceID, rec.service, run.TraceID, service)
	}
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		var names []string
		for _, s := range otlp.get() {
			if s.traceID == rec.traceID && s.spanID == rec.spanID {
				return s.name == wantSpan && s.attrs["pink.snapshot_id"] == run.SnapshotID, fmt.Sprintf("span %s %v", s.name, s.attrs)
			}
			if s.traceID == rec.traceID {
				names = append(names, s.name)
			}
		}
		return false, fmt.Sprintf("run %s: no span %s of its trace %s (the trace has %s)", run.ID, rec.spanID, rec.traceID, strings.Join(names, ", "))
	})
}
