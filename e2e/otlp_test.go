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

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
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

// otlpReceiver is a real OTLP/HTTP trace endpoint (protobuf encoding), as
// a collector would run it.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []span
	// raw holds every export as received, to search for what must not be
	// in any span (attributes, events, status messages).
	raw [][]byte
}

func startOTLP(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var export coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &export); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.add(&export)
		r.mu.Lock()
		r.raw = append(r.raw, body)
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) add(export *coltrace.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range export.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, flatten(service, s))
			}
		}
	}
}

func flatten(service string, s *tracepb.Span) span {
	out := span{service: service, name: s.GetName(), traceID: hex.EncodeToString(s.GetTraceId()),
		spanID: hex.EncodeToString(s.GetSpanId()), parentID: hex.EncodeToString(s.GetParentSpanId()), attrs: map[string]string{}}
	for _, a := range s.GetAttributes() {
		switch v := a.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out.attrs[a.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out.attrs[a.GetKey()] = strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_BoolValue:
			out.attrs[a.GetKey()] = strconv.FormatBool(v.BoolValue)
		}
	}
	for _, l := range s.GetLinks() {
		out.links = append(out.links, hex.EncodeToString(l.GetTraceId()))
	}
	return out
}

func (r *otlpReceiver) get() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]span(nil), r.spans...)
}

// exported returns every export body received so far, concatenated.
func (r *otlpReceiver) exported() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.raw, nil)
}

// env is the environment that points a pink process at the receiver.
func (r *otlpReceiver) env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + r.srv.URL, "OTEL_BSP_SCHEDULE_DELAY=100"}
}
