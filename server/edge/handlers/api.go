// Package handlers implements the contract's strict server interface, one file per module.
// Handlers receive validated requests (server/edge/contract ran first) and an authenticated caller;
// they return typed responses, or a *problem.Problem / a plain error for everything else.
package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/ai/analysis"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/ai/tagging"
	"github.com/secuaas/secumon/server/domain/remoteworkers"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/checkconfig"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/platform/jobs"
)

// API is the strict server.
// WorkerStaleAfter is how old a worker's heartbeat may be before it shows as stale and no
// longer counts as live in its location (the location reporter uses the same).
const WorkerStaleAfter = 90 * time.Second

type API struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	configs *checkconfig.Configs
	// announcer notifies people of incident changes; nil notifies nobody.
	announcer Announcer
	// ackExpirer ends acknowledgements at their expiry; nil: acknowledgements last.
	ackExpirer AckExpirer
	// workerStaleAfter is how old a heartbeat may be before a worker shows as stale.
	workerStaleAfter time.Duration
	// syslogEnabled: the syslog receiver runs; GetHostLogs says so.
	syslogEnabled bool
	// ai serves host tagging and incident analysis; nil answers 503.
	ai *aiOps
	// publicURL: see Deps.PublicURL.
	publicURL string
	// remote serves the worker protocol; revoked drops cached authentications.
	remote  *remoteworkers.Service
	revoked func()
}

// Deps are what the handlers work with. The composition root (package server) builds them.
type Deps struct {
	Pool    *pgxpool.Pool
	Configs *checkconfig.Configs
	// Announcer sends incident changes made through the API to the alert policies; nil
	// notifies nobody.
	Announcer Announcer
	// AckExpirer ends acknowledgements that carry an expiry; nil: they last.
	AckExpirer AckExpirer
	// SyslogEnabled: this process runs the syslog receiver, so host logs are collected.
	SyslogEnabled bool
	// AI serves host tagging and incident analysis, whose steps are queued on Jobs; nil
	// answers 503.
	AI   *providers.Set
	Jobs *jobs.Client
	// PublicURL is where clients reach the server, for heartbeat ping URLs; empty: the
	// origin of each request (RequestOrigin).
	PublicURL string
	// Remote serves the worker protocol (remote workers' claims and results).
	Remote *remoteworkers.Service
	// Revoked is called when a token is revoked, so that this process stops accepting it at
	// once (the authenticator's Forget); nil: it stops within the cache's TTL.
	Revoked func()
}

var _ api.StrictServerInterface = (*API)(nil)

// New returns the handlers.
func New(d Deps) *API {
	a := &API{
		pool: d.Pool, q: db.New(d.Pool), configs: d.Configs, announcer: d.Announcer, ackExpirer: d.AckExpirer,
		syslogEnabled: d.SyslogEnabled, workerStaleAfter: WorkerStaleAfter, publicURL: d.PublicURL,
		remote: d.Remote, revoked: d.Revoked,
	}
	if a.revoked == nil {
		a.revoked = func() {}
	}
	if d.AI != nil {
		a.ai = &aiOps{providers: d.AI, tagger: tagging.New(d.Pool, d.AI), sessions: analysis.NewSessions(d.Pool, d.AI, d.Jobs)}
	}
	return a
}

// inTx runs fn with queries bound to one transaction.
func (a *API) inTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error { return fn(db.New(tx)) })
}

// caller is the authenticated principal; the contract middleware guarantees one.
func caller(ctx context.Context) auth.Principal {
	p, ok := auth.FromContext(ctx)
	if !ok {
		panic("handlers: request without an authenticated caller")
	}
	return p
}

// notFoundAs turns "no row" into the 404 for kind and passes other errors through.
func notFoundAs(err error, kind string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return problem.NotFound(kind)
	}
	return err
}

// uniqueViolation reports whether err is a duplicate-key error.
func uniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// foreignKeyViolation reports whether err is a reference to a missing row.
func foreignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

func decodeTags(raw []byte) api.Tags {
	tags := api.Tags{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &tags)
	}
	return tags
}

func decodeObject(raw []byte) map[string]any {
	m := map[string]any{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of JSON values reach here
	}
	return b
}
