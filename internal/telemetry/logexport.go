package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Logs is a process's OpenTelemetry log export, set up from the
// environment: where the run records (RunLog) go.
type Logs struct {
	// Provider makes the process's loggers; a no-op one when logs are not
	// exported.
	Provider log.LoggerProvider
	provider *sdklog.LoggerProvider
}

// Enabled reports whether records are exported (an OTLP exporter is set up).
func (l *Logs) Enabled() bool { return l != nil && l.provider != nil }

// SetupLogs configures the export of log records as SetupTracing does for
// spans, by the OpenTelemetry environment variables: OTEL_LOGS_EXPORTER
// (otlp or none), OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf, the default, or grpc), the
// same resource as the spans (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES),
// and the batch processor's OTEL_BLRP_* settings. With no endpoint set,
// nothing is exported and nothing is built.
func SetupLogs(ctx context.Context, service, version string) (*Logs, error) {
	exporter := strings.TrimSpace(os.Getenv("OTEL_LOGS_EXPORTER"))
	endpoint := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") + os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
	switch {
	case sdkDisabled(), exporter == "none", exporter == "" && endpoint == "":
		return &Logs{Provider: noop.NewLoggerProvider()}, nil
	case exporter != "" && exporter != "otlp":
		return nil, fmt.Errorf("OTEL_LOGS_EXPORTER=%q is not supported: use otlp or none", exporter)
	}
	grpc, err := otlpGRPC("LOGS")
	if err != nil {
		return nil, err
	}
	var exp sdklog.Exporter
	if grpc {
		exp, err = otlploggrpc.New(ctx)
	} else {
		exp, err = otlploghttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp log exporter: %w", err)
	}
	res, err := processResource(ctx, service, version)
	if err != nil {
		return nil, fmt.Errorf("log resource: %w", err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(res))
	return &Logs{Provider: lp, provider: lp}, nil
}

// Shutdown exports the records not yet exported, then stops the export.
func (l *Logs) Shutdown(ctx context.Context) error {
	if !l.Enabled() {
		return nil
	}
	return l.provider.Shutdown(ctx)
}
