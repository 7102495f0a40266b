// Package heartbeat receives the pings of heartbeat checks: the jobs they watch call a secret
// URL, and each success or failure becomes a result of the check, written through the same
// results path as a probe's (probes/runner/store), so that incidents, alert policies,
// maintenance windows and status pages treat it like any other. A success also moves the
// check's next run to its new deadline, where the runner judges whether the next ping came
// (probes.JudgeHeartbeat).
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/domain/access"
	"github.com/secuaas/secumon/server/platform/database"
)

// TokenPrefix marks ping tokens, so that secret scanners can recognise leaked ones (and they
// are told apart from API tokens, smn_…).
const TokenPrefix = "hb_"

// MaxBody is how much of a ping's body is kept with its result; the rest is cut.
const MaxBody = 10 << 10

// PathPrefix is where ping URLs live, outside /api/v2: PathPrefix + token.
const PathPrefix = "/ping/"

// NewToken returns a fresh ping token (shown once) and the hash to store: the only form in
// which a ping token is kept. Tokens are looked up by their hash, which the caller cannot
// choose, so no timing reveals a token.
func NewToken() (token string, hash []byte) { return access.NewSecret(TokenPrefix) }

// Rotate gives a heartbeat check a new token (a new check its first) and returns it; the old
// one stops working at once.
func Rotate(ctx context.Context, q *db.Queries, workspaceID, checkID uuid.UUID) (string, error) {
	token, hash := NewToken()
	err := q.SetHeartbeatToken(ctx, db.SetHeartbeatTokenParams{WorkspaceID: workspaceID, CheckID: checkID, TokenHash: hash})
	return token, err
}

// Signal is what a ping says.
type Signal int

const (
	Success Signal = iota // /ping/{token}, or exit status 0
	Start                 // /ping/{token}/start: a run began
	Failure               // /ping/{token}/fail, or a non-zero exit status
)

// Ping is one call of a ping URL.
type Ping struct {
	Token      string
	Signal     Signal
	ExitStatus *int   // when the URL gave one
	Body       []byte // at most MaxBody+1 bytes of the request body
}

// ErrUnknownToken: no check has this token.
var ErrUnknownToken = errors.New("no heartbeat check has this ping URL")

// Receiver records pings.
type Receiver struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time
}

// NewReceiver returns a Receiver over pool.
func NewReceiver(pool *pgxpool.Pool, log *slog.Logger) *Receiver {
	return &Receiver{pool: pool, log: log, now: time.Now}
}

// Receive records p: the ping's time on the check and, for a success or a failure, a result.
// A ping for a disabled check is accepted and ignored (its job need not know).
func (r *Receiver) Receive(ctx context.Context, p Ping) error {
	if !strings.HasPrefix(p.Token, TokenPrefix) || len(p.Token) > 128 {
		return ErrUnknownToken
	}
	now := r.now().UTC()
	var rec *store.Record
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		hb, err := q.FindHeartbeatByToken(ctx, access.HashToken(p.Token))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUnknownToken
		}
		if err != nil || !hb.Enabled {
			return err
		}
		kind := map[Signal]string{Success: "ok", Start: "start", Failure: "fail"}[p.Signal]
		if err := q.RecordHeartbeatPing(ctx, db.RecordHeartbeatPingParams{Kind: kind, At: now, WorkspaceID: hb.WorkspaceID, CheckID: hb.CheckID}); err != nil {
			return err
		}
		if p.Signal == Start {
			return nil
		}
		if p.Signal == Success {
			// The next ping is owed by the new deadline: the check's next run judges it then.
			deadline, err := probes.NextHeartbeatJudgement(hb.Config, probes.Pings{LastOK: now})
			if err != nil {
				r.log.Warn("heartbeat check with a config it cannot judge", "check_id", hb.CheckID, "err", err)
			} else if err := q.ScheduleHeartbeatJudgement(ctx, db.ScheduleHeartbeatJudgementParams{
				Exact: true, Deadline: deadline, WorkspaceID: hb.WorkspaceID, CheckID: hb.CheckID,
			}); err != nil {
				return err
			}
		}
		rec = result(hb, p, now)
		return nil
	})
	if err != nil || rec == nil {
		return err
	}
	// Written after the ping is recorded, through the results path: the digester (in any
	// worker process) folds it into the check's state and evaluates incidents.
	err = store.Write(ctx, r.pool, []store.Record{*rec})
	if err != nil && ctx.Err() == nil {
		// The day's results partition is made by the workers; an API process that receives the
		// first ping of a day before any worker wrote makes it itself.
		if perr := database.EnsurePartitions(ctx, r.pool, now); perr == nil {
			err = store.Write(ctx, r.pool, []store.Record{*rec})
		}
	}
	return err
}

// result is the check result a success or failure ping writes.
func result(hb db.FindHeartbeatByTokenRow, p Ping, now time.Time) *store.Record {
	status, out := probes.OK, "success ping"
	if p.ExitStatus != nil {
		out = fmt.Sprintf("exit status %d", *p.ExitStatus)
	}
	if p.Signal == Failure {
		status = probes.Critical
		out = "the job reported a failure"
		if p.ExitStatus != nil {
			out += fmt.Sprintf(" (exit status %d)", *p.ExitStatus)
		}
	}
	errMsg := ""
	if status != probes.OK {
		errMsg = out
	}
	if body := cleanBody(p.Body); body != "" {
		out += "\n" + body
	}
	rec := &store.Record{
		WorkspaceID: hb.WorkspaceID, CheckID: hb.CheckID, HostID: hb.HostID, Time: now,
		Status: int16(status), Output: out, ErrorMsg: errMsg,
	}
	if p.ExitStatus != nil {
		rec.Metrics = map[string]float64{"exit_status": float64(*p.ExitStatus)}
	}
	return rec
}

// cleanBody keeps at most MaxBody bytes of valid UTF-8 without NUL bytes (PostgreSQL text
// cannot hold them), marking a cut.
func cleanBody(b []byte) string {
	cut := len(b) > MaxBody
	if cut {
		b = b[:MaxBody]
	}
	s := strings.ToValidUTF8(strings.ReplaceAll(string(b), "\x00", ""), "\uFFFD")
	s = strings.TrimRight(s, "\r\n")
	if cut {
		s += "\n[cut at 10 KB]"
	}
	return s
}
