package scheduler

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/telemetry"
)

// snapAttrs are the span attributes of a snapshot.
func snapAttrs(s *snapshot.Snapshot) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		telemetry.AttrJob.String(s.Job), telemetry.AttrGroup.String(s.Group),
		telemetry.AttrSnapshotID.String(s.ID), telemetry.AttrAttempt.Int(s.Attempt),
		telemetry.AttrTrigger.String(string(s.Trigger)), telemetry.AttrScheduledAt.String(s.ScheduledAt.Format(time.RFC3339)),
		telemetry.AttrTarget.String(s.Target),
	}
	if s.ShardTotal > 1 {
		attrs = append(attrs, telemetry.AttrShardIndex.Int(s.ShardIndex), telemetry.AttrShardTotal.Int(s.ShardTotal))
	}
	if s.Client != "" {
		attrs = append(attrs, telemetry.AttrClient.String(s.Client))
	}
	return attrs
}

// startChild starts a span under the traceparent tp (a new root if tp is
// empty).
func (t *term) startChild(name, tp string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx := telemetry.WithTraceParent(context.Background(), tp)
	return t.s.cfg.Tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// startLinked starts a new trace whose first span links to the attempt
// before it (traceparent prev).
func (t *term) startLinked(name, prev string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithAttributes(attrs...)}
	if sc := telemetry.SpanContextOf(prev); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc,
			Attributes: []attribute.KeyValue{attribute.String("pink.link", "previous_attempt")}}))
	}
	return t.s.cfg.Tracer.Start(context.Background(), name, opts...)
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
