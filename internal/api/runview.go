package api

import (
	"encoding/json"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// snapshotView is a live snapshot as the API returns it: the stored record
// in the order of its fields, with times as apiTime and the retry policy's
// durations as pairs (etcd holds them as timeout_ns and retry_backoff_ns,
// which answers do not show).
type snapshotView struct {
	ID                  string           `json:"id"`
	Job                 string           `json:"job"`
	Group               string           `json:"group"`
	Target              string           `json:"target"`
	Params              json.RawMessage  `json:"params,omitempty"`
	Timeout             string           `json:"timeout"`
	TimeoutSeconds      float64          `json:"timeout_seconds"`
	Retries             int              `json:"retries"`
	RetryBackoff        string           `json:"retry_backoff"`
	RetryBackoffSeconds float64          `json:"retry_backoff_seconds"`
	Trigger             snapshot.Trigger `json:"trigger"`
	Attempt             int              `json:"attempt"`
	ShardIndex          int              `json:"shard_index"`
	ShardTotal          int              `json:"shard_total"`
	ScheduledAt         apiTime          `json:"scheduled_at"`
	CreatedAt           apiTime          `json:"created_at"`
	JobRevision         int64            `json:"job_revision"`
	TraceParent         string           `json:"traceparent,omitempty"`
	NotBefore           *apiTime         `json:"not_before,omitempty"`
	Pinned              bool             `json:"pinned,omitempty"`
	CancelRequested     bool             `json:"cancel_requested,omitempty"`
	WrittenAhead        bool             `json:"written_ahead,omitempty"`
	ClaimedAhead        bool             `json:"claimed_ahead,omitempty"`
	State               snapshot.State   `json:"state"`
	Client              string           `json:"client,omitempty"`
	DispatchedAt        *apiTime         `json:"dispatched_at,omitempty"`
	StartedAt           *apiTime         `json:"started_at,omitempty"`
	// PendingReason is set on a pending snapshot whose group has no live
	// worker, or none that runs its target; "" (absent) otherwise (see
	// targets.go).
	PendingReason string `json:"pending_reason,omitempty"`
}

func snapshotViewOf(s snapshot.Snapshot) snapshotView {
	return snapshotView{
		ID: s.ID, Job: s.Job, Group: s.Group, Target: s.Target, Params: s.Params,
		Timeout: s.Timeout.String(), TimeoutSeconds: s.Timeout.Seconds(), Retries: s.Retries,
		RetryBackoff: s.RetryBackoff.String(), RetryBackoffSeconds: s.RetryBackoff.Seconds(),
		Trigger: s.Trigger, Attempt: s.Attempt, ShardIndex: s.ShardIndex, ShardTotal: s.ShardTotal,
		ScheduledAt: apiTime(s.ScheduledAt), CreatedAt: apiTime(s.CreatedAt), JobRevision: s.JobRevision,
		TraceParent: s.TraceParent, NotBefore: timePtr(s.NotBefore), Pinned: s.Pinned, CancelRequested: s.CancelRequested, WrittenAhead: s.WrittenAhead,
		ClaimedAhead: s.ClaimedAhead,
		State:        s.State, Client: s.Client, DispatchedAt: timePtr(s.DispatchedAt), StartedAt: timePtr(s.StartedAt),
	}
}

// runView is a run as the API returns it: the stored record in the order
// of its fields, with times as apiTime and its duration as a pair. Every
// field is always present, null or empty when it does not apply, as in
// the record.
type runView struct {
	ID              string           `json:"id"`
	SnapshotID      string           `json:"snapshot_id"`
	Job             string           `json:"job"`
	Group           string           `json:"group"`
	Client          string           `json:"client"`
	Target          string           `json:"target"`
	Attempt         int              `json:"attempt"`
	ShardIndex      int              `json:"shard_index"`
	ShardTotal      int              `json:"shard_total"`
	Trigger         snapshot.Trigger `json:"trigger"`
	Status          snapshot.Status  `json:"status"`
	ScheduledAt     apiTime          `json:"scheduled_at"`
	DispatchedAt    *apiTime         `json:"dispatched_at"`
	StartedAt       *apiTime         `json:"started_at"`
	FinishedAt      apiTime          `json:"finished_at"`
	Duration        string           `json:"duration"`
	DurationSeconds float64          `json:"duration_seconds"`
	Output          string           `json:"output"`
	Error           string           `json:"error"`
	ErrorCode       string           `json:"error_code"`
	TraceID         string           `json:"trace_id"`
}

func runViewOf(r snapshot.Run) runView {
	return runView{
		ID: r.ID, SnapshotID: r.SnapshotID, Job: r.Job, Group: r.Group, Client: r.Client, Target: r.Target,
		Attempt: r.Attempt, ShardIndex: r.ShardIndex, ShardTotal: r.ShardTotal, Trigger: r.Trigger, Status: r.Status,
		ScheduledAt: apiTime(r.ScheduledAt), DispatchedAt: timePtr(r.DispatchedAt), StartedAt: timePtr(r.StartedAt),
		FinishedAt: apiTime(r.FinishedAt), Duration: secondsText(r.DurationSeconds), DurationSeconds: r.DurationSeconds,
		Output: r.Output, Error: r.Error, ErrorCode: r.ErrorCode, TraceID: r.TraceID,
	}
}

func runViews(runs []snapshot.Run) []runView {
	out := make([]runView, len(runs))
	for i, r := range runs {
		out[i] = runViewOf(r)
	}
	return out
}
