package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	pool                 *pgxpool.Pool
	q                    *db.Queries
	ws, host, check, wkr uuid.UUID
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	f := fixture{pool: pool, q: q, ws: uuid.New(), host: uuid.New(), check: uuid.New(), wkr: uuid.New()}
	_, err := q.CreateWorkspace(ctx, db.CreateWorkspaceParams{ID: f.ws, Slug: "w", Name: "w"})
	require.NoError(t, err)
	_, err = q.CreateHost(ctx, db.CreateHostParams{WorkspaceID: f.ws, ID: f.host, Name: "h", Hostname: "127.0.0.1", HostType: "server", Tags: []byte("{}"), IsActive: true})
	require.NoError(t, err)
	_, err = q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: f.ws, ID: f.check, HostID: f.host, Name: "c", CheckType: "ping", Config: []byte("{}"), IntervalSec: 60, TimeoutSec: 10, FailureThreshold: 2, Enabled: true})
	require.NoError(t, err)
	_, err = q.RegisterWorker(ctx, db.RegisterWorkerParams{WorkspaceID: f.ws, ID: f.wkr, Name: "w1"})
	require.NoError(t, err)
	require.NoError(t, database.EnsurePartitions(ctx, pool, time.Now()))
	return f
}

func (f fixture) record(at time.Time, status int16, latency float64) store.Record {
	return store.Record{WorkspaceID: f.ws, CheckID: f.check, HostID: f.host, WorkerID: f.wkr, Time: at, Status: status,
		LatencyMs: latency, Output: "out", Metrics: map[string]float64{"loss_pct": 0}}
}

func (f fixture) digest(t *testing.T) {
	t.Helper()
	require.NoError(t, store.NewDigester(f.pool, slog.New(slog.DiscardHandler)).DigestAll(context.Background()))
	var left int
	require.NoError(t, f.pool.QueryRow(context.Background(), "SELECT count(*) FROM result_batches").Scan(&left))
	require.Zero(t, left, "every batch digested once")
}

func TestWriteBatch(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Hour).Add(10 * time.Minute)
	batch := []store.Record{
		f.record(base, 0, 1),
		f.record(base.Add(10*time.Second), 2, 3),
		f.record(base.Add(70*time.Second), 0, 2),
	}
	batch[2].Samples = []store.Sample{{OID: "1.3.6.1.2.1.31.1.1.1.6", Name: "ifHCInOctets", Instance: "lo", Value: 42}}
	batch[2].Facts = map[string]string{"sysName": "test"}
	require.NoError(t, store.Write(ctx, f.pool, batch))
	var pending int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_latest").Scan(&pending))
	assert.Zero(t, pending, "the writer only copies; the digester derives the rest")
	f.digest(t)

	var n int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_results WHERE check_id = $1", f.check).Scan(&n))
	assert.Equal(t, 3, n)
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM snmp_samples WHERE check_id = $1", f.check).Scan(&n))
	assert.Equal(t, 1, n)

	var status int16
	var at time.Time
	var facts string
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT status, time, facts::text FROM check_latest WHERE check_id = $1", f.check).Scan(&status, &at, &facts))
	assert.Equal(t, int16(0), status)
	assert.WithinDuration(t, base.Add(70*time.Second), at, time.Millisecond)
	assert.JSONEq(t, `{"sysName":"test"}`, facts)

	// Minute buckets: [base, base+10s] and [base+70s]; the hour bucket holds all three.
	rows, err := f.pool.Query(ctx, `SELECT bucket_size, samples, ok, critical, latency_sum, latency_min, latency_max
		FROM check_rollups WHERE check_id = $1 ORDER BY bucket_size, bucket`, f.check)
	require.NoError(t, err)
	type agg struct {
		size, samples, ok, crit int
		sum, min, max           float64
	}
	var got []agg
	for rows.Next() {
		var a agg
		require.NoError(t, rows.Scan(&a.size, &a.samples, &a.ok, &a.crit, &a.sum, &a.min, &a.max))
		got = append(got, a)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []agg{
		{60, 2, 1, 1, 4, 1, 3}, {60, 1, 1, 0, 2, 2, 2},
		{3600, 3, 2, 1, 6, 1, 3},
		{86400, 3, 2, 1, 6, 1, 3},
	}, got)

	// A second batch adds to the same buckets, and an older result never replaces the latest.
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{f.record(base.Add(20*time.Second), 1, 5)}))
	f.digest(t)
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT status FROM check_latest WHERE check_id = $1", f.check).Scan(&status))
	assert.Equal(t, int16(0), status)
	var samples, warning int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT samples, warning FROM check_rollups WHERE check_id = $1 AND bucket_size = 3600", f.check).Scan(&samples, &warning))
	assert.Equal(t, 4, samples)
	assert.Equal(t, 1, warning)

	c, err := f.q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: f.ws, ID: f.check})
	require.NoError(t, err)
	require.NotNil(t, c.LastStatus)
	assert.Equal(t, int16(0), *c.LastStatus)
	w, err := f.q.GetWorker(ctx, db.GetWorkerParams{WorkspaceID: f.ws, ID: f.wkr})
	require.NoError(t, err)
	assert.Equal(t, int64(4), w.ChecksExecuted)
}

