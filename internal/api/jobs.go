package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// nextFiresShown is how many upcoming fire times a job view lists.
const nextFiresShown = 5

// jobView is a job as the API returns it: the stored spec plus its next
// fire times in the job's time zone.
type jobView struct {
	job.Spec
	NextFires []time.Time `json:"next_fires"`
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

// unmaskedView is spec's view with its params as stored; answers go
// through viewFor, which masks them for the caller.
func (s *Server) unmaskedView(spec job.Spec) jobView {
	v := jobView{Spec: spec, NextFires: []time.Time{}}
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
		v.NextFires = sched.NextN(s.now(), nextFiresShown)
	}
	return v
}

// jobInput is the body of a create or replace. It accepts a jobView as
// read from the API, so "GET, edit, PUT" works; next_fires,
// schedule_text, last_run, schedule_change and warnings are ignored.
// Revision shadows the spec's, to tell an absent revision from 0.
type jobInput struct {
	job.Spec
	NextFires      json.RawMessage `json:"next_fires"`
	ScheduleText   json.RawMessage `json:"schedule_text"`
	LastRun        json.RawMessage `json:"last_run"`
	ScheduleChange json.RawMessage `json:"schedule_change"`
	Warnings       json.RawMessage `json:"warnings"`
	Revision       *int64          `json:"revision"`
}

// decodeJob reads and defaults a job body. A revision, when given, must be
// one the API returned (positive).
func decodeJob(r *http.Request) (job.Spec, error) {
	var in jobInput
	if err := decodeBody(r, &in); err != nil {
		return in.Spec, err
	}
	spec := in.Spec
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

func jobError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "job_not_found", "no such job")
	case errors.Is(err, store.ErrExists):
		return errorf(http.StatusConflict, "job_exists", "a job with this name exists; use PUT /api/v1/jobs/{name} to change it")
	case errors.Is(err, store.ErrRevisionMismatch):
		return errorf(http.StatusConflict, "revision_mismatch", "the job changed since you read it: read it again and retry with its current revision")
	}
	return err
}

// stamp is the server's time for created_at/updated_at.
func (s *Server) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Server) createJob(r *http.Request) (int, any, error) {
	spec, err := decodeJob(r)
	if err != nil {
		return 0, nil, err
	}
	if err := spec.Validate(); err != nil {
		return 0, nil, err
	}
	spec.CreatedAt, spec.UpdatedAt = s.stamp(), s.stamp()
	r = withTarget(r, spec.Name)
	out, err := s.st.CreateJob(r.Context(), spec)
	if err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job created", "job", out.Name, "group", out.Group, "schedule", out.Schedule)
	v := s.viewFor(r, out)
	v.Warnings = s.targetWarnings(r.Context(), out)
	return http.StatusCreated, v, nil
}

// listJobs lists jobs by name, a page at a time.
func (s *Server) getJob(r *http.Request) (int, any, error) {
	spec, err := s.pathJob(r)
	if err != nil {
		return 0, nil, err
	}
	v := s.viewFor(r, spec)
	last, err := s.st.LastOutcome(r.Context(), spec.Name)
	if err != nil {
		return 0, nil, err
	}
	v.LastRun = lastRunOf(last)
	return http.StatusOK, v, nil
}

// viewFor is the view of spec for the caller of r: with its
// credential-looking params masked unless the caller is an admin (who
// may change the job, and so may read what it holds).
func (s *Server) viewFor(r *http.Request, spec job.Spec) jobView {
	v := s.unmaskedView(spec)
	if !mayReadSecrets(r) {
		v.Params = job.RedactParams(v.Target, v.Params)
	}
	return v
}

// mayReadSecrets reports whether the caller of r may read credentials in
// params: admins only (and everyone on a loopback API without tokens).
func mayReadSecrets(r *http.Request) bool {
	return auth.IdentityFrom(r.Context()).Role >= auth.RoleAdmin
}

