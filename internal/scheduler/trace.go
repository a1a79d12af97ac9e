package scheduler

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// snapAttrs are the span attributes of a snapshot.
func snapAttrs(s *snapshot.Snapshot) []attribute.KeyValue {
	attrs := telemetry.SnapshotAttrs(s.Job, s.Group, s.ID, s.Attempt, string(s.Trigger), s.ScheduledAt, s.Target, s.ShardIndex, s.ShardTotal)
	if s.Client != "" {
		attrs = append(attrs, telemetry.AttrClient.String(s.Client))
	}
	return attrs
}

// dispatchKind is pink.dispatch's span kind: the leader hands the run to
// a worker through etcd, as a producer hands a message to a consumer
// (pink.execute, SpanKindConsumer), so trace backends draw the edge
// between them.
const dispatchKind = trace.SpanKindProducer

// startChild starts a span of kind under the traceparent tp (a new root if
// tp is empty).
func (t *term) startChild(name, tp string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx := telemetry.WithTraceParent(context.Background(), tp)
	return t.cfg.Tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// startLinked starts a new trace whose first span links to the attempt
// before it (traceparent prev).
func (t *term) startLinked(name, prev string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithAttributes(attrs...)}
	if sc := telemetry.SpanContextOf(prev); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc,
			Attributes: []attribute.KeyValue{attribute.String("pink.link", "previous_attempt")}}))
	}
	return t.cfg.Tracer.Start(context.Background(), name, opts...)
}

// endSpan ends a span with the outcome of the write it covered.
func endSpan(span trace.Span, outcome string, err error) {
	span.SetAttributes(attribute.String("pink.outcome", outcome))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// manualFire is the pink.fire span of a manual trigger, shared by the
// shards of the fire.
type manualFire struct {
	traceParent string
	left        int // shards not dispatched yet
}

// startManualFire gives a manual trigger's snapshot, which the API wrote
// without a trace, the root of its trace when the leader first dispatches
// it: a pink.fire span (started at the trigger's time) whose traceparent
// the snapshot then carries, as a cron fire's does. The shards of one
// trigger share one pink.fire; the span returned (nil for a shard after the
// first, or a snapshot that has a trace) ends with the dispatch.
func (t *term) startManualFire(snap *snapshot.Snapshot) trace.Span {
	if snap.TraceParent != "" || snap.Trigger != snapshot.TriggerManual {
		return nil
	}
	id := fireOf(snap.ID)
	if mf := t.manualFires[id]; mf != nil {
		snap.TraceParent = mf.traceParent
		return nil
	}
	attrs := snapAttrs(snap)
	if snap.ShardTotal > 1 {
		// The fire span is the whole fire's, not one shard's.
		base := *snap
		base.ID, base.ShardIndex, base.ShardTotal = id, 0, 1
		attrs = snapAttrs(&base)
	}
	ctx, span := t.cfg.Tracer.Start(context.Background(), telemetry.SpanFire, trace.WithNewRoot(),
		trace.WithTimestamp(snap.CreatedAt), trace.WithAttributes(attrs...))
	snap.TraceParent = telemetry.TraceParent(ctx)
	if snap.ShardTotal > 1 && snap.TraceParent != "" {
		t.manualFires[id] = &manualFire{traceParent: snap.TraceParent, left: snap.ShardTotal}
	}
	return span
}

// manualFireDispatched notes that a shard of a manual trigger is on a
// client; the fire's span is forgotten once all of them are.
func (t *term) manualFireDispatched(snap *snapshot.Snapshot) {
	id := fireOf(snap.ID)
	if mf := t.manualFires[id]; mf != nil {
		if mf.left--; mf.left <= 0 {
			delete(t.manualFires, id)
		}
	}
}
