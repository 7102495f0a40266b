package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/domain/syslog"
	"github.com/secuaas/secumon/server/edge/cors"
	"github.com/secuaas/secumon/server/edge/events"
	"github.com/secuaas/secumon/server/edge/ratelimit"
)

// shutdownGrace is how long in-flight requests may run after SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("serve", &c)
	addTracingFlag(fs, &c)
	addr := fs.String("addr", env("addr", "127.0.0.1:8080"), "listen address [SECUMON_ADDR]")
	noWorker := fs.Bool("no-worker", env("no-worker", "") == "true", "run the API only; workers run as `secumon worker` [SECUMON_NO_WORKER]")
	wf := addWorkerFlags(fs)
	af := addAlertFlags(fs)
	readTimeout := fs.Duration("read-timeout", envDuration("read-timeout", 60*time.Second), "longest time to read one request, body included [SECUMON_READ_TIMEOUT]")
	idleTimeout := fs.Duration("idle-timeout", envDuration("idle-timeout", 60*time.Second), "close idle kept-alive connections after this long [SECUMON_IDLE_TIMEOUT]")
	corsOrigins := fs.String("cors-origins", env("cors-origins", ""), "origins (comma-separated, or *) whose browser scripts may call /api/v2; empty: none [SECUMON_CORS_ORIGINS]")
	tlsCert := fs.String("tls-cert", env("tls-cert", ""), "PEM certificate (chain) to serve HTTPS with HTTP/2; needs --tls-key [SECUMON_TLS_CERT]")
	tlsKey := fs.String("tls-key", env("tls-key", ""), "PEM private key of --tls-cert [SECUMON_TLS_KEY]")
	maxConns := fs.Int("max-connections", envInt("max-connections", 4096), "open HTTP connections at most [SECUMON_MAX_CONNECTIONS]")
	rateToken := fs.Float64("rate-token", envFloat("rate-token", 20), "requests per second per API token, per process; negative: off [SECUMON_RATE_TOKEN]")
	rateTokenBurst := fs.Int("rate-token-burst", envInt("rate-token-burst", 100), "burst of requests per API token [SECUMON_RATE_TOKEN_BURST]")
	rateAddr := fs.Float64("rate-address", envFloat("rate-address", 50), "requests per second per client address without a token (status pages), per process; negative: off [SECUMON_RATE_ADDRESS]")
	rateAddrBurst := fs.Int("rate-address-burst", envInt("rate-address-burst", 100), "burst of requests per client address without a token [SECUMON_RATE_ADDRESS_BURST]")
	rateFailedAuth := fs.Int("rate-failed-auth", envInt("rate-failed-auth", 10), "failed authentications per minute per client address before its requests get 429; negative: off [SECUMON_RATE_FAILED_AUTH]")
	ratePing := fs.Float64("rate-ping", envFloat("rate-ping", 1), "heartbeat pings per second per ping URL, per process; negative: off [SECUMON_RATE_PING]")
	ratePingBurst := fs.Int("rate-ping-burst", envInt("rate-ping-burst", 20), "burst of pings per ping URL [SECUMON_RATE_PING_BURST]")
	publicURL := fs.String("public-url", env("public-url", ""), "the URL clients reach this server at (e.g. https://secumon.example.com), for the ping URLs of heartbeat checks and the incident links of Teams, Discord and Telegram messages; empty: the URL the request came to, and no links [SECUMON_PUBLIC_URL]")
	trustedProxies := fs.String("trusted-proxies", env("trusted-proxies", ""), "proxies (CIDRs, comma-separated) whose X-Forwarded-For gives the client address; empty: X-Forwarded-For ignored [SECUMON_TRUSTED_PROXIES]")
	eventsPerToken := fs.Int("events-per-token", envInt("events-per-token", 10), "open GET /events streams per API token, per process; negative: no cap [SECUMON_EVENTS_PER_TOKEN]")
	eventsTotal := fs.Int("events-total", envInt("events-total", 1000), "open GET /events streams per process; negative: no cap [SECUMON_EVENTS_TOTAL]")
	metricsAddr := addMetricsFlag(fs)
	syslogAddr := fs.String("syslog-addr", env("syslog-addr", ""), "syslog receiver, UDP and TCP (e.g. 127.0.0.1:5514); empty: off [SECUMON_SYSLOG_ADDR]")
	syslogWorkspaces := fs.String("syslog-workspaces", env("syslog-workspaces", "default"),
		"workspaces (slugs, comma-separated) whose hosts syslog entries are matched to; * for all [SECUMON_SYSLOG_WORKSPACES]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	trace, err := c.startTracing(ctx, log)
	if err != nil {
		return err
	}
	pool, restarts, closeDB, err := openDatabase(ctx, &c, log, true)
	if err != nil {
		return err
	}
	defer closeDB()

	dataDir, _ := c.absDataDir()
	ownerToken, err := admin.Bootstrap(ctx, pool, dataDir)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}

	proxies, err := ratelimit.ParsePrefixes(*trustedProxies)
	if err != nil {
		return err
	}
	deps := server.Deps{Pool: pool, Logger: log, Tracing: trace, Serve: true, Alerting: af.config(),
		RateLimits: ratelimit.Config{
			TokenRate: *rateToken, TokenBurst: *rateTokenBurst, AddrRate: *rateAddr, AddrBurst: *rateAddrBurst,
			FailedAuthPerMinute: *rateFailedAuth, TrustedProxies: proxies, PingRate: *ratePing, PingBurst: *ratePingBurst,
		},
		PublicURL:        strings.TrimRight(*publicURL, "/"),
		EventStreams:     events.Limits{PerToken: *eventsPerToken, Total: *eventsTotal},
		DatabaseRestarts: restarts,
		CORSOrigins:      cors.ParseOrigins(*corsOrigins),
	}
	if deps.Notify, err = notify.ConfigFromEnv(); err != nil {
		return err
	}
	if deps.AI, err = ai.ConfigFromEnv(); err != nil {
		return err
	}
	if *syslogAddr != "" {
		served, err := syslogScope(ctx, pool, *syslogWorkspaces)
		if err != nil {
			return err
		}
		deps.Syslog = &syslog.Config{Addr: *syslogAddr, Workspaces: served}
	}
	if !*noWorker {
		if deps.Worker, err = wf.options(); err != nil {
			return err
		}
	}
	if deps.Metrics, err = listenMetrics(*metricsAddr); err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" {
		if tlsConfig, err = server.TLSConfig(*tlsCert, *tlsKey); err != nil {
			return err
		}
	}
	app, err := server.Build(ctx, deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv, ln := server.NewHTTPServer(ctx, app, ln, server.HTTPLimits{
		ReadTimeout: *readTimeout, IdleTimeout: *idleTimeout, MaxConns: *maxConns, ErrorLog: log, TLS: tlsConfig,
	})
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	tokenFile := filepath.Join(dataDir, admin.OwnerTokenFile)
	switch {
	case c.jsonLogs():
		// Every line JSON; the owner token itself stays out of the logs (log pipelines keep
		// and share what they receive): it is in its file.
		log.Info("listening", "url", url, "api", url+"/api/v2", "docs", url+"/docs")
		if ownerToken != "" {
			log.Info("first start: owner token created", "file", tokenFile)
		} else {
			log.Info("owner token of the first start", "file", tokenFile)
		}
	default:
		fmt.Printf("SecuMon is listening on %s  (API %s/api/v2, docs %s/docs)\n", url, url, url)
		if ownerToken != "" {
			fmt.Printf("First start: owner token (also in %s):\n\n    %s\n\n", tokenFile, ownerToken)
			fmt.Printf("Try: curl -H \"Authorization: Bearer $(cat %s)\" %s/api/v2/hosts\n", tokenFile, url)
		} else {
			fmt.Printf("Owner token of the first start: %s\n", tokenFile)
		}
	}

	// The background parts run until ctx ends (SIGINT/SIGTERM) or one fails; the HTTP
	// server drains its requests first, then the parts stop and write what they queued.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	appDone := make(chan error, 1)
	go func() { appDone <- app.Run(runCtx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()
	var failed error
	select {
	case failed = <-serveDone:
	case failed = <-appDone:
		appDone <- failed // read again below
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "grace", shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) && failed == nil {
		failed = err
	}
	stopRun()
	if err := <-appDone; err != nil && failed == nil {
		failed = err
	}
	if errors.Is(failed, http.ErrServerClosed) {
		failed = nil
	}
	return failed
}

// syslogScope resolves --syslog-workspaces: the ids of the listed workspaces, or nil for "*".
func syslogScope(ctx context.Context, pool *pgxpool.Pool, slugs string) ([]uuid.UUID, error) {
	if strings.TrimSpace(slugs) == "*" {
		return nil, nil
	}
	var ids []uuid.UUID
	for _, slug := range strings.Split(slugs, ",") {
		if slug = strings.TrimSpace(slug); slug == "" {
			continue
		}
		ws, err := admin.FindWorkspace(ctx, db.New(pool), slug)
		if err != nil {
			return nil, fmt.Errorf("--syslog-workspaces: %s: %w", slug, err)
		}
		ids = append(ids, ws.ID)
	}
	if len(ids) == 0 {
		return nil, errors.New("--syslog-workspaces names no workspace (use * for all)")
	}
	return ids, nil
}