// pathJob reads the job named in the path.
func (s *Server) pathJob(r *http.Request) (job.Spec, error) {
	name, err := pathName(r, "name")
	if err != nil {
		return job.Spec{}, err
	}
	spec, err := s.st.GetJob(r.Context(), name)
	return spec, jobError(err)
}

// replaceJob replaces a job's spec. The body's revision, if set, must be
// the stored one. A changed schedule, time zone or a resume moves the
// schedule cursor to now: fires from before the change are not made up.
func (s *Server) replaceJob(r *http.Request) (int, any, error) {
	name, err := pathName(r, "name")
	if err != nil {
		return 0, nil, err
	}
	spec, err := decodeJob(r)
	if err != nil {
		return 0, nil, err
	}
	if spec.Name == "" {
		spec.Name = name
	}
	if spec.Name != name {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: "name_mismatch", Field: "name",
			Message: "the body's name differs from the URL's; a job cannot be renamed (create the new one, delete the old one)"}
	}
	if err := spec.Validate(); err != nil {
		return 0, nil, err
	}
	old, err := s.st.GetJob(r.Context(), name)
	if err != nil {
		return 0, nil, jobError(err)
	}
	expect := spec.Revision
	if expect == 0 {
		// Without a revision the update is last-writer-wins, but still
		// atomic against the version read here.
		expect = old.Revision
	}
	spec.CreatedAt, spec.UpdatedAt = old.CreatedAt, s.stamp()
	s.carryPause(r, old, &spec)
	out, err := s.st.UpdateJob(r.Context(), spec, old.Group, expect, s.cursorMove(old, spec))
	if err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job replaced", "job", out.Name, "revision", out.Revision)
	v := s.viewFor(r, out)
	v.Warnings = s.targetWarnings(r.Context(), out)
	return http.StatusOK, v, nil
}

// carryPause keeps the server-set pause fields through a replace: they stay
// while the job stays paused, are set when the replace pauses it, and are
// cleared when it resumes.
func (s *Server) carryPause(r *http.Request, old job.Spec, spec *job.Spec) {
	switch {
	case spec.Paused && old.Paused:
		spec.PausedBy, spec.PauseReason, spec.PausedUntil = old.PausedBy, old.PauseReason, old.PausedUntil
	case spec.Paused:
		spec.PausedBy, spec.PauseReason, spec.PausedUntil = auth.IdentityFrom(r.Context()).Name, reasonOf(r), nil
	default:
		spec.PausedBy, spec.PauseReason, spec.PausedUntil = "", "", nil
	}
}

// cursorMove says whether an update moves the job's cursor to now.
func (s *Server) cursorMove(old, updated job.Spec) time.Time {
	if old.Schedule != updated.Schedule || old.Timezone != updated.Timezone || (old.Paused && !updated.Paused) {
		return s.now()
	}
	return time.Time{}
}

func (s *Server) deleteJob(r *http.Request) (int, any, error) {
	name, err := pathName(r, "name")
	if err != nil {
		return 0, nil, err
	}
	if err := s.st.DeleteJob(r.Context(), name, s.now()); err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job deleted", "job", name)
	return http.StatusOK, map[string]any{"name": name, "deleted": true}, nil
}

// pauseInput is the optional body of POST .../pause.
type pauseInput struct {
	Reason string `json:"reason"`
	// Until resumes the job at that time: RFC 3339, or a duration from
	// now such as "2h".
	Until string `json:"until"`
}

// maxPause bounds paused_until.
const maxPause = 366 * 24 * time.Hour

func (s *Server) pauseJob(r *http.Request) (int, any, error) {
	var in pauseInput
	if err := decodeOptionalBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Reason == "" {
		in.Reason = reasonOf(r)
	}
	in.Reason = truncateReason(in.Reason)
	var until *time.Time
	if in.Until != "" {
		t, err := parseUntil(in.Until, s.now())
		if err != nil {
			return 0, nil, err
		}
		until = &t
	}
	if in.Reason != "" || until != nil {
		detail := ""
		if until != nil {
			detail = " until " + until.Format(time.RFC3339)
		}
		r = r.WithContext(audit.With(r.Context(), s.auditEntry(r, "job.pause", in.Reason+detail)))
	}
	return s.setPaused(r, true, func(spec *job.Spec) {
		spec.PausedBy, spec.PauseReason, spec.PausedUntil = auth.IdentityFrom(r.Context()).Name, in.Reason, until
	})
}

