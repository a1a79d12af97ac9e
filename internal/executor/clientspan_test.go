package executor_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/executor"
)

// TestHTTPClientSpan: each request of the http target is a CLIENT span,
// child of the run's span, with the HTTP semantic conventions' attributes;
// its URL carries no query, credentials, or — for a URL that is a secret —
// path; the called service receives the CLIENT span as its parent; 4xx/5xx
// and transport errors mark it failed with error.type.
func TestHTTPClientSpan(t *testing.T) {
	parents := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parents <- r.Header.Get("Traceparent")
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook"), []byte(srv.URL+"/hooks/T0KEN-IN-PATH"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := executor.HTTP(executor.HTTPConfig{Egress: loopback(t), Secrets: executor.Secrets{Dir: dir}})

	cases := []struct {
		name, params string
		attrs        map[string]string
		failed       bool
	}{
		{"ok", `{"url":"` + strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + `/run?token=s3cret","method":"PUT"}`,
			map[string]string{"http.request.method": "PUT", "url.full": srv.URL + "/run", "server.address": "127.0.0.1", "server.port": u.Port(),
				"http.response.status_code": "200"}, false},
		{"404", `{"url":"` + srv.URL + `/missing"}`,
			map[string]string{"http.request.method": "GET", "url.full": srv.URL + "/missing", "server.address": "127.0.0.1", "server.port": u.Port(),
				"http.response.status_code": "404", "error.type": "404"}, true},
		{"secret URL", `{"url":{"secret":"hook"},"method":"POST"}`,
			map[string]string{"http.request.method": "POST", "url.full": srv.URL, "server.address": "127.0.0.1", "server.port": u.Port(),
				"http.response.status_code": "200"}, false},
		{"refused", `{"url":"http://127.0.0.1:1/x"}`,
			map[string]string{"http.request.method": "GET", "url.full": "http://127.0.0.1:1/x", "server.address": "127.0.0.1", "server.port": "1",
				"error.type": "net.dial"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			ctx, parent := tp.Tracer("test").Start(context.Background(), "pink.execute")
			_, _ = h(ctx, run(tc.params))
			parent.End()
			var client sdktrace.ReadOnlySpan
			for _, sp := range rec.Ended() {
				if sp.SpanKind() == trace.SpanKindClient {
					client = sp
				}
			}
			if client == nil {
				t.Fatalf("no CLIENT span among %d", len(rec.Ended()))
			}
			got := map[string]string{}
			for _, kv := range client.Attributes() {
				got[string(kv.Key)] = kv.Value.Emit()
			}
			if !maps.Equal(got, tc.attrs) {
				t.Errorf("attributes\n%v\nwant\n%v", got, tc.attrs)
			}
			if client.Parent().SpanID() != parent.SpanContext().SpanID() || client.Name() != tc.attrs["http.request.method"] {
				t.Errorf("span %q under %s, want %q under the run's span", client.Name(), client.Parent().SpanID(), tc.attrs["http.request.method"])
			}
			if (client.Status().Code == codes.Error) != tc.failed {
				t.Errorf("status %v, failed want %v", client.Status(), tc.failed)
			}
			if tc.name == "refused" {
				return
			}
			if tp := <-parents; !strings.Contains(tp, client.SpanContext().SpanID().String()) {
				t.Errorf("the service's traceparent %q is not the CLIENT span %s", tp, client.SpanContext().SpanID())
			}
		})
	}
}
