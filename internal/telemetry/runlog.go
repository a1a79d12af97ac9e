package telemetry

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// EventRun is the event name of the log record exported for every run
// written to history: etcd keeps a bounded window of runs, the user's log
// backend keeps these for as long as it is told to.
const EventRun = "pink.run"

// Attribute keys of a run's log record, besides pink.job, pink.group and
// pink.snapshot_id, which it shares with the spans (AttrJob, AttrGroup,
// AttrSnapshotID). Times are RFC 3339 strings in UTC with nanoseconds; the
// record's own timestamp is the run's finish.
const (
	LogAttrRunID           = attribute.Key("pink.run.id")
	LogAttrRunStatus       = attribute.Key("pink.run.status")
	LogAttrRunAttempt      = attribute.Key("pink.run.attempt")
	LogAttrRunTrigger      = attribute.Key("pink.run.trigger")
	LogAttrRunTarget       = attribute.Key("pink.run.target")
	LogAttrRunClient       = attribute.Key("pink.run.client")
	LogAttrRunScheduledAt  = attribute.Key("pink.run.scheduled_at")
	LogAttrRunDispatchedAt = attribute.Key("pink.run.dispatched_at")
	LogAttrRunStartedAt    = attribute.Key("pink.run.started_at")
	LogAttrRunDuration     = attribute.Key("pink.run.duration_seconds")
	LogAttrRunError        = attribute.Key("pink.run.error")
	LogAttrRunErrorCode    = attribute.Key("pink.run.error_code")
	LogAttrRunShardIndex   = attribute.Key("pink.run.shard_index")
	LogAttrRunShardTotal   = attribute.Key("pink.run.shard_total")
	LogAttrRunOutput       = attribute.Key("pink.run.output")
)

// MaxLogOutputBytes bounds a run's output (its end) and error (its start)
// in a log record. The worker exports the output it kept of the run
// (snapshot.MaxOutputBytes, already masked for secrets), more than the
// excerpt etcd holds: the log backend is where a run's whole story lives
// once etcd's bounded window has moved on.
const MaxLogOutputBytes = snapshot.MaxOutputBytes

// maxBodyBytes bounds the error text in a record's body, one line.
const maxBodyBytes = 200

// truncated marks where an excerpt was cut.
const truncated = "[... truncated ...]"

// RunSeverity is the severity of a run's record: INFO for a success, WARN
// for a run that was called off (canceled), ERROR for a failure (failed,
// timed out, lost); a status unknown to this build is WARN.
func RunSeverity(st snapshot.Status) log.Severity {
	switch st {
	case snapshot.StatusSucceeded:
		return log.SeverityInfo
	case snapshot.StatusFailed, snapshot.StatusTimedOut, snapshot.StatusLost:
		return log.SeverityError
	}
	return log.SeverityWarn
}

// RunRecord is the log record of the history row run, observed at
// observed. Attributes that do not apply to the run (no client, no error,
// not a shard, no target for a sharded fire's summary) are left out rather
// than sent empty.
func RunRecord(run snapshot.Run, observed time.Time) log.Record {
	var r log.Record
	r.SetEventName(EventRun)
	r.SetTimestamp(run.FinishedAt)
	r.SetObservedTimestamp(observed)
	sev := RunSeverity(run.Status)
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetBody(attribute.StringValue(runBody(run)))
	r.AddAttributes(
		AttrJob.String(run.Job), AttrGroup.String(run.Group), AttrSnapshotID.String(run.SnapshotID),
		LogAttrRunID.String(run.ID), LogAttrRunStatus.String(string(run.Status)), LogAttrRunAttempt.Int(run.Attempt),
		LogAttrRunTrigger.String(string(run.Trigger)), LogAttrRunScheduledAt.String(stamp(run.ScheduledAt)), LogAttrRunDuration.Float64(run.DurationSeconds))
	optional := []struct {
		key attribute.Key
		v   string
	}{
		{LogAttrRunTarget, run.Target}, {LogAttrRunClient, run.Client}, {LogAttrRunDispatchedAt, stampOf(run.DispatchedAt)}, {LogAttrRunStartedAt, stampOf(run.StartedAt)},
		{LogAttrRunError, headExcerpt(run.Error, MaxLogOutputBytes)}, {LogAttrRunErrorCode, run.ErrorCode},
		{LogAttrRunOutput, tailExcerpt(run.Output, MaxLogOutputBytes)},
	}
	for _, o := range optional {
		if o.v != "" {
			r.AddAttributes(o.key.String(o.v))
		}
	}
	if run.ShardTotal > 1 {
		r.AddAttributes(LogAttrRunShardIndex.Int(run.ShardIndex), LogAttrRunShardTotal.Int(run.ShardTotal))
	}
	return r
}

// runBody is the record's human text: "run succeeded", "run timed out:
// <first line of the error>".
func runBody(run snapshot.Run) string {
	body := "run " + strings.ReplaceAll(string(run.Status), "_", " ")
	if run.Error == "" {
		return body
	}
	line, _, more := strings.Cut(run.Error, "\n")
	if more || len(line) > maxBodyBytes {
		line = headExcerpt(line, maxBodyBytes)
		if !strings.HasSuffix(line, truncated) {
			line += " " + truncated
		}
	}
	return body + ": " + line
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func stampOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// headExcerpt is the start of s in at most max bytes, cut on a character
// boundary and marked.
func headExcerpt(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(truncated) - 1
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " " + truncated
}

// tailExcerpt is the end of s in at most max bytes (the end of a log is
// where the failure usually is), cut on a character boundary and marked.
func tailExcerpt(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := len(s) - (max - len(truncated) - 1)
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return truncated + "\n" + s[cut:]
}

// RunLog exports runs written to history as log records (event pink.run)
// through a LoggerProvider. With a provider that exports nothing (no OTLP
// logs configured) it builds no record at all.
type RunLog struct {
	logger log.Logger
	now    func() time.Time
}

// NewRunLog returns the run log of lp.
func NewRunLog(lp log.LoggerProvider) *RunLog {
	return &RunLog{logger: lp.Logger(instrumentation), now: time.Now}
}

// Emit exports run, recorded in history by the span in ctx (the worker's
// pink.execute): the record carries that span's trace and span ids.
func (l *RunLog) Emit(ctx context.Context, run snapshot.Run) {
	if !l.logger.Enabled(ctx, runParams(run.Status)) {
		return
	}
	l.logger.Emit(context.WithoutCancel(ctx), RunRecord(run, l.now()))
}

// runParams is what a logger is asked before a run's record is built.
func runParams(st snapshot.Status) log.EnabledParameters {
	return log.EnabledParameters{Severity: RunSeverity(st), EventName: EventRun}
}

// EmitFor exports run, recorded by a process that did not run it (the
// leader records a lost run, the API a canceled one): the record carries
// the span of traceParent, the snapshot's, or else the span in ctx.
func (l *RunLog) EmitFor(ctx context.Context, run snapshot.Run, traceParent string) {
	if sc := SpanContextOf(traceParent); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	l.Emit(ctx, run)
}
