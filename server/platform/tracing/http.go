package tracing

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the tracer name of the spans this package makes.
const instrumentation = "github.com/secuaas/secumon/server/platform/tracing"

// StartRequest starts r's server span, a child of the caller's span when r carries a W3C
// traceparent header, and returns r with the span in its context. Its name is the method
// alone until EndRequest knows the route.
func StartRequest(tp trace.TracerProvider, r *http.Request) (*http.Request, trace.Span) {
	ctx := Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := tp.Tracer(instrumentation).Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method)))
	return r.WithContext(ctx), span
}

// EndRequest names the span after the route template ("GET /api/v2/hosts/{id}": never a
// raw path, which would make one span name per id), records the status and ends it. route
// is empty for a request no route matched.
func EndRequest(span trace.Span, method, route string, status int, attrs ...attribute.KeyValue) {
	if !span.IsRecording() {
		span.End()
		return
	}
	name := method
	if route != "" {
		name += " " + route
		span.SetAttributes(attribute.String("http.route", route))
	}
	span.SetName(name)
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	span.SetAttributes(attrs...)
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}