func TestWriterBatchesAndRetention(t *testing.T) {
	f := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := store.NewWriter(f.pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.FlushEvery = 20 * time.Millisecond
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	now := time.Now().UTC()
	for i := range 250 {
		require.NoError(t, w.Add(ctx, f.record(now.Add(time.Duration(i)*time.Millisecond), 0, 1)))
	}
	cancel()
	<-done // Run drains what was queued before returning
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), "SELECT count(*) FROM check_results").Scan(&n))
	assert.Equal(t, 250, n)

	// Retention drops whole partitions older than the cutoff (here: everything before tomorrow).
	bg := context.Background()
	tomorrow := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	dropped, err := f.q.DropPartitionsBefore(bg, tomorrow)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, dropped, int32(2), "yesterday's and today's results and samples")
	require.NoError(t, f.pool.QueryRow(bg, "SELECT count(*) FROM check_results").Scan(&n))
	assert.Zero(t, n)
}

// The digest keeps each check's streak of consecutive failures across batches, never rewinds
// a check for a late batch, releases a lease only for the run it was granted to, and hands
// every moved check to its hooks inside its transaction.
func TestDigestStreaksLeasesAndHooks(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var seen []db.DigestRunsRow
	d := store.NewDigester(f.pool, slog.New(slog.DiscardHandler), func(_ context.Context, _ pgx.Tx, runs []db.DigestRunsRow) error {
		seen = append(seen, runs...)
		return nil
	})
	lease := uuid.New()
	_, err := f.pool.Exec(ctx, "UPDATE check_schedules SET lease_run_id = $1, leased_by = $2, lease_until = now() + interval '1 minute'", lease, f.wkr)
	require.NoError(t, err)
	streak := func() (n int32, leased bool) {
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT fail_streak, lease_run_id IS NOT NULL FROM check_schedules WHERE check_id = $1", f.check).Scan(&n, &leased))
		return n, leased
	}
	base := time.Now().UTC().Add(-time.Hour)

	// OK then two failures: a streak of 2; a result for another run keeps the lease.
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{f.record(base, 0, 1), f.record(base.Add(time.Minute), 2, 1), f.record(base.Add(2*time.Minute), 1, 1)}))
	require.NoError(t, d.DigestAll(ctx))
	n, leased := streak()
	assert.Equal(t, int32(2), n)
	assert.True(t, leased)
	require.Len(t, seen, 1)
	assert.Nil(t, seen[0].PreviousStatus)
	assert.Equal(t, int32(0), seen[0].PreviousStreak)
	assert.Equal(t, int32(2), seen[0].FailStreak)
	assert.Equal(t, int16(1), *seen[0].LastStatus)

	// A later batch of failures adds to the streak; the leased run's result releases the lease.
	leasedRun := f.record(base.Add(3*time.Minute), 2, 1)
	leasedRun.RunID = lease
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{leasedRun}))
	require.NoError(t, d.DigestAll(ctx))
	n, leased = streak()
	assert.Equal(t, int32(3), n)
	assert.False(t, leased)

	// A late batch (older than the last run) changes neither the streak nor the status.
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{f.record(base.Add(30*time.Second), 0, 1)}))
	require.NoError(t, d.DigestAll(ctx))
	n, _ = streak()
	assert.Equal(t, int32(3), n)

	// Recovery resets it.
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{f.record(base.Add(4*time.Minute), 0, 1)}))
	require.NoError(t, d.DigestAll(ctx))
	n, _ = streak()
	assert.Zero(t, n)
	last := seen[len(seen)-1]
	assert.Equal(t, int32(3), last.PreviousStreak)
	assert.Equal(t, int16(2), *last.PreviousStatus)
	assert.Equal(t, int16(0), *last.LastStatus)

	// A failing hook rolls the digest back: the batch stays for the next try.
	failing := store.NewDigester(f.pool, slog.New(slog.DiscardHandler), func(context.Context, pgx.Tx, []db.DigestRunsRow) error {
		return assert.AnError
	})
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{f.record(base.Add(5*time.Minute), 2, 1)}))
	require.ErrorIs(t, failing.DigestAll(ctx), assert.AnError)
	n, _ = streak()
	assert.Zero(t, n)
	f.digest(t)
	n, _ = streak()
	assert.Equal(t, int32(1), n)
}

// A batch its hooks refuse for its data does not stall the others: they are digested with
// their hooks, and the bad one without them, so every lease and latest result moves on.
func TestPoisonBatchDoesNotStallTheDigest(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	other := uuid.New()
	_, err := f.q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: f.ws, ID: other, HostID: f.host, Name: "other", CheckType: "ping",
		Config: []byte("{}"), IntervalSec: 60, TimeoutSec: 10, FailureThreshold: 2, Enabled: true})
	require.NoError(t, err)
	var hooked []uuid.UUID
	d := store.NewDigester(f.pool, slog.New(slog.DiscardHandler), func(_ context.Context, _ pgx.Tx, runs []db.DigestRunsRow) error {
		for _, r := range runs {
			if r.CheckID == f.check {
				return &pgconn.PgError{Code: "22P02", Message: "bad data for this check"}
			}
		}
		for _, r := range runs {
			hooked = append(hooked, r.CheckID)
		}
		return nil
	})
	now := time.Now().UTC()
	bad := f.record(now, 2, 1)
	good := f.record(now, 2, 1)
	good.CheckID = other
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{bad}))
	require.NoError(t, store.Write(ctx, f.pool, []store.Record{good}))

	require.NoError(t, d.DigestAll(ctx))
	assert.Equal(t, []uuid.UUID{other}, hooked, "the good batch went through its hooks")
	var left, latest int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM result_batches").Scan(&left))
	assert.Zero(t, left)
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_latest").Scan(&latest))
	assert.Equal(t, 2, latest, "both batches digested")
}
