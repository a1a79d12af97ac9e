// Package snapshot defines the records of a job's runs: the Snapshot (one
// fire of a job, from scheduling until it finishes) and the Run (the final
// result of one attempt, kept in history), their states and their ids.
package snapshot

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
)

// State is where a live snapshot is in its life.
type State string

// Live states. A snapshot leaves etcd's live keys when it finishes; its
// outcome is then a Run with a Status.
const (
	StatePending    State = "pending"    // written, no client assigned yet
	StateDispatched State = "dispatched" // assigned to a client, not started
	StateRunning    State = "running"    // claimed by its client, executing
)

// Status is the outcome of one attempt.
type Status string

// Final statuses.
const (
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusTimedOut  Status = "timed_out"
	StatusCanceled  Status = "canceled"
	StatusLost      Status = "lost" // its client died while running it
)

// Final reports whether no further attempt follows a run with this status
// and attempt under the snapshot's retry policy.
func (s *Snapshot) Final(st Status) bool {
	switch st {
	case StatusFailed, StatusTimedOut, StatusLost:
		return s.Attempt > s.Retries || s.Pinned
	}
	return true
}

// Snapshot is one fire of a job on its way to a result. It carries
// everything the worker needs, so later edits of the job do not change a run
// that is already scheduled.
type Snapshot struct {
	ID      string          `json:"id"`
	Job     string          `json:"job"`
	Group   string          `json:"group"`
	Target  string          `json:"target"`
	Params  json.RawMessage `json:"params,omitempty"`
	Timeout time.Duration   `json:"timeout_ns"`
	// Retries and RetryBackoff are the job's retry policy when it fired.
	Retries      int           `json:"retries"`
	RetryBackoff time.Duration `json:"retry_backoff_ns"`
	Trigger      Trigger       `json:"trigger"`
	Attempt      int           `json:"attempt"`
	ShardIndex   int           `json:"shard_index"`
	ShardTotal   int           `json:"shard_total"`
	ScheduledAt  time.Time     `json:"scheduled_at"`
	CreatedAt    time.Time     `json:"created_at"`
	JobRevision  int64         `json:"job_revision"`
	TraceParent  string        `json:"traceparent,omitempty"`

	// NotBefore delays the dispatch of a pending retry (its backoff).
	NotBefore *time.Time `json:"not_before,omitempty"`
	// Pinned snapshots belong to one client (broadcast): when that client
	// dies they are not moved to another one.
	Pinned bool `json:"pinned,omitempty"`
	// WrittenAhead marks a fire the leader wrote before its nominal time
	// (lookahead): its client starts it at ScheduledAt by its own clock,
	// and only while the job is still at JobRevision; a fire whose job
	// changed meanwhile is taken back by the leader and decided again.
	WrittenAhead bool `json:"written_ahead,omitempty"`
	// ClaimedAhead marks a fire written ahead that its client claimed
	// before its nominal time (state running, StartedAt its nominal time):
	// the client starts it then, once its start mark (the store's
	// StartAhead) reaches that time while the job is still at JobRevision.
	// Until then the leader may still take it back or move it.
	ClaimedAhead bool `json:"claimed_ahead,omitempty"`
	// CancelRequested asks the running client to stop (overlap policy
	// replace); the run then ends as canceled.
	CancelRequested bool `json:"cancel_requested,omitempty"`

	State  State  `json:"state"`
	Client string `json:"client,omitempty"`
	// DispatchedAt is when this attempt was first assigned to a client; a
	// snapshot moved back to pending by a failover keeps it.
	DispatchedAt *time.Time `json:"dispatched_at,omitempty"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
}

// Run is the final record of one attempt of a snapshot, kept in history.
// Every field is always present in its JSON, null or empty when it does not
// apply (a run canceled before dispatch has no client), so scripts can rely
// on the shape.
type Run struct {
	ID              string     `json:"id"`
	SnapshotID      string     `json:"snapshot_id"`
	Job             string     `json:"job"`
	Group           string     `json:"group"`
	Client          string     `json:"client"`
	Target          string     `json:"target"`
	Attempt         int        `json:"attempt"`
	ShardIndex      int        `json:"shard_index"`
	ShardTotal      int        `json:"shard_total"`
	Trigger         Trigger    `json:"trigger"`
	Status          Status     `json:"status"`
	ScheduledAt     time.Time  `json:"scheduled_at"`
	DispatchedAt    *time.Time `json:"dispatched_at"`
	StartedAt       *time.Time `json:"started_at"`
	FinishedAt      time.Time  `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`
	Output          string     `json:"output"`
	Error           string     `json:"error"`
	// ErrorCode is a stable code for scripts when the worker knows why a
	// run failed (egress_denied, secret_missing), else "".
	ErrorCode string `json:"error_code"`
	TraceID   string `json:"trace_id"`
}

// MaxOutputBytes bounds the output a worker keeps of one run: it goes
// whole into the run's log record; etcd keeps an Excerpt.
const MaxOutputBytes = 64 << 10

// Finish turns the snapshot into the Run of its current attempt, as etcd
// keeps it: with excerpts of the output and the error text.
func (s *Snapshot) Finish(status Status, output, errText string, finished time.Time) Run {
	r := Run{
		ID:           RunID(s.ID, s.Attempt),
		SnapshotID:   s.ID,
		Job:          s.Job,
		Group:        s.Group,
		Client:       s.Client,
		Target:       s.Target,
		Attempt:      s.Attempt,
		ShardIndex:   s.ShardIndex,
		ShardTotal:   s.ShardTotal,
		Trigger:      s.Trigger,
		Status:       status,
		ScheduledAt:  s.ScheduledAt,
		DispatchedAt: s.DispatchedAt,
		StartedAt:    s.StartedAt,
		FinishedAt:   finished.UTC(),
		Output:       Excerpt(output, MaxStoredOutputBytes),
		Error:        Excerpt(errText, MaxStoredErrorBytes),
		TraceID:      TraceIDOf(s.TraceParent),
	}
	if s.StartedAt != nil {
		r.DurationSeconds = finished.Sub(*s.StartedAt).Seconds()
	}
	return r
}

// TruncateOutput keeps the last MaxOutputBytes of s (the end of a log is
// where the failure usually is) and marks the cut.
func TruncateOutput(s string) string {
	if len(s) <= MaxOutputBytes {
		return s
	}
	const marker = "[... truncated ...]\n"
	return marker + s[len(s)-(MaxOutputBytes-len(marker)):]
}

// MaxRetryDelay caps the exponential backoff between attempts.
const MaxRetryDelay = time.Hour

// NextAttempt returns the snapshot of the attempt after this one, due
// after the retry backoff (exponential in the attempt number, capped, with
// jitter in [delay/2, delay] so a fleet of failures does not retry in
// lockstep), or nil when no retries are left. jitter is a number in [0, 1).
func (s *Snapshot) NextAttempt(trigger Trigger, now time.Time, jitter float64) *Snapshot {
	if s.Attempt > s.Retries || s.Pinned {
		return nil
	}
	n := *s
	n.Attempt++
	n.Trigger = trigger
	n.CreatedAt = now.UTC()
	n.State, n.Client, n.DispatchedAt, n.StartedAt, n.NotBefore, n.CancelRequested = StatePending, "", nil, nil, nil, false
	// A later attempt is no longer ahead of anything: it runs as the
	// attempt before it did, even if the job is edited meanwhile.
	n.WrittenAhead, n.ClaimedAhead = false, false
	if trigger == TriggerRetry && s.RetryBackoff > 0 {
		delay := s.RetryBackoff
		for i := 1; i < s.Attempt && delay < MaxRetryDelay; i++ {
			delay *= 2
		}
		delay = min(delay, max(MaxRetryDelay, s.RetryBackoff))
		delay = delay/2 + time.Duration(jitter*float64(delay/2))
		at := now.Add(delay).UTC()
		n.NotBefore = &at
	}
	return &n
}

// ForJob builds the first attempt of a snapshot of spec, fired for the
// nominal time scheduledAt. It copies what the run needs from the spec, so
// that later edits of the job leave it alone.
func ForJob(spec *job.Spec, id string, trigger Trigger, scheduledAt, now time.Time) Snapshot {
	return Snapshot{
		ID: id, Job: spec.Name, Group: spec.Group, Target: spec.Target, Params: spec.Params,
		Timeout: spec.Timeout.Std(), Retries: spec.Retries, RetryBackoff: spec.RetryBackoff.Std(),
		Trigger: trigger, Attempt: 1, ShardIndex: 0, ShardTotal: 1,
		ScheduledAt: scheduledAt.UTC(), CreatedAt: now.UTC(), JobRevision: spec.Revision,
	}
}

// TraceIDOf returns the trace id of a W3C traceparent
// ("00-<trace id>-<span id>-<flags>"), or "" if tp is not one.
func TraceIDOf(tp string) string {
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || len(parts[1]) != 32 || strings.Trim(parts[1], "0") == "" {
		return ""
	}
	return parts[1]
}
