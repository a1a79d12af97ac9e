package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
)

// nextFiresShown is how many upcoming fire times a job view lists.
const nextFiresShown = 5

// jobView is a job as the API returns it: the stored spec in the order of
// its fields (times as apiTime, each duration as a pair, see wire.go), its
// next fire times, and what the API adds.
type jobView struct {
	Name                 string            `json:"name"`
	Group                string            `json:"group"`
	Schedule             string            `json:"schedule"`
	Timezone             string            `json:"timezone,omitempty"`
	Target               string            `json:"target"`
	Params               json.RawMessage   `json:"params,omitempty"`
	Timeout              string            `json:"timeout,omitempty"`
	TimeoutSeconds       float64           `json:"timeout_seconds,omitempty"`
	Retries              int               `json:"retries"`
	RetryBackoff         string            `json:"retry_backoff,omitempty"`
	RetryBackoffSeconds  float64           `json:"retry_backoff_seconds,omitempty"`
	Concurrency          job.Concurrency   `json:"concurrency,omitempty"`
	Misfire              job.Misfire       `json:"misfire,omitempty"`
	CatchupWindow        string            `json:"catchup_window,omitempty"`
	CatchupWindowSeconds float64           `json:"catchup_window_seconds,omitempty"`
	Strategy             job.Strategy      `json:"strategy,omitempty"`
	Shards               int               `json:"shards,omitempty"`
	Paused               bool              `json:"paused"`
	Labels               map[string]string `json:"labels,omitempty"`
	Description          string            `json:"description,omitempty"`
	HistoryLimit         int               `json:"history_limit,omitempty"`
	PausedBy             string            `json:"paused_by,omitempty"`
	PauseReason          string            `json:"pause_reason,omitempty"`
	PausedUntil          *apiTime          `json:"paused_until,omitempty"`
	CreatedAt            apiTime           `json:"created_at"`
	UpdatedAt            apiTime           `json:"updated_at"`
	Revision             int64             `json:"revision,omitempty"`

	// NextFires are the next fire times (in UTC, as every time: the
	// preview shows them in the job's zone).
	NextFires []apiTime `json:"next_fires"`
	// ScheduleText reads the schedule in English with its zone; absent
	// when the expression has no short reading.
	ScheduleText string `json:"schedule_text,omitempty"`
	// LastRun is the job's latest finished run's outcome, when history
	// has one (lists and single reads carry it).
	LastRun *lastRun `json:"last_run,omitempty"`
	// ScheduleChange is set on a job written before pink read schedules
	// as crontab(5) does whose fires moved (see GET /schedules/changes).
	ScheduleChange *scheduleChange `json:"schedule_change,omitempty"`
	// Warnings, only in the answer to a create or replace, say what will
	// not work as the job stands although it was written (no live worker
	// of its group runs its target); absent when there is nothing to say.
	Warnings []string `json:"warnings,omitempty"`
}

// specView is the part of a job view that is the stored spec.
func specView(s job.Spec) jobView {
	return jobView{
		Name: s.Name, Group: s.Group, Schedule: s.Schedule, Timezone: s.Timezone, Target: s.Target, Params: s.Params,
		Timeout: durationText(s.Timeout.Std()), TimeoutSeconds: s.Timeout.Std().Seconds(), Retries: s.Retries,
		RetryBackoff: durationText(s.RetryBackoff.Std()), RetryBackoffSeconds: s.RetryBackoff.Std().Seconds(),
		Concurrency: s.Concurrency, Misfire: s.Misfire,
		CatchupWindow: durationText(s.CatchupWindow.Std()), CatchupWindowSeconds: s.CatchupWindow.Std().Seconds(),
		Strategy: s.Strategy, Shards: s.Shards, Paused: s.Paused, Labels: s.Labels, Description: s.Description,
		HistoryLimit: s.HistoryLimit, PausedBy: s.PausedBy, PauseReason: s.PauseReason, PausedUntil: timePtr(s.PausedUntil),
		CreatedAt: apiTime(s.CreatedAt), UpdatedAt: apiTime(s.UpdatedAt), Revision: s.Revision,
		NextFires: []apiTime{},
	}
}

