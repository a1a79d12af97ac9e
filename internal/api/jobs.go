package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

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
	now := s.stamp()
	spec.CreatedAt, spec.UpdatedAt = now, now
	r = withTarget(r, spec.Name)
	out, err := s.st.CreateJob(r.Context(), spec)
	if err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job created", "job_name", out.Name, "group", out.Group, "schedule", out.Schedule)
	// The cursor starts at created_at: the first fire is the first after it.
	v := s.viewFrom(r, out, out.CreatedAt)
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
	moved := s.cursorMove(old, spec)
	out, err := s.st.UpdateJob(r.Context(), spec, old.Group, expect, moved)
	if err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job replaced", "job_name", out.Name, "revision", out.Revision)
	v := s.viewFrom(r, out, s.firesFrom(moved))
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

// firesFrom is where an answer after a write counts next_fires from: the
// time the write moved the cursor to, or now when it left it.
func (s *Server) firesFrom(moved time.Time) time.Time {
	if moved.IsZero() {
		return s.now()
	}
	return moved
}

func (s *Server) deleteJob(r *http.Request) (int, any, error) {
	name, err := pathName(r, "name")
	if err != nil {
		return 0, nil, err
	}
	if err := s.st.DeleteJob(r.Context(), name, s.now()); err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("job deleted", "job_name", name)
	return http.StatusOK, map[string]any{"name": name, "deleted": true}, nil
}

// pauseInput is the optional body of POST .../pause.
type pauseInput struct {
	Reason string `json:"reason"`
	// Until resumes the job at that time: RFC 3339, or a duration from
	// now such as "2h"; UntilSeconds is that duration as a number.
	Until        string   `json:"until"`
	UntilSeconds *float64 `json:"until_seconds"`
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
	if in.Until != "" || in.UntilSeconds != nil {
		t, err := parseUntil(in, s.now())
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

// parseUntil reads when a pause ends: until, an RFC 3339 time or a
// duration from now, and/or until_seconds, the duration as a number.
func parseUntil(in pauseInput, now time.Time) (time.Time, error) {
	bad := &Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: "until",
		Message: "until must be an RFC 3339 time in the future (2026-12-01T08:00:00Z) or a duration such as \"2h\" (until_seconds: 7200), at most a year"}
	var text *time.Duration
	t, err := time.Parse(time.RFC3339, in.Until)
	if in.Until != "" && err != nil {
		d, derr := time.ParseDuration(in.Until)
		if derr != nil {
			return t, bad
		}
		text = &d
	}
	if in.Until != "" && text == nil && in.UntilSeconds != nil {
		return t, conflict("until", in.Until, *in.UntilSeconds)
	}
	d, ok, err := pairedDuration("until", text, in.UntilSeconds)
	if err != nil {
		return t, err
	}
	if ok {
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
		moved := s.cursorMove(old, spec)
		out, err := s.st.UpdateJob(r.Context(), spec, old.Group, old.Revision, moved)
		if errors.Is(err, store.ErrRevisionMismatch) {
			continue
		}
		if err != nil {
			return 0, nil, jobError(err)
		}
		s.log.Info("job paused state changed", "job_name", spec.Name, "paused", paused, "by", spec.PausedBy, "reason", spec.PauseReason)
		return http.StatusOK, s.viewFrom(r, out, s.firesFrom(moved)), nil
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
	s.log.Info("job triggered", "job_name", spec.Name, "snapshot_id", snap.ID, "snapshots", len(snaps))
	return http.StatusAccepted, triggeredOf(spec.Name, snaps), nil
}

// triggered is the answer of a trigger: the id of the one snapshot it made
// (snapshot_id), or, when the job fired several (shards, broadcast), their
// ids (snapshot_ids) — never both, so a script reads one field.
type triggered struct {
	SnapshotID  string         `json:"snapshot_id,omitempty"`
	SnapshotIDs []string       `json:"snapshot_ids,omitempty"`
	Job         string         `json:"job"`
	State       snapshot.State `json:"state"`
}

func triggeredOf(jobName string, snaps []snapshot.Snapshot) triggered {
	out := triggered{Job: jobName, State: snapshot.StatePending}
	if len(snaps) == 1 {
		out.SnapshotID = snaps[0].ID
		return out
	}
	for _, sn := range snaps {
		out.SnapshotIDs = append(out.SnapshotIDs, sn.ID)
	}
	return out
}
