package tracing

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// QueryTracer makes a client span per PostgreSQL query (pgx.QueryTracer) and per batch
// with a child per queued query (pgx.BatchTracer). It only traces queries made under a
// span (a request, a delivery, a check run): the background pollers (River, the digester)
// would otherwise make a root trace of every query they run. Parameter values are never
// recorded; the SQL text is not either, only the sqlc query name.
type QueryTracer struct{ tracer trace.Tracer }

// NewQueryTracer returns the tracer for a pool's connections (ConnConfig.Tracer).
func NewQueryTracer(tp trace.TracerProvider) *QueryTracer {
	return &QueryTracer{tracer: tp.Tracer(instrumentation)}
}

var (
	dbSystem   = attribute.String("db.system", "postgresql")
	dbSystemV2 = attribute.String("db.system.name", "postgresql")
)

// QueryName is the name sqlc writes at the start of each query's text ("-- name: GetHost
// :one"), else "db.query".
func QueryName(sql string) string {
	rest, ok := strings.CutPrefix(strings.TrimLeft(sql, " \t\r\n"), "-- name: ")
	if !ok {
		return "db.query"
	}
	if name, _, ok := strings.Cut(rest, " "); ok && name != "" && !strings.ContainsAny(name, "\r\n") {
		return name
	}
	return "db.query"
}

func (q *QueryTracer) start(ctx context.Context, name string, at time.Time) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(dbSystem, dbSystemV2)}
	if !at.IsZero() {
		opts = append(opts, trace.WithTimestamp(at))
	}
	if name != "db.query" && name != "db.batch" {
		opts = append(opts, trace.WithAttributes(attribute.String("db.operation.name", name)))
	}
	return q.tracer.Start(ctx, name, opts...)
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "query failed")
	}
	span.End()
}

// TraceQueryStart implements pgx.QueryTracer.
func (q *QueryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	ctx, span := q.start(ctx, QueryName(data.SQL), time.Time{})
	return context.WithValue(ctx, spanKey{}, span)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (q *QueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if span, ok := ctx.Value(spanKey{}).(trace.Span); ok {
		end(span, data.Err)
	}
}

// spanKey holds the span a Trace…Start call made, so that the matching end call ends that
// span and never the caller's (when no span was made, the context's span is the caller's).
type spanKey struct{}

// TraceBatchStart implements pgx.BatchTracer.
func (q *QueryTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	ctx, span := q.start(ctx, "db.batch", time.Time{})
	if data.Batch != nil {
		span.SetAttributes(attribute.Int("db.operation.batch.size", data.Batch.Len()))
	}
	return context.WithValue(ctx, spanKey{}, span)
}

// TraceBatchQuery implements pgx.BatchTracer: a child of the batch span per query, from
// when pgx began reading its result.
func (q *QueryTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	if _, ok := ctx.Value(spanKey{}).(trace.Span); !ok {
		return
	}
	_, span := q.start(ctx, QueryName(data.SQL), data.ReadStartTime)
	end(span, data.Err)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (q *QueryTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	if span, ok := ctx.Value(spanKey{}).(trace.Span); ok {
		end(span, data.Err)
	}
}
