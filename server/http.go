package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/net/netutil"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	genpublic "github.com/secuaas/secumon/gen/public"
	"github.com/secuaas/secumon/server/domain/heartbeat"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/compress"
	"github.com/secuaas/secumon/server/edge/conditional"
	"github.com/secuaas/secumon/server/edge/contract"
	"github.com/secuaas/secumon/server/edge/cors"
	"github.com/secuaas/secumon/server/edge/docs"
	"github.com/secuaas/secumon/server/edge/events"
	"github.com/secuaas/secumon/server/edge/handlers"
	"github.com/secuaas/secumon/server/edge/idempotency"
	"github.com/secuaas/secumon/server/edge/ping"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/edge/public"
	"github.com/secuaas/secumon/server/edge/ratelimit"
	"github.com/secuaas/secumon/server/edge/reqid"
	"github.com/secuaas/secumon/server/edge/schemaerr"
	"github.com/secuaas/secumon/server/platform/database"
	"github.com/secuaas/secumon/server/platform/metrics"
	"github.com/secuaas/secumon/server/platform/tracing"
)

// httpLimits are the request rate limits and the caps on event streams and report uploads.
type httpLimits struct {
	rate    *ratelimit.Limiter
	streams events.Limits
	uploads handlers.UploadLimits
}

// httpOptions are the HTTP conventions a deployment chooses.
type httpOptions struct {
	// corsOrigins may call /api/v2 from a browser (none: cross-origin calls are refused).
	corsOrigins []string
}

// newHTTP assembles the HTTP side: the /api/v2 operations behind the contract gate (ops),
// GET /events, the anonymous status-page routes, the heartbeat ping routes, the docs and the
// health endpoints. tr traces requests; m (may be nil) counts them by route and counts open
// event streams.
func newHTTP(pool *pgxpool.Pool, doc *openapi3.T, ops *handlers.API, authn *auth.Authenticator, statusPages public.Options, limits httpLimits, opts httpOptions, log *slog.Logger, tr *tracing.Tracing, m *metrics.Metrics) (http.Handler, error) {
	errs := errorRenderer{log: log}
	queries := db.New(pool)
	gate, err := contract.New(doc, authn, errs.render)
	if err != nil {
		return nil, err
	}
	docsHandler, err := docs.NewHandler()
	if err != nil {
		return nil, err
	}
	strict := api.NewStrictHandlerWithOptions(ops, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  errs.badRequest,
		ResponseErrorHandlerFunc: errs.render,
	})
	apiHandler := api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseURL:          contract.BasePath,
		ErrorHandlerFunc: errs.badRequest,
	})
	publicStrict := genpublic.NewStrictHandlerWithOptions(public.New(queries, statusPages), nil, genpublic.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  errs.badRequest,
		ResponseErrorHandlerFunc: errs.render,
	})
	publicMux := http.NewServeMux()
	publicMux.HandleFunc("/", public.NoRoute)
	publicHandler := genpublic.HandlerWithOptions(publicStrict, genpublic.StdHTTPServerOptions{
		BaseRouter: publicMux, ErrorHandlerFunc: errs.badRequest,
		// The status-page mux is behind the main one: its pattern is the route to report.
		Middlewares: []genpublic.MiddlewareFunc{func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqid.FactsOf(r.Context()).Route = routeOf(r.Pattern)
				next.ServeHTTP(w, r)
			})
		}},
	})

	mux := http.NewServeMux()
	// Idempotency-Key needs the caller's workspace: it runs inside the gate, after
	// authentication and validation.
	keys := idempotency.New(queries, idempotency.Options{OnError: errs.render, Log: log})
	limit := limits.rate.Middleware
	// ETags, If-None-Match, If-Match and Link run behind the gate (the caller is known, the
	// request valid); If-Match writes hold an advisory lock, for several API processes.
	cond := conditional.Middleware(conditional.Options{Locks: conditional.PgLocks{Pool: pool}, OnError: errs.render})
	// CORS comes first: a preflight is answered before rate limits and the gate (it is no
	// API operation, and the gate would refuse OPTIONS with 405).
	apiCORS := cors.API(opts.corsOrigins).Middleware
	mux.Handle(contract.BasePath+"/", apiCORS(limit(compress.Middleware(noStore(gate.Middleware(cond(keys.Middleware(handlers.RequestOrigin(apiHandler)))))))))
	// GET /events streams, which the strict handlers cannot: its own handler, behind the gate,
	// never compressed or buffered.
	stream := &events.Handler{Hub: events.NewHub(pool, ops.DashboardJSON, log), OnError: errs.render, Limits: limits.streams, Metrics: m}
	mux.Handle("GET "+contract.BasePath+"/events", apiCORS(limit(gate.Middleware(stream))))
	// Heartbeat pings: no token, the secret URL is the credential; limited per address and
	// per ping token.
	pings := &ping.Handler{Receiver: heartbeat.NewReceiver(pool, log.With("component", "heartbeat")), OnError: errs.render}
	for _, pattern := range ping.Patterns {
		mux.Handle(pattern, limit(limits.rate.PerPingToken(pings)))
	}
	// Scanner reports are read as a stream (x-stream-body), which the strict handlers cannot:
	// their own handler, behind the gate, with a cap on uploads at once before anything reads
	// the body.
	uploads, err := handlers.NewReportUploads(ops, doc, limits.uploads, errs.render)
	if err != nil {
		return nil, err
	}
	mux.Handle("POST "+contract.BasePath+"/app-security/reports", apiCORS(limit(compress.Middleware(noStore(gate.Middleware(uploads.Limit(keys.Middleware(uploads))))))))
	mux.Handle("/status/", publicCORS(limit(compress.Middleware(public.Middleware(authn, errs.render)(publicHandler)))))
	mux.Handle("GET "+docs.MainJSONPath, docsHandler)
	mux.Handle("GET "+docs.MainYAMLPath, docsHandler)
	mux.Handle("GET /docs", docsHandler)
	mux.Handle("GET /docs/", docsHandler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			problem.Write(w, r, problem.Unavailable("the database is unavailable"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Newf(http.StatusNotFound, "nothing at %s", r.URL.Path))
	})

	h := recoverPanics(log, mux)
	h = limitHeaders(h)
	h = observe(log, tr, m, h)
	return reqid.Middleware(h), nil
}

