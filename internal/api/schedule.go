package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Limits of the schedule routes.
const (
	maxPreview       = 100
	defaultPreview   = 10
	maxBackfillFires = 1000
)

// fireView is one upcoming fire: in the job's zone (the one time in
// answers that is not in UTC: a preview is there to show wall times), in
// UTC, its offset, and a note when daylight saving moved it (dst_gap) or
// its wall time occurs twice (dst_repeated).
type fireView struct {
	At        zonedTime `json:"at"`
	UTC       apiTime   `json:"utc"`
	UTCOffset string    `json:"utc_offset"`
	Note      string    `json:"note,omitempty"`
}

func fireViews(fires []job.Fire) []fireView {
	out := make([]fireView, 0, len(fires))
	for _, f := range fires {
		out = append(out, fireView{At: zonedTime(f.At), UTC: apiTime(f.At), UTCOffset: f.At.Format("-07:00"), Note: f.Note})
	}
	return out
}

func previewCount(r *http.Request) (int, error) {
	v := r.URL.Query().Get("n")
	if v == "" {
		return defaultPreview, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPreview {
		return 0, badParam("n", fmt.Sprintf("n must be an integer from 1 to %d", maxPreview))
	}
	return n, nil
}

// previewJob lists a job's next fires with their UTC offsets and DST notes.
func (s *Server) previewJob(r *http.Request) (int, any, error) {
	n, err := previewCount(r)
	if err != nil {
		return 0, nil, err
	}
	spec, err := s.pathJob(r)
	if err != nil {
		return 0, nil, err
	}
	sched, err := spec.ParsedSchedule()
	if err != nil {
		return 0, nil, err
	}
	fires := sched.Preview(s.now(), n)
	return http.StatusOK, withEndNote(map[string]any{"job": spec.Name, "schedule": spec.Schedule, "timezone": spec.Timezone,
		"paused": spec.Paused, "fires": fireViews(fires)}, len(fires), n), nil
}

// scheduleInput is the body of POST /api/v1/schedules/validate.
type scheduleInput struct {
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone"`
	N        int    `json:"n"`
}

// validateSchedule checks a cron expression and time zone without creating
// a job, and shows the fires it would make.
func (s *Server) validateSchedule(r *http.Request) (int, any, error) {
	var in scheduleInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.N == 0 {
		in.N = defaultPreview
	}
	if in.N < 1 || in.N > maxPreview {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "n", Message: fmt.Sprintf("n must be from 1 to %d", maxPreview)}
	}
	if _, err := job.LoadLocation(in.Timezone); err != nil {
		return 0, nil, &job.FieldError{Field: "timezone", Code: job.CodeInvalidTimezone, Message: err.Error()}
	}
	sched, err := job.ParseSchedule(in.Schedule, in.Timezone)
	if err != nil {
		return 0, nil, &job.FieldError{Field: "schedule", Code: job.CodeInvalidSchedule, Message: err.Error()}
	}
	tz := in.Timezone
	if tz == "" {
		tz = job.DefaultTimezone
	}
	fires := sched.Preview(s.now(), in.N)
	interval := sched.Interval(s.now())
	return http.StatusOK, withEndNote(map[string]any{"valid": true, "schedule": in.Schedule, "timezone": tz,
		"interval": interval.String(), "interval_seconds": interval.Seconds(), "fires": fireViews(fires)}, len(fires), in.N), nil
}

// withEndNote says, in a preview of fewer fires than asked for, that the
// schedule has no more of them before job.LastFire.
func withEndNote(preview map[string]any, got, asked int) map[string]any {
	if got < asked {
		preview["end"] = fmt.Sprintf("%d of %d fires: the schedule has no more before %s, the latest time pink represents",
			got, asked, job.LastFire.Format(time.RFC3339))
	}
	return preview
}

// backfillInput is the body of POST /api/v1/jobs/{name}/backfill.
type backfillInput struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// backfillJob runs every nominal fire of the job in [from, to] (at most
// 1000): the request is stored at once, and the leader turns it into
// snapshots oldest first, honoring the job's overlap policy.
func (s *Server) backfillJob(r *http.Request) (int, any, error) {
	var in backfillInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	spec, err := s.pathJob(r)
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	switch {
	case in.From.IsZero() || in.To.IsZero():
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "from", Message: "from and to are required (RFC 3339 times)"}
	case !in.To.After(in.From):
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "to", Message: "to must be after from"}
	case in.To.After(now):
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: job.CodeInvalidField, Field: "to", Message: "to must not be in the future: backfill runs past fires"}
	}
	sched, err := spec.ParsedSchedule()
	if err != nil {
		return 0, nil, err
	}
	var fires []time.Time
	for t := sched.Next(in.From.Add(-time.Nanosecond)); !t.IsZero() && !t.After(in.To); t = sched.Next(t) {
		if len(fires) == maxBackfillFires {
			return 0, nil, errorf(http.StatusBadRequest, "backfill_too_large",
				fmt.Sprintf("the range holds more than %d fires: split it into smaller ranges", maxBackfillFires))
		}
		fires = append(fires, t.UTC())
	}
	if len(fires) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, "no_fires_in_range", "the job's schedule has no fire in that range")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	bf := snapshot.Backfill{ID: hex.EncodeToString(b[:]), Job: spec.Name, Fires: fires,
		CreatedBy: auth.IdentityFrom(r.Context()).Name, CreatedAt: now.UTC()}
	ctx := r.Context()
	if in.Reason != "" {
		ctx = audit.With(ctx, s.auditEntry(r, "job.backfill", truncateReason(in.Reason)))
	}
	if err := s.st.CreateBackfill(ctx, bf); err != nil {
		return 0, nil, jobError(err)
	}
	s.log.Info("backfill requested", "job_name", spec.Name, "backfill_id", bf.ID, "fires", len(fires))
	return http.StatusAccepted, map[string]any{"backfill_id": bf.ID, "job": spec.Name, "fires": len(fires),
		"first": apiTime(fires[0]), "last": apiTime(fires[len(fires)-1])}, nil
}
