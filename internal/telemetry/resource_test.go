package telemetry

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TestProcessResource: a process's spans and records name its service,
// version and instance (host-pid), its host, process and SDK; the
// environment's OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
func TestProcessResource(t *testing.T) {
	clearOTEL(t)
	host, _ := os.Hostname()
	attrs := func() map[string]string {
		t.Helper()
		res, err := processResource(context.Background(), "pink-scheduler", "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, kv := range res.Attributes() {
			out[string(kv.Key)] = kv.Value.Emit()
		}
		return out
	}
	got := attrs()
	for k, want := range map[string]string{"service.name": "pink-scheduler", "service.version": "1.2.3",
		"service.instance.id": host + "-" + strconv.Itoa(os.Getpid()), "host.name": host, "process.pid": strconv.Itoa(os.Getpid()),
		"telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "go", "process.runtime.name": "go"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	t.Setenv("OTEL_SERVICE_NAME", "billing-pink")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=pod-7,deployment.environment=prod")
	got = attrs()
	if got["service.name"] != "billing-pink" || got["service.instance.id"] != "pod-7" || got["deployment.environment"] != "prod" {
		t.Errorf("the environment does not win: %v", got)
	}
}

// TestSDKDisabled: OTEL_SDK_DISABLED=true exports nothing, even with an
// endpoint configured.
func TestSDKDisabled(t *testing.T) {
	clearOTEL(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	tr, err := SetupTracing(context.Background(), "pink-worker", "1.2.3")
	if err != nil || tr.provider != nil {
		t.Errorf("tracing with the SDK disabled: %v, exporting %v", err, tr.provider != nil)
	}
	logs, err := SetupLogs(context.Background(), "pink-worker", "1.2.3")
	if err != nil || logs.Enabled() {
		t.Errorf("logs with the SDK disabled: %v, enabled %v", err, logs.Enabled())
	}
	t.Setenv("OTEL_SDK_DISABLED", "false")
	tr, err = SetupTracing(context.Background(), "pink-worker", "1.2.3")
	if err != nil || tr.provider == nil {
		t.Fatalf("tracing with the SDK on: %v", err)
	}
	_ = tr.Shutdown(context.Background())
}