// publicCORS lets any origin read the status JSON and the badges (GET only), which are made
// to be embedded; the HTML page and the feed stay same-origin.
func publicCORS(next http.Handler) http.Handler {
	open := cors.Public().Middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /status/{slug}/api and /status/{slug}/badge/{component}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/status/"), "/")
		if (len(parts) == 2 && parts[1] == "api") || (len(parts) == 3 && parts[1] == "badge") {
			open.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errorRenderer turns handler errors into problem documents: problems as they are, an
// unreachable database as 503 with Retry-After, anything else as a logged 500.
type errorRenderer struct{ log *slog.Logger }

func (e errorRenderer) render(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem.Problem
	switch {
	case errors.As(err, &p):
		problem.Write(w, r, p)
	case database.IsUnavailable(err):
		e.log.Warn("database unavailable", "request_id", reqid.From(r.Context()), "err", err)
		problem.Write(w, r, problem.Unavailable("the database is unavailable; retry shortly"))
	case isDataException(err):
		// A value the contract let through but PostgreSQL cannot take (a NUL byte in a query
		// parameter, a number out of range): bad input, not a server fault.
		e.log.Warn("request refused by the database", "request_id", reqid.From(r.Context()), "err", err)
		problem.Write(w, r, problem.Invalid(problem.FieldError{Field: "request", Message: "a value is out of what can be stored"}))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		w.WriteHeader(499)
	default:
		e.log.Error("request failed", "request_id", reqid.From(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		problem.Write(w, r, problem.New(http.StatusInternalServerError, "internal error; quote the request id when reporting it"))
	}
}

// isDataException reports a PostgreSQL data exception (SQLSTATE class 22).
func isDataException(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

// badRequest handles what the generated code could not bind or decode (malformed JSON…),
// naming the field in JSON's words (schemaerr.Decoding), never passing Go's message on.
func (e errorRenderer) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	problem.Write(w, r, problem.Invalid(schemaerr.Decoding(err)))
}

// MaxHeaderBytes caps a request's header lines: more gets 431 as problem+json from
// limitHeaders. The http.Server's own cap (which answers in text/plain) is set well above it,
// so that only requests far beyond this one meet it.
const MaxHeaderBytes = 64 << 10

func limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Host)
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > MaxHeaderBytes {
			problem.Write(w, r, problem.Newf(http.StatusRequestHeaderFieldsTooLarge, "request headers are limited to %d bytes", MaxHeaderBytes))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noStore marks API answers as never to be stored by a cache: they are per token and change
// at any time. Handlers that know better (ETag-revalidated answers) set their own.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("panic", "request_id", reqid.From(r.Context()), "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			problem.Write(w, r, problem.New(http.StatusInternalServerError, "internal error; quote the request id when reporting it"))
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer (server-sent events).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe makes the request's span (a child of the caller's when it sends a traceparent),
// counts the request in m and writes its access log line, all with the route template, the
// caller's workspace and the request id, and the trace id when tracing is on.
func observe(log *slog.Logger, tr *tracing.Tracing, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, span := tracing.StartRequest(tr.Provider, r)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 { // nothing written: net/http answers 200
			rec.status = http.StatusOK
		}

		facts := reqid.FactsOf(r.Context())
		route, label := facts.Route, r.Method+" "+facts.Route
		if route == "" {
			// Routes outside the gate: the main mux set the pattern on this very request
			// ("GET /healthz", or the prefix "/api/v2/" of a request refused before an
			// operation was found): a bounded label whatever the path.
			route, label = routeOf(r.Pattern), r.Pattern
		}
		took := time.Since(start)
		m.HTTPRequest(label, rec.status, took)
		id := reqid.From(r.Context())
		attrs := make([]slog.Attr, 0, 9)
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
			slog.Int("status", rec.status), slog.Duration("duration", took), slog.String("request_id", id))
		spanAttrs := []attribute.KeyValue{attribute.String("secumon.request_id", id)}
		if facts.WorkspaceID != uuid.Nil {
			attrs = append(attrs, slog.String("workspace_id", facts.WorkspaceID.String()))
			spanAttrs = append(spanAttrs, attribute.String("secumon.workspace_id", facts.WorkspaceID.String()))
		}
		// Off, the no-op span carries the caller's ids: they are not this process's trace.
		if sc := span.SpanContext(); tr.Enabled() && sc.IsValid() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
		tracing.EndRequest(span, r.Method, route, rec.status, spanAttrs...)
		log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs...)
	})
}

