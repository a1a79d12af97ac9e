package telemetry

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// logsReceiver is a real OTLP/HTTP logs endpoint (protobuf), as a
// collector runs it; it keeps every record with its resource.
type logsReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	paths   []string
	records []*logspb.LogRecord
	service []string // service.name of each record's resource
	env     []string // deployment.environment of each record's resource
}

func startLogsReceiver(t *testing.T) *logsReceiver {
	r := &logsReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var export collogs.ExportLogsServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &export)
		}
		if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		for _, rl := range export.GetResourceLogs() {
			attrs := map[string]string{}
			for _, a := range rl.GetResource().GetAttributes() {
				attrs[a.GetKey()] = a.GetValue().GetStringValue()
			}
			for _, sl := range rl.GetScopeLogs() {
				for _, rec := range sl.GetLogRecords() {
					r.records = append(r.records, rec)
					r.service, r.env = append(r.service, attrs["service.name"]), append(r.env, attrs["deployment.environment"])
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *logsReceiver) got() ([]*logspb.LogRecord, []string, []string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records, r.service, r.env, r.paths
}

// clearOTEL unsets every OTEL_* variable for the test.
func clearOTEL(t *testing.T) {
	for _, k := range []string{"OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "")
	}
}

// TestRunLogOverOTLP: with an OTLP endpoint set, run records reach a real
// receiver when the process shuts down (before the batch's first
// interval), with the process's resource, the run's severity and event
// name, and the trace and span ids of the run's span: the span in ctx for
// a worker's run, the snapshot's traceparent for one the leader recorded.
func TestRunLogOverOTLP(t *testing.T) {
	recv := startLogsReceiver(t)
	clearOTEL(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.srv.URL)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
	t.Setenv("OTEL_BLRP_SCHEDULE_DELAY", "60000") // only Shutdown exports
	ctx := context.Background()
	logs, err := SetupLogs(ctx, "pink-worker", "1.2.3")
	if err != nil || !logs.Enabled() {
		t.Fatalf("SetupLogs: %v (enabled %v)", err, logs.Enabled())
	}
	rl := NewRunLog(logs.Provider)
	cases := runCases()
	execute := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled})
	rl.Emit(trace.ContextWithSpanContext(ctx, execute), cases[0].run)
	lost := cases[4].run
	rl.EmitFor(ctx, lost, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if recs, _, _, _ := recv.got(); len(recs) != 0 {
		t.Fatalf("%d records exported before shutdown: the batch interval is a minute", len(recs))
	}
	if err := logs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	recs, service, env, paths := recv.got()
	if len(recs) != 2 || paths[0] != "/v1/logs" {
		t.Fatalf("%d records on %v, want 2 on /v1/logs", len(recs), paths)
	}
	want := []struct {
		trace, span, body string
		sev               int32
		status            snapshot.Status
	}{
		{execute.TraceID().String(), execute.SpanID().String(), "run succeeded", 9, snapshot.StatusSucceeded},
		{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "run lost: " + lost.Error, 17, snapshot.StatusLost},
	}
	for i, w := range want {
		r := recs[i]
		attrs := map[string]string{}
		for _, a := range r.GetAttributes() {
			attrs[a.GetKey()] = a.GetValue().GetStringValue()
		}
		if got := hex.EncodeToString(r.GetTraceId()); got != w.trace || hex.EncodeToString(r.GetSpanId()) != w.span {
			t.Errorf("record %d: trace %s span %x, want %s %s", i, got, r.GetSpanId(), w.trace, w.span)
		}
		if r.GetBody().GetStringValue() != w.body || int32(r.GetSeverityNumber()) != w.sev || r.GetEventName() != EventRun ||
			attrs[string(LogAttrRunStatus)] != string(w.status) || service[i] != "pink-worker" || env[i] != "test" {
			t.Errorf("record %d: body %q severity %d event %q status %q service %q env %q", i, r.GetBody().GetStringValue(),
				r.GetSeverityNumber(), r.GetEventName(), attrs[string(LogAttrRunStatus)], service[i], env[i])
		}
		if time.Unix(0, int64(r.GetTimeUnixNano())).UTC() != cases[0].run.FinishedAt || r.GetObservedTimeUnixNano() == 0 {
			t.Errorf("record %d: time %d observed %d", i, r.GetTimeUnixNano(), r.GetObservedTimeUnixNano())
		}
	}
}

// TestSetupLogs: no endpoint, or OTEL_LOGS_EXPORTER=none, exports nothing
// (and the run log builds nothing: its logger is disabled); the logs'
// own endpoint variable is used as is; unsupported settings are errors
// that name their variable.
func TestSetupLogs(t *testing.T) {
	recv := startLogsReceiver(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, env, wantErr string
		enabled            bool
	}{
		{name: "nothing set"},
		{name: "exporter none", env: "OTEL_LOGS_EXPORTER=none OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.srv.URL},
		{name: "logs endpoint", env: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=" + recv.srv.URL + "/custom/logs", enabled: true},
		{name: "grpc", env: "OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", enabled: true},
		{name: "bad exporter", env: "OTEL_LOGS_EXPORTER=console", wantErr: "OTEL_LOGS_EXPORTER"},
		{name: "bad protocol", env: "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.srv.URL,
			wantErr: "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clearOTEL(t)
			for _, kv := range strings.Fields(c.env) {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			logs, err := SetupLogs(ctx, "pink-scheduler", "dev")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil || logs.Enabled() != c.enabled {
				t.Fatalf("err %v, enabled %v, want %v", err, logs.Enabled(), c.enabled)
			}
			rl := NewRunLog(logs.Provider)
			if on := rl.logger.Enabled(ctx, runParams(snapshot.StatusFailed)); on != c.enabled {
				t.Errorf("run log enabled %v, want %v", on, c.enabled)
			}
			if c.name == "grpc" {
				// Nothing listens there: no record to send, only the
				// connection to close.
				if err := logs.Shutdown(ctx); err != nil {
					t.Fatal(err)
				}
				return
			}
			before, _, _, _ := recv.got()
			rl.Emit(ctx, runCases()[1].run)
			if err := logs.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			after, _, _, paths := recv.got()
			if n := len(after) - len(before); n != map[bool]int{false: 0, true: 1}[c.enabled] {
				t.Errorf("%d records exported", n)
			}
			if c.enabled && paths[len(paths)-1] != "/custom/logs" {
				t.Errorf("exported to %s, want the logs endpoint as given", paths[len(paths)-1])
			}
		})
	}
}
