package main

import (
	"context"
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
	"github.com/secuaas/secumon/server/domain/syslog"
)

// shutdownGrace is how long in-flight requests may run after SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("serve", &c)
	addr := fs.String("addr", env("addr", "127.0.0.1:8080"), "listen address [SECUMON_ADDR]")
	noWorker := fs.Bool("no-worker", env("no-worker", "") == "true", "run the API only; workers run as `secumon worker` [SECUMON_NO_WORKER]")
	wf := addWorkerFlags(fs)
	af := addAlertFlags(fs)
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
	pool, closeDB, err := openDatabase(ctx, &c, log)
	if err != nil {
		return err
	}
	defer closeDB()

	dataDir, _ := c.absDataDir()
	ownerToken, err := admin.Bootstrap(ctx, pool, dataDir)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}

	var logs *syslog.Receiver
	if *syslogAddr != "" {
		served, err := syslogScope(ctx, pool, *syslogWorkspaces)
		if err != nil {
			return err
		}
		if logs, err = syslog.Listen(pool, syslog.Config{Addr: *syslogAddr, Workspaces: served, Logger: log.With("component", "syslog")}); err != nil {
			return err
		}
	}
	syslogDone := make(chan struct{})
	if logs == nil {
		close(syslogDone)
	} else {
		go func() { defer close(syslogDone); logs.Run(ctx) }()
	}

	aiCfg, err := ai.ConfigFromEnv()
	if err != nil {
		return err
	}
	al := af.build(log)
	svc, err := server.New(ctx, server.Options{Pool: pool, Logger: log, Alerts: al, SyslogEnabled: logs != nil, AI: aiCfg})
	if err != nil {
		return err
	}
	stopAlerting, err := startAlerting(ctx, pool, al, aiCfg, log)
	if err != nil {
		return err
	}
	defer stopAlerting()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           svc,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	url := "http://" + ln.Addr().String()
	fmt.Printf("SecuMon is listening on %s  (API %s/api/v2, docs %s/docs)\n", url, url, url)
	if ownerToken != "" {
		fmt.Printf("First start: owner token (also in %s):\n\n    %s\n\n", filepath.Join(dataDir, admin.OwnerTokenFile), ownerToken)
		fmt.Printf("Try: curl -H \"Authorization: Bearer %s\" %s/api/v2/hosts\n", ownerToken, url)
	} else {
		fmt.Printf("Owner token of the first start: %s\n", filepath.Join(dataDir, admin.OwnerTokenFile))
	}

	errc := make(chan error, 2)
	workerDone := make(chan struct{})
	if *noWorker {
		close(workerDone)
	} else {
		w, err := wf.build(pool, log, al.DigestHook)
		if err != nil {
			return err
		}
		go func() {
			defer close(workerDone)
			if err := w.Run(ctx); err != nil {
				errc <- fmt.Errorf("embedded worker: %w", err)
			}
		}()
	}
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "grace", shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-workerDone // the worker writes its queued results before the database stops
	<-syslogDone // and the syslog receiver its queued entries
	return nil
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
