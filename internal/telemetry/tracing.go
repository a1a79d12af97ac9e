package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Span names. One trace covers a fire: pink.fire (leader) → pink.dispatch
// (leader) → pink.execute (worker) → pink.report (worker). A retry or a
// failover starts a new trace whose first span (pink.retry, pink.failover)
// links to the attempt before it.
const (
	SpanFire     = "pink.fire"
	SpanDispatch = "pink.dispatch"
	SpanExecute  = "pink.execute"
	SpanReport   = "pink.report"
	SpanRetry    = "pink.retry"
	SpanFailover = "pink.failover"
)

// Span attribute keys.
const (
	AttrJob         = attribute.Key("pink.job")
	AttrGroup       = attribute.Key("pink.group")
	AttrSnapshotID  = attribute.Key("pink.snapshot_id")
	AttrAttempt     = attribute.Key("pink.attempt")
	AttrClient      = attribute.Key("pink.client")
	AttrTrigger     = attribute.Key("pink.trigger")
	AttrScheduledAt = attribute.Key("pink.scheduled_at")
	AttrStatus      = attribute.Key("pink.status")
	AttrShardIndex  = attribute.Key("pink.shard_index")
	AttrShardTotal  = attribute.Key("pink.shard_total")
	AttrTarget      = attribute.Key("pink.target")
)

// SnapshotAttrs are the span attributes of a snapshot, the same on every
// span about one (pink.fire, pink.dispatch, pink.failover, pink.retry,
// pink.execute): job, group, snapshot id, attempt, trigger, nominal time,
// target, and the shard for a sharded fire.
func SnapshotAttrs(job, group, id string, attempt int, trigger string, scheduledAt time.Time, target string, shardIndex, shardTotal int) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		AttrJob.String(job), AttrGroup.String(group), AttrSnapshotID.String(id), AttrAttempt.Int(attempt),
		AttrTrigger.String(trigger), AttrScheduledAt.String(scheduledAt.Format(time.RFC3339)), AttrTarget.String(target),
	}
	if shardTotal > 1 {
		attrs = append(attrs, AttrShardIndex.Int(shardIndex), AttrShardTotal.Int(shardTotal))
	}
	return attrs
}

// instrumentation names the tracer.
const instrumentation = "github.com/pink-scheduler/pink"

// Tracer is pink's tracer of tp.
func Tracer(tp trace.TracerProvider) trace.Tracer { return tp.Tracer(instrumentation) }

// Tracing is a process's tracer, set up from the OpenTelemetry environment
// variables.
type Tracing struct {
	Tracer   trace.Tracer
	Provider trace.TracerProvider
	provider *sdktrace.TracerProvider
}

// SetupTracing configures tracing the way the OpenTelemetry specification
// says: OTEL_TRACES_EXPORTER (otlp or none), OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL
// (http/protobuf, the default, or grpc), OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG). With none of the
// exporter variables set, tracing is off and costs nothing.
func SetupTracing(ctx context.Context, service, version string) (*Tracing, error) {
	exporter := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER"))
	endpoint := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") + os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	switch {
	case sdkDisabled(), exporter == "none", exporter == "" && endpoint == "":
		tp := noop.NewTracerProvider()
		return &Tracing{Tracer: Tracer(tp), Provider: tp}, nil
	case exporter != "" && exporter != "otlp":
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q is not supported: use otlp or none", exporter)
	}
	grpc, err := otlpGRPC("TRACES")
	if err != nil {
		return nil, err
	}
	client := otlptracehttp.NewClient()
	if grpc {
		client = otlptracegrpc.NewClient()
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := processResource(ctx, service, version)
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{Tracer: Tracer(tp), Provider: tp, provider: tp}, nil
}

// otlpGRPC reports whether the OTLP exporter of signal (TRACES, LOGS)
// speaks gRPC rather than HTTP/protobuf, from
// OTEL_EXPORTER_OTLP_<signal>_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL.
func otlpGRPC(signal string) (bool, error) {
	name := "OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL"
	protocol := os.Getenv(name)
	if protocol == "" {
		name = "OTEL_EXPORTER_OTLP_PROTOCOL"
		protocol = os.Getenv(name)
	}
	switch protocol {
	case "", "http/protobuf":
		return false, nil
	case "grpc":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q is not supported: use http/protobuf or grpc", name, protocol)
}

// Shutdown flushes spans not yet exported.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.provider == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// NoopTracer returns a tracer that records nothing.
func NoopTracer() trace.Tracer { return noop.NewTracerProvider().Tracer(instrumentation) }

var propagator = propagation.TraceContext{}

// TraceParent returns the W3C traceparent of the span in ctx, or "".
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c.Get("traceparent")
}

// WithTraceParent returns ctx carrying the remote span of a traceparent
// (ctx unchanged if tp is empty or malformed).
func WithTraceParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// SpanContextOf parses a traceparent.
func SpanContextOf(tp string) trace.SpanContext {
	return trace.SpanContextFromContext(WithTraceParent(context.Background(), tp))
}

// TraceIDOf returns the trace id of a traceparent, or "".
func TraceIDOf(tp string) string {
	if sc := SpanContextOf(tp); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// InjectHTTP writes the span of ctx into outgoing HTTP headers.
func InjectHTTP(ctx context.Context, h propagation.HeaderCarrier) {
	propagator.Inject(ctx, h)
}
