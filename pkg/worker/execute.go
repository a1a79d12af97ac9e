package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// reportTimeout bounds one attempt to write a claim or a result. A healthy
// etcd answers in milliseconds; an attempt that hangs went to a member that
// died, froze or lost its leader, and the next attempt, sent at once, goes
// to one that answers (see retry). etcd elects a new leader in about a
// second, so a claim waits about that long, not a 5 s timeout per try.
const reportTimeout = time.Second

// execute runs the claimed snapshot l (claimRev is its claim's revision)
// and reports the result, all inside the pink.execute span, which continues
// the trace of the snapshot's fire. It calls freeSlot when the handler has
// returned: the slot bounds handlers, not results being written.
func (w *Worker) execute(runCtx context.Context, log *slog.Logger, me cluster.Client, l *snapshot.Live, claimRev int64, freeSlot func()) {
	log = log.With("snapshot_id", l.ID, "job_name", l.Job, "attempt", l.Attempt)
	ctx, span := w.tracer.Start(telemetry.WithTraceParent(runCtx, l.TraceParent), telemetry.SpanExecute,
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
			telemetry.AttrJob.String(l.Job), telemetry.AttrGroup.String(l.Group), telemetry.AttrSnapshotID.String(l.ID),
			telemetry.AttrAttempt.Int(l.Attempt), telemetry.AttrClient.String(me.ID), telemetry.AttrTrigger.String(string(l.Trigger)),
			telemetry.AttrScheduledAt.String(l.ScheduledAt.Format(time.RFC3339)), telemetry.AttrTarget.String(l.Target),
			telemetry.AttrShardIndex.Int(l.ShardIndex), telemetry.AttrShardTotal.Int(l.ShardTotal)))
	defer span.End()
	started := time.Now()
	snap := l.Snapshot
	snap.State, snap.StartedAt = snapshot.StateRunning, &started
	if snap.DispatchedAt != nil {
		// Queue time counts from when the run could start: a fire written
		// ahead waits for its nominal time first.
		from := *snap.DispatchedAt
		if snap.ScheduledAt.After(from) {
			from = snap.ScheduledAt
		}
		w.metrics.Started(started.Sub(from))
	}
	taskCtx, cancelTask := context.WithCancelCause(ctx)
	w.mu.Lock()
	w.cancels[snap.ID] = runCancel{cancel: cancelTask, ctx: ctx, job: snap.Job}
	w.mu.Unlock()
	w.setRunning(+1)
	output, status, errText, errCode := w.invoke(taskCtx, me, &snap)
	w.setRunning(-1)
	freeSlot()
	w.mu.Lock()
	delete(w.cancels, snap.ID)
	w.mu.Unlock()
	cancelTask(nil)
	if runCtx.Err() != nil {
		// Canceled by the drain deadline: left running, so that the leader
		// records it lost and retries it once this registration ends.
		log.WarnContext(ctx, "run interrupted by shutdown; the leader will retry it")
		span.SetAttributes(telemetry.AttrStatus.String("interrupted"))
		return
	}
	span.SetAttributes(telemetry.AttrStatus.String(string(status)))
	if status != snapshot.StatusSucceeded {
		span.SetStatus(codes.Error, errText)
	}
	finished := time.Now()
	run := snap.Finish(status, output, errText, finished)
	if len(errCode) > snapshot.MaxErrorCodeBytes {
		errCode = strings.ToValidUTF8(errCode[:snapshot.MaxErrorCodeBytes], "")
	}
	run.ErrorCode = errCode
	next := w.retryOf(span, &snap, status, finished)
	_, report := w.tracer.Start(ctx, telemetry.SpanReport)
	err := w.record(runCtx, me, store.Completion{ClaimRev: claimRev, Run: run, Retry: next})
	traceID := ""
	if sc := span.SpanContext(); sc.IsValid() {
		traceID = sc.TraceID().String()
	}
	w.metrics.Finished(snap.Job, snap.Group, string(status), finished.Sub(started), traceID)
	w.tellReported(me, &snap, err)
	switch {
	case errors.Is(err, store.ErrConflict):
		w.metrics.Refused(snap.Group)
		report.SetAttributes(attribute.String("pink.outcome", "refused"))
		log.WarnContext(ctx, "result refused: the run was moved or canceled while it ran", "status", status)
	case err != nil:
		report.SetStatus(codes.Error, err.Error())
		log.ErrorContext(ctx, "could not record result", "status", status, "err", err)
	default:
		report.SetAttributes(attribute.String("pink.outcome", "recorded"))
		logOutcome(ctx, log, run, next != nil)
		// In history now: the log backend gets the run too, with the
		// output and error the worker kept, not only etcd's excerpts.
		logged := run
		logged.Output, logged.Error = output, errText
		w.runLog.Emit(ctx, logged)
	}
	report.End()
}

// retryOf is the next attempt of a failed or timed-out run, if retries are
// left, or nil. The retry starts a new trace (its pink.retry span) that
// links to this attempt's span.
func (w *Worker) retryOf(span trace.Span, snap *snapshot.Snapshot, status snapshot.Status, finished time.Time) *snapshot.Snapshot {
	if status != snapshot.StatusFailed && status != snapshot.StatusTimedOut {
		return nil
	}
	next := snap.NextAttempt(snapshot.TriggerRetry, finished, rand.Float64())
	if next == nil {
		return nil
	}
	rctx, rspan := w.tracer.Start(context.Background(), telemetry.SpanRetry, trace.WithNewRoot(),
		trace.WithLinks(trace.Link{SpanContext: span.SpanContext(),
			Attributes: []attribute.KeyValue{attribute.String("pink.link", "previous_attempt")}}),
		trace.WithAttributes(telemetry.SnapshotAttrs(next.Job, next.Group, next.ID, next.Attempt, string(next.Trigger),
			next.ScheduledAt, next.Target, next.ShardIndex, next.ShardTotal)...))
	next.TraceParent = telemetry.TraceParent(rctx)
	rspan.End()
	return next
}