func (s *Server) resumeJob(r *http.Request) (int, any, error) {
	return s.setPaused(r, false, func(spec *job.Spec) {
		spec.PausedBy, spec.PauseReason, spec.PausedUntil = "", "", nil
	})
}

func parseUntil(v string, now time.Time) (time.Time, error) {
	bad := &Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: "until",
		Message: "until must be an RFC 3339 time in the future (2026-12-01T08:00:00Z) or a duration such as \"2h\", at most a year"}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		d, derr := time.ParseDuration(v)
		if derr != nil {
			return t, bad
		}
		t = now.Add(d)
	}
	if !t.After(now) || t.Sub(now) > maxPause {
		return t, bad
	}
	return t.UTC(), nil
}

// setPaused flips a job's paused flag with a compare on its revision,
// retrying if someone else changed the job meanwhile.
func (s *Server) setPaused(r *http.Request, paused bool, mark func(*job.Spec)) (int, any, error) {
	for range 5 {
		spec, err := s.pathJob(r)
		if err != nil {
			return 0, nil, err
		}
		if spec.Paused == paused && !paused {
			return http.StatusOK, s.viewFor(r, spec), nil
		}
		old := spec
		spec.Paused, spec.UpdatedAt = paused, s.stamp()
		mark(&spec)
		out, err := s.st.UpdateJob(r.Context(), spec, old.Group, old.Revision, s.cursorMove(old, spec))
		if errors.Is(err, store.ErrRevisionMismatch) {
			continue
		}
		if err != nil {
			return 0, nil, jobError(err)
		}
		s.log.Info("job paused state changed", "job", spec.Name, "paused", paused, "by", spec.PausedBy, "reason", spec.PauseReason)
		return http.StatusOK, s.viewFor(r, out), nil
	}
	return 0, nil, errorf(http.StatusConflict, "revision_mismatch", "the job keeps changing; retry")
}

// triggerJob makes a manual run now: a pending snapshot with its own id,
// dispatched by the leader like any other. A job whose concurrency is
// forbid refuses while a run of it is live, unless ?force=true.
func (s *Server) triggerJob(r *http.Request) (int, any, error) {
	spec, err := s.pathJob(r)
	if err != nil {
		return 0, nil, err
	}
	force, err := queryBool(r, "force")
	if err != nil {
		return 0, nil, err
	}
	now := s.now().UTC()
	snap := snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, now), snapshot.TriggerManual, now, now)
	shards := spec.Shards
	if spec.Strategy == job.StrategyBroadcast {
		clients, err := s.st.ListClients(r.Context(), spec.Group)
		if err != nil {
			return 0, nil, err
		}
		// One run per worker that the leader would give one to.
		shards = 0
		for _, c := range clients {
			if !c.Draining && c.Runs(spec.Target) {
				shards++
			}
		}
		shards = max(shards, 1)
	}
	snaps, sharded := snapshot.Split(snap, shards, now)
	err = s.st.CreatePending(r.Context(), snaps, sharded, spec.Concurrency == job.ConcurrencyForbid && !force)
	if errors.Is(err, store.ErrOverlap) {
		return 0, nil, s.forbidRefusal(r, spec)
	}
	if err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job triggered", "job", spec.Name, "snapshot_id", snap.ID)
	ids := make([]string, len(snaps))
	for i := range snaps {
		ids[i] = snaps[i].ID
	}
	return http.StatusAccepted, map[string]any{"snapshot_id": snap.ID, "snapshot_ids": ids, "job": spec.Name, "state": snapshot.StatePending}, nil
}
