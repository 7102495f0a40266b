// Package remoteworkers is the server's side of the worker protocol: remote workers
// (probes/runner/remote) hold a worker token instead of database credentials, and this
// package registers them, leases them checks and stores their results, each within the
// token's scope (one workspace, or every workspace for an installation-wide token) and, for a
// token pinned to a location, in that location only.
package remoteworkers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/probes/runner/worker"
)

// The cadence a remote worker is told to keep: its heartbeats, and the margin a claimed
// check's lease has beyond its timeout (the time a result has to come back before another
// worker may run the check again).
const (
	HeartbeatEvery = 10 * time.Second
	LeaseMargin    = 20 * time.Second
)

// Scope is what a worker token may act on.
type Scope struct {
	TokenID uuid.UUID
	// WorkspaceID is the token's workspace; nil for an installation-wide token.
	WorkspaceID *uuid.UUID
	// Location is the location the token is pinned to; "" when its workers name their own.
	Location string
}

// WorkerID is the id of the scope's worker named name (see worker.RemoteIDFor).
func (s Scope) WorkerID(name string) uuid.UUID { return worker.RemoteIDFor(s.TokenID, name) }

// Service serves the worker protocol.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
	log  *slog.Logger
	// written is called after a batch of results is stored (to kick the process's digester).
	written func()

	mu         sync.Mutex
	partitions map[time.Time]bool // days whose result partitions are known to exist
}

// New returns the service; written (may be nil) is called after each stored batch.
func New(pool *pgxpool.Pool, log *slog.Logger, written func()) *Service {
	if written == nil {
		written = func() {}
	}
	return &Service{pool: pool, q: db.New(pool), log: log, written: written, partitions: map[time.Time]bool{}}
}

// Worker is what a worker says of itself.
type Worker struct {
	Name, Location, Version string
}

// WrongLocation refuses a worker that names a location other than its token's: a private
// location's token must not claim the checks (and their secrets) of the workspace's others.
type WrongLocation struct {
	Pinned, Said string
}

func (e *WrongLocation) Error() string {
	return fmt.Sprintf("this worker token is pinned to location %q; the worker said %q", e.Pinned, e.Said)
}

// pin is w in the location it works for: its token's when the token is pinned, whatever w
// says (the error tells when w named another), else its own.
func (s Scope) pin(w Worker) (Worker, error) {
	if s.Location == "" {
		return w, nil
	}
	said := w.Location
	w.Location = s.Location
	if said != "" && said != s.Location {
		return w, &WrongLocation{Pinned: s.Location, Said: said}
	}
	return w, nil
}

// Heartbeat registers the worker (or refreshes it) where its token serves, and returns its id.
// A worker its token refuses (*WrongLocation) is not registered.
func (s *Service) Heartbeat(ctx context.Context, sc Scope, w Worker) (uuid.UUID, error) {
	w, err := sc.pin(w)
	if err != nil {
		return uuid.Nil, err
	}
	id := sc.WorkerID(w.Name)
	if sc.WorkspaceID != nil {
		err = s.q.RegisterWorkerIn(ctx, db.RegisterWorkerInParams{WorkspaceID: *sc.WorkspaceID, ID: id, Name: w.Name, Location: w.Location, Version: w.Version})
	} else {
		err = s.q.RegisterWorkerEverywhere(ctx, db.RegisterWorkerEverywhereParams{ID: id, Name: w.Name, Location: w.Location, Version: w.Version})
	}
	return id, err
}

// Claim leases up to max due checks of the scope to the worker: those of its location and
// those any worker may run.
func (s *Service) Claim(ctx context.Context, sc Scope, w Worker, max int) ([]worker.Claim, error) {
	w, err := sc.pin(w)
	if err != nil {
		return nil, err
	}
	return worker.ClaimDue(ctx, s.pool, worker.ClaimParams{
		WorkerID: sc.WorkerID(w.Name), Location: w.Location, Max: max, LeaseMargin: LeaseMargin, WorkspaceID: sc.WorkspaceID,
	}, s.log)
}

// BadResult refuses a batch: its result Index cannot be stored (Field says what is wrong).
type BadResult struct {
	Index          int
	Field, Message string
}

func (e *BadResult) Error() string {
	return fmt.Sprintf("results[%d].%s: %s", e.Index, e.Field, e.Message)
}

// How far a result's time may be from the server's clock: a spooled result may come back
// late (up to MaxAge, beyond which raw results are past the usual retention anyway), never
// from the future beyond a little clock skew.
const (
	MaxAge  = 30 * 24 * time.Hour
	MaxSkew = time.Hour
)