// routeOf is a ServeMux pattern without its method ("GET /healthz" → "/healthz").
func routeOf(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// HTTPLimits bound what one client can hold of the server; zero values take the defaults.
type HTTPLimits struct {
	// ReadTimeout bounds reading a whole request, body included (60 s): a client that sends
	// its body a byte at a time loses the connection instead of holding it forever.
	ReadTimeout time.Duration
	// IdleTimeout closes a kept-alive connection with no request after this long (60 s).
	IdleTimeout time.Duration
	// MaxConns caps open connections (4096); more wait in the listen backlog.
	MaxConns int
	// ErrorLog receives net/http's own complaints (a failed TLS handshake, a malformed
	// request line), at warn level, so they go through the process's log handler rather than
	// as plain text on stderr; nil: slog.Default().
	ErrorLog *slog.Logger
	// TLS, when set (see TLSConfig), makes the server speak HTTPS only, with HTTP/2 offered
	// by ALPN next to HTTP/1.1.
	TLS *tls.Config
}

// TLSConfig loads a PEM certificate (chain) and key for HTTPS, TLS 1.2 at least.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// NewHTTPServer returns the http.Server for handler with l's limits, and wraps ln so that at
// most l.MaxConns connections are open at once (and, with l.TLS, so that they speak TLS:
// srv.Serve on the returned listener is ListenAndServeTLS's equivalent). Responses have no write deadline: GET /events
// streams for as long as its client stays.
func NewHTTPServer(ctx context.Context, handler http.Handler, ln net.Listener, l HTTPLimits) (*http.Server, net.Listener) {
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 60 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 60 * time.Second
	}
	if l.MaxConns <= 0 {
		l.MaxConns = 4096
	}
	if l.ErrorLog == nil {
		l.ErrorLog = slog.Default()
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: min(10*time.Second, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    16 * MaxHeaderBytes, // limitHeaders answers first, in problem+json
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(l.ErrorLog.With("component", "http").Handler(), slog.LevelWarn),
	}
	ln = netutil.LimitListener(ln, l.MaxConns)
	if l.TLS != nil {
		cfg := l.TLS.Clone()
		if cfg.MinVersion < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS12
		}
		// "h2" listed here is what makes Serve set up HTTP/2 on the accepted TLS connections.
		cfg.NextProtos = []string{"h2", "http/1.1"}
		srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	return srv, ln
}
