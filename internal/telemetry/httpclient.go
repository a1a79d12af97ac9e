package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// HTTPRequest is what the CLIENT span of an outgoing request records:
// OpenTelemetry's HTTP client semantic conventions, with the URL as the
// caller has redacted it (no credentials, no query; only scheme and host
// for a URL that is itself a secret).
type HTTPRequest struct {
	Method  string
	URL     string // url.full, redacted
	Address string // server.address
	Port    int    // server.port
}

// StartHTTPClient starts the CLIENT span of the http target's request, a
// child of the run's pink.execute span in ctx, so that trace backends draw
// the edge from pink to the service it calls; the request's traceparent
// must come from the context it returns. end records the response's status
// (or the error) and ends the span. Why not otelhttp's transport: it
// records the URL with its query, where tokens live.
func StartHTTPClient(ctx context.Context, r HTTPRequest) (context.Context, func(status int, err error)) {
	method := r.Method
	if !knownMethods[method] {
		method = "_OTHER"
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", method),
		attribute.String("url.full", r.URL),
		attribute.String("server.address", r.Address),
	}
	if r.Port > 0 {
		attrs = append(attrs, attribute.Int("server.port", r.Port))
	}
	name := method
	if method == "_OTHER" {
		name = "HTTP"
	}
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer(instrumentation)
	ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(status int, err error) {
		defer span.End()
		if status > 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
		}
		switch {
		case err != nil:
			span.SetAttributes(attribute.String("error.type", errorType(err)))
			span.SetStatus(codes.Error, errorType(err))
		case status >= 400:
			span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
			span.SetStatus(codes.Error, "")
		}
	}
}

var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true, http.MethodTrace: true}

// errorType is a low-cardinality name of a request's failure: its text
// may hold addresses and is not one.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "net." + op.Op
	}
	return fmt.Sprintf("%T", err)
}