// Skipped is a record Store did not store: its check is not in the token's scope (a check
// deleted while its run was in flight, or one the worker had no business naming).
type Skipped struct {
	Index   int
	CheckID uuid.UUID
}

// Store stores the batch's records whose checks are in the scope, in one transaction, and
// says which it skipped. A record dated too far from the server's clock refuses the whole
// batch. The records' host and worker ids are the server's, never the worker's word; their
// location is the worker's unless its token is pinned to one.
func (s *Service) Store(ctx context.Context, sc Scope, w Worker, recs []store.Record) ([]Skipped, error) {
	// A pinned token's results are its location's even from a worker that names another: no
	// claim of another location was ever leased under it, and refusing the batch would only
	// leave it in the worker's spool.
	w, _ = sc.pin(w)
	now := time.Now()
	ids := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		ids[i] = r.CheckID
		if r.Time.After(now.Add(MaxSkew)) || r.Time.Before(now.Add(-MaxAge)) {
			return nil, &BadResult{Index: i, Field: "time", Message: "too far from the server's clock (at most 30 days old, 1 hour ahead)"}
		}
	}
	rows, err := s.q.ChecksInScope(ctx, db.ChecksInScopeParams{CheckIds: ids, Scope: sc.WorkspaceID})
	if err != nil {
		return nil, err
	}
	type key struct{ ws, check uuid.UUID }
	hosts := make(map[key]uuid.UUID, len(rows))
	for _, r := range rows {
		hosts[key{r.WorkspaceID, r.ID}] = r.HostID
	}
	workerID := sc.WorkerID(w.Name)
	var skipped []Skipped
	kept := recs[:0:0]
	for i, r := range recs {
		host, ok := hosts[key{r.WorkspaceID, r.CheckID}]
		if !ok {
			skipped = append(skipped, Skipped{Index: i, CheckID: r.CheckID})
			continue
		}
		r.HostID, r.WorkerID, r.Location = host, workerID, w.Location
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return skipped, nil
	}
	if err := s.ensurePartitions(ctx, kept); err != nil {
		return nil, err
	}
	if err := store.Write(ctx, s.pool, kept); err != nil {
		return nil, err
	}
	s.written()
	return skipped, nil
}

// ensurePartitions makes sure the daily partitions of the records' days exist: a spooled
// batch may be days old, from days no process kept partitions for (the server was away).
func (s *Service) ensurePartitions(ctx context.Context, recs []store.Record) error {
	first, last := store.TimeSpan(recs)
	firstDay, lastDay := first.UTC().Truncate(24*time.Hour), last.UTC().Truncate(24*time.Hour)
	s.mu.Lock()
	known := s.partitions[firstDay] && s.partitions[lastDay]
	s.mu.Unlock()
	if known {
		return nil
	}
	if _, err := s.q.EnsurePartitions(ctx, db.EnsurePartitionsParams{FirstDay: firstDay, LastDay: lastDay}); err != nil {
		return fmt.Errorf("result partitions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := firstDay; !d.After(lastDay); d = d.AddDate(0, 0, 1) {
		s.partitions[d] = true
	}
	return nil
}

// IssuedToken is a worker token as made: the secret is shown this once.
type IssuedToken struct {
	ID          uuid.UUID
	WorkspaceID *uuid.UUID
	Name        string
	Location    string // "" when not pinned
	CreatedAt   time.Time
	Token       string
}

// CreateToken makes a worker token for workspace, or an installation-wide one when
// workspace is nil (the operator's command line only, never the API), pinned to location
// unless it is "".
func CreateToken(ctx context.Context, q *db.Queries, workspace *uuid.UUID, name, location string) (IssuedToken, error) {
	if name == "" {
		return IssuedToken{}, errors.New("a worker token needs a name")
	}
	var pinned *string
	if location != "" {
		if !worker.ValidLocation(location) {
			return IssuedToken{}, fmt.Errorf("location %q: %s", location, worker.LocationRule)
		}
		pinned = &location
	}
	token, hash := access.NewWorkerToken()
	row, err := q.CreateWorkerToken(ctx, db.CreateWorkerTokenParams{ID: uuid.New(), WorkspaceID: workspace, Name: name, TokenHash: hash, Location: pinned})
	if err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{ID: row.ID, WorkspaceID: row.WorkspaceID, Name: row.Name, Location: location, CreatedAt: row.CreatedAt, Token: token}, nil
}
