package e2e

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// span is one span an OTLP receiver got, flattened for assertions.
type span struct {
	service  string
	name     string
	traceID  string
	spanID   string
	parentID string
	attrs    map[string]string
	links    []string // trace ids of linked spans
}

// otlpReceiver is a real OTLP/HTTP endpoint for traces and logs (protobuf
// encoding), as a collector would run it.
type otlpReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	spans   []span
	records []logRecord
	// raw and rawLogs hold every export as received, to search for what
	// must not be in any span (attributes, events, status messages) or log
	// record.
	raw, rawLogs [][]byte
}

func startOTLP(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var resp proto.Message
		switch req.URL.Path {
		case "/v1/traces":
			var export coltrace.ExportTraceServiceRequest
			if err = proto.Unmarshal(body, &export); err == nil {
				r.add(&export, body)
			}
			resp = &coltrace.ExportTraceServiceResponse{}
		case "/v1/logs":
			var export collogs.ExportLogsServiceRequest
			if err = proto.Unmarshal(body, &export); err == nil {
				r.addLogs(&export, body)
			}
			resp = &collogs.ExportLogsServiceResponse{}
		default:
			http.Error(w, "unexpected path", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, _ := proto.Marshal(resp)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// serviceOf is the service.name of a resource.
func serviceOf(res *resourcepb.Resource) string {
	for _, a := range res.GetAttributes() {
		if a.GetKey() == "service.name" {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}

func (r *otlpReceiver) add(export *coltrace.ExportTraceServiceRequest, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw = append(r.raw, body)
	for _, rs := range export.GetResourceSpans() {
		service := serviceOf(rs.GetResource())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, flatten(service, s))
			}
		}
	}
}

func flatten(service string, s *tracepb.Span) span {
	out := span{service: service, name: s.GetName(), traceID: hex.EncodeToString(s.GetTraceId()),
		spanID: hex.EncodeToString(s.GetSpanId()), parentID: hex.EncodeToString(s.GetParentSpanId()), attrs: flattenAttrs(s.GetAttributes())}
	for _, l := range s.GetLinks() {
		out.links = append(out.links, hex.EncodeToString(l.GetTraceId()))
	}
	return out
}

// flattenAttrs renders attribute values as strings (numbers as Go
// formats them).
func flattenAttrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, a := range kvs {
		switch v := a.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[a.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[a.GetKey()] = strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_DoubleValue:
			out[a.GetKey()] = strconv.FormatFloat(v.DoubleValue, 'g', -1, 64)
		case *commonpb.AnyValue_BoolValue:
			out[a.GetKey()] = strconv.FormatBool(v.BoolValue)
		}
	}
	return out
}

func (r *otlpReceiver) get() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]span(nil), r.spans...)
}

// exported returns every trace export body received so far, concatenated.
func (r *otlpReceiver) exported() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.raw, nil)
}

// exportedLogs returns every logs export body received so far, concatenated.
func (r *otlpReceiver) exportedLogs() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.rawLogs, nil)
}

// env is the environment that points a pink process at the receiver, for
// spans and log records, exported in batches every 100ms.
func (r *otlpReceiver) env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + r.srv.URL, "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_BLRP_SCHEDULE_DELAY=100"}
}

// logRecord is one log record an OTLP receiver got, flattened for
// assertions.
type logRecord struct {
	service         string
	event           string
	traceID, spanID string
	severity        int32
	severityText    string
	body            string
	time, observed  time.Time
	attrs           map[string]string
}

func (r *otlpReceiver) addLogs(export *collogs.ExportLogsServiceRequest, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rawLogs = append(r.rawLogs, body)
	for _, rl := range export.GetResourceLogs() {
		service := serviceOf(rl.GetResource())
		for _, sl := range rl.GetScopeLogs() {
			for _, l := range sl.GetLogRecords() {
				r.records = append(r.records, logRecord{service: service, event: l.GetEventName(),
					traceID: hex.EncodeToString(l.GetTraceId()), spanID: hex.EncodeToString(l.GetSpanId()),
					severity: int32(l.GetSeverityNumber()), severityText: l.GetSeverityText(), body: l.GetBody().GetStringValue(),
					time: time.Unix(0, int64(l.GetTimeUnixNano())).UTC(), observed: time.Unix(0, int64(l.GetObservedTimeUnixNano())).UTC(),
					attrs: flattenAttrs(l.GetAttributes())})
			}
		}
	}
}

// logs returns the log records received so far.
func (r *otlpReceiver) logs() []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logRecord(nil), r.records...)
}