// CodedError is an error a handler may return to give its run a stable
// error code (Run.ErrorCode) that scripts and alerts can match, beside the
// message.
type CodedError interface {
	error
	ErrorCode() string
}

// invoke runs the handler under the snapshot's timeout and turns its outcome
// into a status. A panicking handler fails its run, not the worker.
func (w *Worker) invoke(runCtx context.Context, me cluster.Client, snap *snapshot.Snapshot) (output string, status snapshot.Status, errText, errCode string) {
	h, ok := w.handler(snap.Target)
	if !ok {
		return "", snapshot.StatusFailed, fmt.Sprintf("no handler for target %q on client %s (it runs: %s)",
			snap.Target, me.ID, strings.Join(w.targets(), ", ")), "no_handler"
	}
	timeout := snap.Timeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	ctx, cancel := context.WithTimeout(runCtx, timeout)
	defer cancel()
	run := runOf(me, snap)
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
			}
		}()
		output, err = h(ctx, run)
	}()
	var coded CodedError
	if errors.As(err, &coded) {
		errCode = coded.ErrorCode()
	}
	switch {
	case err == nil:
		return output, snapshot.StatusSucceeded, "", ""
	case errors.Is(context.Cause(runCtx), errReplaced):
		return output, snapshot.StatusCanceled, errReplaced.Error(), errCode
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return output, snapshot.StatusTimedOut, fmt.Sprintf("timed out after %s: %v", timeout, err), errCode
	default:
		return output, snapshot.StatusFailed, err.Error(), errCode
	}
}

func (w *Worker) setRunning(delta int) {
	w.mu.Lock()
	w.running += delta
	n := w.running
	w.mu.Unlock()
	w.metrics.SetRunning(w.cfg.Group, n)
}

// maxRetryDelay is the longest pause between two attempts of a claim,
// start or result: when etcd comes back, what waited for it goes on within
// it (the leader allows for it before it judges a worker stalled).
const maxRetryDelay = 500 * time.Millisecond

// retry calls f until it succeeds, returns ErrConflict, or ctx ends. Each
// attempt requires the etcd member it reaches to have a leader, so a member
// cut off from its cluster fails the attempt instead of holding it. After an
// attempt that timed out the next one goes at once (it already waited);
// after one refused sooner, after a pause that doubles up to maxRetryDelay. The
// writes retried are fenced or compared, so a retry of a write whose reply
// was lost conflicts instead of applying twice (the callers read back).
func (w *Worker) retry(ctx context.Context, f func(context.Context) error) error {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		rctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), reportTimeout)
		err := f(rctx)
		cancel()
		if err == nil || errors.Is(err, store.ErrConflict) || ctx.Err() != nil {
			return err
		}
		wait := delay
		if time.Since(start) >= reportTimeout {
			wait = 0
		} else {
			delay = min(2*delay, maxRetryDelay)
		}
		if attempt == 1 {
			w.log.Warn("etcd request failed; retrying", "err", err, "in", wait)
		} else {
			w.log.Debug("etcd request failed again; retrying", "attempt", attempt, "err", err, "in", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// logOutcome logs a recorded run. A success, or a cancel the job's overlap
// policy asked for, is routine (DEBUG: a per-second job would fill the log;
// the worker's once-a-minute INFO summary counts them); a failure is what
// an operator reads the log for, so it is a WARN with its reason.
func logOutcome(ctx context.Context, log *slog.Logger, run snapshot.Run, retry bool) {
	switch run.Status {
	case snapshot.StatusSucceeded:
		log.DebugContext(ctx, "run finished", "status", run.Status, "duration_seconds", run.DurationSeconds)
	case snapshot.StatusCanceled:
		log.DebugContext(ctx, "run canceled", "duration_seconds", run.DurationSeconds)
	default:
		log.WarnContext(ctx, "run failed", "status", run.Status, "error", run.Error, "error_code", run.ErrorCode,
			"duration_seconds", run.DurationSeconds, "retry", retry)
	}
}

// runOf is what a handler is told of a snapshot it runs.
func runOf(me cluster.Client, snap *snapshot.Snapshot) Run {
	run := Run{
		SnapshotID: snap.ID, Job: snap.Job, Group: snap.Group, Target: snap.Target, Attempt: snap.Attempt,
		Trigger: string(snap.Trigger), ScheduledAt: snap.ScheduledAt, ShardIndex: snap.ShardIndex,
		ShardTotal: snap.ShardTotal, Params: snap.Params, Client: me.ID, FiredAt: snap.CreatedAt,
	}
	if snap.DispatchedAt != nil {
		run.DispatchedAt = *snap.DispatchedAt
	}
	return run
}

// tellReported hands a result transaction's outcome to Config.Reported.
func (w *Worker) tellReported(me cluster.Client, snap *snapshot.Snapshot, err error) {
	if w.cfg.Reported == nil {
		return
	}
	if errors.Is(err, store.ErrConflict) {
		err = ErrRefused
	}
	w.cfg.Reported(runOf(me, snap), err)
}
