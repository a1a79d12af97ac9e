// Package job defines pink's Job spec: its fields, defaults, validation and
// schedule evaluation. It is pure: no etcd, no I/O.
package job

import (
	"encoding/json"
	"time"
)

// Concurrency says what happens when a job fires while an earlier run of it
// is still scheduled or in flight anywhere in the cluster.
type Concurrency string

// Overlap policies.
const (
	ConcurrencyAllow   Concurrency = "allow"   // start the new run alongside the old one
	ConcurrencyForbid  Concurrency = "forbid"  // skip the new fire and count it
	ConcurrencyReplace Concurrency = "replace" // cancel the old run, then start the new one
)

// Misfire says what a (new) leader does with fires that were due while no
// leader could write them.
type Misfire string

// Misfire policies.
const (
	MisfireRunOnce Misfire = "run_once" // collapse all missed fires into one run
	MisfireSkip    Misfire = "skip"     // count the missed fires, run none
	MisfireRunAll  Misfire = "run_all"  // run each missed fire inside catchup_window, oldest first
)

// Strategy names how the leader picks the client that runs a snapshot.
type Strategy string

// Allocation strategies.
const (
	StrategyRoundRobin  Strategy = "round_robin"
	StrategyRandom      Strategy = "random"
	StrategyLeastLoaded Strategy = "least_loaded"
	StrategyHash        Strategy = "hash"
	StrategyBroadcast   Strategy = "broadcast"
)

// Defaults applied to fields left empty.
const (
	DefaultTimeout       = Duration(time.Hour)
	DefaultRetryBackoff  = Duration(10 * time.Second)
	DefaultCatchupWindow = Duration(time.Hour)
	DefaultTimezone      = "UTC"
)

// Spec is a job as users write it and as it is stored. The JSON names are
// the API's names.
type Spec struct {
	Name          string            `json:"name"`
	Group         string            `json:"group"`
	Schedule      string            `json:"schedule"`
	Timezone      string            `json:"timezone,omitempty"`
	Target        string            `json:"target"`
	Params        json.RawMessage   `json:"params,omitempty"`
	Timeout       Duration          `json:"timeout,omitempty"`
	Retries       int               `json:"retries"`
	RetryBackoff  Duration          `json:"retry_backoff,omitempty"`
	Concurrency   Concurrency       `json:"concurrency,omitempty"`
	Misfire       Misfire           `json:"misfire,omitempty"`
	CatchupWindow Duration          `json:"catchup_window,omitempty"`
	Strategy      Strategy          `json:"strategy,omitempty"`
	Shards        int               `json:"shards,omitempty"`
	Paused        bool              `json:"paused"`
	Labels        map[string]string `json:"labels,omitempty"`
	Description   string            `json:"description,omitempty"`
	// HistoryLimit is how many runs of the job history keeps (0: the
	// scheduler's --history-limit).
	HistoryLimit int `json:"history_limit,omitempty"`

	// Server-set while paused: who paused the job, why, and until when (the
	// leader resumes it then).
	PausedBy    string     `json:"paused_by,omitempty"`
	PauseReason string     `json:"pause_reason,omitempty"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`

	// Server-set. Revision is the etcd mod revision of the stored spec; a
	// client sends it back on update for optimistic concurrency.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Revision  int64     `json:"revision,omitempty"`
}

// ApplyDefaults fills empty optional fields with their defaults.
func (s *Spec) ApplyDefaults() {
	if s.Timezone == "" {
		s.Timezone = DefaultTimezone
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.RetryBackoff == 0 {
		s.RetryBackoff = DefaultRetryBackoff
	}
	if s.Concurrency == "" {
		s.Concurrency = ConcurrencyAllow
	}
	if s.Misfire == "" {
		s.Misfire = MisfireRunOnce
	}
	if s.CatchupWindow == 0 {
		s.CatchupWindow = DefaultCatchupWindow
	}
	if s.Strategy == "" {
		s.Strategy = StrategyRoundRobin
	}
	if s.Shards == 0 {
		s.Shards = 1
	}
	if len(s.Params) == 0 || string(s.Params) == "null" {
		s.Params = json.RawMessage("{}")
	}
}

// ParsedSchedule parses the spec's schedule in its time zone as stored
// (ParseStoredSchedule); Validate holds new specs to ParseSchedule.
func (s *Spec) ParsedSchedule() (*Schedule, error) {
	return ParseStoredSchedule(s.Schedule, s.Timezone)
}