// unmaskedViewFrom is spec's view with its params as stored (answers go
// through viewFor, which masks them for the caller) and next_fires counted
// from `from`: a write that just set the job's cursor passes the time it set, so the
// answer names the fire the leader will run first even when the write
// crossed a second boundary (the cursor is that time, not the moment the
// answer is built).
func (s *Server) unmaskedViewFrom(spec job.Spec, from time.Time) jobView {
	v := specView(spec)
	sched, err := spec.ParsedSchedule()
	if err != nil {
		return v
	}
	v.ScheduleText = sched.Describe()
	if c, ok := s.scheduleChangeOf(spec, sched, s.cronRulesSince()); ok {
		v.ScheduleChange = c
	}
	if !spec.Paused {
		// @every counts from the job's cursor, which the API does not read
		// for a view; from now is the same up to one interval.
		v.NextFires = times(sched.NextN(from, nextFiresShown))
	}
	return v
}

// viewFor is the view of spec for the caller of r: with its
// credential-looking params masked unless the caller is an admin (who
// may change the job, and so may read what it holds).
func (s *Server) viewFor(r *http.Request, spec job.Spec) jobView {
	return s.viewFrom(r, spec, s.now())
}

// viewFrom is viewFor with next_fires counted from `from` (see
// unmaskedViewFrom).
func (s *Server) viewFrom(r *http.Request, spec job.Spec, from time.Time) jobView {
	v := s.unmaskedViewFrom(spec, from)
	if !mayReadSecrets(r) {
		v.Params = job.RedactParams(v.Target, v.Params)
	}
	return v
}

// jobInput is the body of a create or replace. It accepts a jobView as
// read from the API, so "GET, edit, PUT" works; next_fires,
// schedule_text, last_run, schedule_change and warnings are ignored. Revision
// shadows the spec's, to tell an absent revision from 0; the durations
// shadow the spec's to tell an absent one from "0s", and each may come as
// <name>_seconds instead (see durinput.go).
type jobInput struct {
	job.Spec
	Timeout              *job.Duration   `json:"timeout"`
	TimeoutSeconds       *float64        `json:"timeout_seconds"`
	RetryBackoff         *job.Duration   `json:"retry_backoff"`
	RetryBackoffSeconds  *float64        `json:"retry_backoff_seconds"`
	CatchupWindow        *job.Duration   `json:"catchup_window"`
	CatchupWindowSeconds *float64        `json:"catchup_window_seconds"`
	NextFires            json.RawMessage `json:"next_fires"`
	ScheduleText         json.RawMessage `json:"schedule_text"`
	LastRun              json.RawMessage `json:"last_run"`
	ScheduleChange       json.RawMessage `json:"schedule_change"`
	Warnings             json.RawMessage `json:"warnings"`
	Revision             *int64          `json:"revision"`
}

// decodeJob reads and defaults a job body. A revision, when given, must be
// one the API returned (positive).
func decodeJob(r *http.Request) (job.Spec, error) {
	var in jobInput
	if err := decodeBody(r, &in); err != nil {
		return in.Spec, err
	}
	spec := in.Spec
	for _, d := range []struct {
		name    string
		text    *job.Duration
		seconds *float64
		into    *job.Duration
	}{
		{"timeout", in.Timeout, in.TimeoutSeconds, &spec.Timeout},
		{"retry_backoff", in.RetryBackoff, in.RetryBackoffSeconds, &spec.RetryBackoff},
		{"catchup_window", in.CatchupWindow, in.CatchupWindowSeconds, &spec.CatchupWindow},
	} {
		v, ok, err := pairedDuration(d.name, (*time.Duration)(d.text), d.seconds)
		if err != nil {
			return spec, err
		}
		if ok {
			*d.into = job.Duration(v)
		}
	}
	if in.Revision != nil {
		if *in.Revision <= 0 {
			return spec, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "revision",
				Message: "revision must be the revision of the job as read from the API; leave it out for an unconditional update"}
		}
		spec.Revision = *in.Revision
	}
	spec.ApplyDefaults()
	return spec, nil
}
