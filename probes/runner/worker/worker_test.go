package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// tcpTarget is a loopback listener that accepts and closes connections: a TCP check's peer.
func tcpTarget(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

type fixture struct {
	pool   *pgxpool.Pool
	q      *db.Queries
	ws     uuid.UUID
	host   uuid.UUID
	checks []uuid.UUID
}

// setup makes a workspace with n TCP checks on 127.0.0.1 at a 1-second interval (below the
// API's 10-second floor, written directly so the test stays short).
func setup(t *testing.T, n int) fixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	f := fixture{pool: pool, q: q, ws: uuid.New(), host: uuid.New()}
	_, err := q.CreateWorkspace(ctx, db.CreateWorkspaceParams{ID: f.ws, Slug: "w", Name: "w"})
	require.NoError(t, err)
	_, err = q.CreateHost(ctx, db.CreateHostParams{WorkspaceID: f.ws, ID: f.host, Name: "loopback", Hostname: "127.0.0.1", HostType: "server", Tags: []byte("{}"), IsActive: true})
	require.NoError(t, err)
	port := tcpTarget(t)
	for i := range n {
		id := uuid.New()
		_, err := q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: f.ws, ID: id, HostID: f.host, Name: fmt.Sprintf("tcp-%02d", i),
			CheckType: "tcp", Config: []byte(fmt.Sprintf(`{"port":%d}`, port)), IntervalSec: 1, TimeoutSec: 2, FailureThreshold: 2, Enabled: true})
		require.NoError(t, err)
		f.checks = append(f.checks, id)
	}
	return f
}

func startWorker(t *testing.T, pool *pgxpool.Pool, name string) (stop func()) {
	t.Helper()
	// The worker without the incident evaluator that `secumon worker` adds (server.Build):
	// these tests are about scheduling.
	w := worker.New(pool, worker.Options{Name: name, Location: "test", PollEvery: 50 * time.Millisecond, LeaseMargin: time.Second, Log: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, w.Run(ctx))
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

type run struct {
	check  uuid.UUID
	at     time.Time
	worker uuid.UUID
	status int16
}

func runs(t *testing.T, pool *pgxpool.Pool) []run {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT check_id, time, worker_id, status FROM check_results ORDER BY check_id, time")
	require.NoError(t, err)
	defer rows.Close()
	var out []run
	for rows.Next() {
		var r run
		require.NoError(t, rows.Scan(&r.check, &r.at, &r.worker, &r.status))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestTwoWorkersShareChecksOncePerInterval: two workers on one database run every check once
// per interval (never twice), both take part, and when one stops the other takes its checks.
func TestTwoWorkersShareChecksOncePerInterval(t *testing.T) {
	f := setup(t, 40)
	begun := time.Now()
	stopA := startWorker(t, f.pool, "worker-a")
	startWorker(t, f.pool, "worker-b")
	time.Sleep(4500 * time.Millisecond)
	stopA()
	killedAt := time.Now()
	time.Sleep(3 * time.Second)
	// worker-b takes over every check; on a starved machine it may need longer than 3 s.
	require.Eventually(t, func() bool {
		latest := map[uuid.UUID]time.Time{}
		for _, r := range runs(t, f.pool) {
			if r.at.After(latest[r.check]) {
				latest[r.check] = r.at
			}
		}
		for _, id := range f.checks {
			if !latest[id].After(killedAt.Add(time.Second)) {
				return false
			}
		}
		return true
	}, 15*time.Second, 200*time.Millisecond, "worker-b did not take over every check")

	all := runs(t, f.pool)
	byCheck := map[uuid.UUID][]run{}
	byWorker := map[uuid.UUID]int{}
	for _, r := range all {
		byCheck[r.check] = append(byCheck[r.check], r)
		byWorker[r.worker]++
		assert.Equal(t, int16(0), r.status, "the loopback TCP target answers")
	}
	require.Len(t, byCheck, len(f.checks), "every check ran")
	assert.Len(t, byWorker, 2, "both workers ran checks")
	idA := worker.IDFor("worker-a")
	for id, rs := range byCheck {
		// ~7.5 s at a 1-s interval (longer if the take-over waited): 7 or 8 runs; a doubled run
		// shows here, and so would leases that are not released (one run per lease time,
		// 21 s). Leases are released by the digest moments after each result, so a starved CI
		// machine may lose a run or two.
		assert.GreaterOrEqual(t, len(rs), 5, "check %s ran too rarely", id)
		assert.LessOrEqual(t, len(rs), int(time.Since(begun)/time.Second)+2, "check %s ran too often", id)
		// A run claimed late (a loaded machine) is followed by one on schedule, less than an
		// interval later; a doubled run is two workers running the same slot at once. Only
		// the second fails this.
		for i := 1; i < len(rs); i++ {
			assert.Greater(t, rs[i].at.Sub(rs[i-1].at), 250*time.Millisecond, "check %s ran twice in one interval", id)
		}
		last := rs[len(rs)-1]
		assert.True(t, last.at.After(killedAt.Add(time.Second)), "check %s kept running after worker-a stopped", id)
		for _, r := range rs {
			if r.at.After(killedAt) {
				assert.NotEqual(t, idA, r.worker, "a stopped worker runs nothing")
			}
		}
	}
}

// TestExpiredLeaseMovesOn: a check leased by a worker that died keeps its lease until it
// expires, then another worker runs it.
func TestExpiredLeaseMovesOn(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	dead := uuid.New()
	_, err := f.pool.Exec(ctx, "UPDATE check_schedules SET leased_by = $1, lease_until = now() + interval '2 seconds'", dead)
	require.NoError(t, err)
	started := time.Now()
	startWorker(t, f.pool, "survivor")
	require.Eventually(t, func() bool { return len(runs(t, f.pool)) > 0 }, 10*time.Second, 50*time.Millisecond)
	first := runs(t, f.pool)[0]
	assert.GreaterOrEqual(t, first.at.Sub(started), 1500*time.Millisecond, "not before the dead worker's lease expired")
}

// TestRetiredWorkerStopsClaiming: retiring a worker in a workspace (DELETE /workers/{id})
// stops it claiming there; the other worker carries on.
func TestRetiredWorkerStopsClaiming(t *testing.T) {
	f := setup(t, 5)
	startWorker(t, f.pool, "old")
	startWorker(t, f.pool, "new")
	ctx := context.Background()
	oldID := worker.IDFor("old")
	require.Eventually(t, func() bool {
		_, err := f.q.GetWorker(ctx, db.GetWorkerParams{WorkspaceID: f.ws, ID: oldID})
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "workers register in every workspace")
	n, err := f.q.RetireWorker(ctx, db.RetireWorkerParams{WorkspaceID: f.ws, ID: oldID})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	// Runs the old worker claimed before it was retired still start: a claim takes runs due up
	// to the lookahead (1 s) ahead, and one that began just before the retirement committed
	// does not see it. Anything it starts after that is a claim made after retirement.
	retiredAt := time.Now().Add(time.Second + 300*time.Millisecond)
	time.Sleep(4 * time.Second)
	late := 0
	for _, r := range runs(t, f.pool) {
		if r.at.After(retiredAt) {
			late++
			assert.NotEqual(t, oldID, r.worker, "the retired worker claimed a check")
		}
	}
	assert.Positive(t, late, "the other worker kept running the checks")
}

// TestRunNow: a run-now request is run by a worker within seconds and its result carries the
// run id; the request is durable (made before any worker runs); a second request made while
// the first is pending joins it; the schedule then continues one interval later.
func TestRunNow(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	_, err := f.pool.Exec(ctx, "UPDATE checks SET interval_sec = 3600")
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, "UPDATE check_schedules SET next_run_at = now() + interval '1 hour'") // only run-now runs it
	require.NoError(t, err)
	runID, err := f.q.RequestRun(ctx, db.RequestRunParams{WorkspaceID: f.ws, CheckID: f.checks[0], RunID: uuid.New()})
	require.NoError(t, err)
	again, err := f.q.RequestRun(ctx, db.RequestRunParams{WorkspaceID: f.ws, CheckID: f.checks[0], RunID: uuid.New()})
	require.NoError(t, err)
	assert.Equal(t, runID, again, "a request made while one is pending joins it")
	// The request waits in PostgreSQL until a worker exists.
	time.Sleep(200 * time.Millisecond)
	startWorker(t, f.pool, "runner")
	var got uuid.UUID
	require.Eventually(t, func() bool {
		err := f.pool.QueryRow(ctx, "SELECT run_id FROM check_results WHERE check_id = $1 AND run_id IS NOT NULL", f.checks[0]).Scan(&got)
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, runID, got)
	time.Sleep(300 * time.Millisecond)
	rs := runs(t, f.pool)
	assert.Len(t, rs, 1, "only the requested run")
	var next time.Time
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT next_run_at FROM check_schedules WHERE check_id = $1", f.checks[0]).Scan(&next))
	assert.WithinDuration(t, time.Now().Add(time.Hour), next, time.Minute, "the schedule continues one interval after the run")
}

// TestClaimAheadStartsOnTimeAndHandsBack: a worker claims a run before it is due and starts it
// at its due time, not at the claim; a worker that stops holding a claimed run it has not
// started hands it back (due time restored, lease cleared), and the next worker runs it.
func TestClaimAheadStartsOnTimeAndHandsBack(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	check := f.checks[0]
	_, err := f.pool.Exec(ctx, "UPDATE checks SET interval_sec = 60")
	require.NoError(t, err)
	due := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	_, err = f.pool.Exec(ctx, "UPDATE check_schedules SET next_run_at = $1", due)
	require.NoError(t, err)

	w := worker.New(f.pool, worker.Options{Name: "ahead", Location: "test", PollEvery: 50 * time.Millisecond, Lookahead: 3 * time.Second, Log: quiet})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); assert.NoError(t, w.Run(wctx)) }()
	var leased bool
	require.Eventually(t, func() bool {
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT lease_run_id IS NOT NULL FROM check_schedules WHERE check_id = $1", check).Scan(&leased))
		return leased
	}, 5*time.Second, 20*time.Millisecond, "claimed before it is due")
	assert.True(t, time.Now().Before(due), "the claim came ahead of the due time")
	require.Eventually(t, func() bool { return len(runs(t, f.pool)) == 1 }, 5*time.Second, 20*time.Millisecond)
	ran := runs(t, f.pool)[0].at
	assert.False(t, ran.Before(due), "started at its due time (%s), not at the claim (ran at %s)", due, ran)
	assert.WithinDuration(t, due, ran, 500*time.Millisecond)

	// The next run is due in 60 s: make it due in 1.5 s, let the worker claim it, stop it.
	next := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	require.Eventually(t, func() bool { // the digest has released the first run's lease
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT lease_run_id IS NOT NULL FROM check_schedules WHERE check_id = $1", check).Scan(&leased))
		return !leased
	}, 5*time.Second, 20*time.Millisecond)
	_, err = f.pool.Exec(ctx, "UPDATE check_schedules SET next_run_at = $1", next)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT lease_run_id IS NOT NULL FROM check_schedules WHERE check_id = $1", check).Scan(&leased))
		return leased
	}, 5*time.Second, 20*time.Millisecond, "the second run claimed ahead")
	stop()
	<-done
	var backAt time.Time
	var pending *uuid.UUID
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT next_run_at, lease_run_id IS NOT NULL, pending_run_id FROM check_schedules WHERE check_id = $1", check).
		Scan(&backAt, &leased, &pending))
	assert.False(t, leased, "the unstarted run's lease is handed back")
	assert.WithinDuration(t, next, backAt, time.Millisecond, "with its due time")
	assert.NotNil(t, pending, "its run id kept, in case it was a run-now request")
	assert.Len(t, runs(t, f.pool), 1, "the stopped worker did not run it")

	startWorker(t, f.pool, "next")
	require.Eventually(t, func() bool { return len(runs(t, f.pool)) == 2 }, 5*time.Second, 20*time.Millisecond, "the next worker runs it")
	assert.WithinDuration(t, next, runs(t, f.pool)[1].at, time.Second, "on time")
}

// TestPausedChecksAreParked: a claim moves the due schedules of a paused check, and of a check
// whose host is inactive, a minute ahead instead of walking them again on every claim; neither
// runs, a run-now still runs the paused one, and waking them (what enabling the check or
// activating the host does) brings them back within moments.
func TestPausedChecksAreParked(t *testing.T) {
	f := setup(t, 2)
	ctx := context.Background()
	running, paused := f.checks[0], f.checks[1]
	_, err := f.pool.Exec(ctx, "UPDATE checks SET enabled = false WHERE id = $1", paused)
	require.NoError(t, err)
	idle := uuid.New() // an inactive host with an enabled check
	_, err = f.q.CreateHost(ctx, db.CreateHostParams{WorkspaceID: f.ws, ID: idle, Name: "idle", Hostname: "127.0.0.1", HostType: "server", Tags: []byte("{}"), IsActive: false})
	require.NoError(t, err)
	idleCheck := uuid.New()
	_, err = f.q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: f.ws, ID: idleCheck, HostID: idle, Name: "tcp-idle",
		CheckType: "tcp", Config: []byte(fmt.Sprintf(`{"port":%d}`, tcpTarget(t))), IntervalSec: 1, TimeoutSec: 2, FailureThreshold: 2, Enabled: true})
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, "UPDATE check_schedules SET next_run_at = now()")
	require.NoError(t, err)

	startWorker(t, f.pool, "parker")
	nextRun := func(check uuid.UUID) time.Time {
		var next time.Time
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT next_run_at FROM check_schedules WHERE check_id = $1", check).Scan(&next))
		return next
	}
	ranSince := func(check uuid.UUID, since time.Time) bool {
		var n int
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_results WHERE check_id = $1 AND time >= $2", check, since).Scan(&n))
		return n > 0
	}
	require.Eventually(t, func() bool {
		return nextRun(paused).After(time.Now().Add(45*time.Second)) && nextRun(idleCheck).After(time.Now().Add(45*time.Second))
	}, 10*time.Second, 50*time.Millisecond, "the claims park the paused check and the inactive host's check")
	assert.WithinDuration(t, time.Now().Add(90*time.Second), nextRun(paused), 40*time.Second, "parked for one to two minutes")
	require.Eventually(t, func() bool { return ranSince(running, time.Time{}) }, 10*time.Second, 50*time.Millisecond)
	assert.Less(t, time.Until(nextRun(running)), 2*time.Second, "the enabled check keeps its 1-s schedule")
	assert.False(t, ranSince(paused, time.Time{}), "a paused check does not run")
	assert.False(t, ranSince(idleCheck, time.Time{}), "a check of an inactive host does not run")

	// Run now still runs a paused check, with its run id, and it is parked again after.
	runID, err := f.q.RequestRun(ctx, db.RequestRunParams{WorkspaceID: f.ws, CheckID: paused, RunID: uuid.New()})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_results WHERE run_id = $1", runID).Scan(&n))
		return n == 1
	}, 10*time.Second, 50*time.Millisecond, "run-now runs a paused check")
	require.Eventually(t, func() bool { return nextRun(paused).After(time.Now().Add(45 * time.Second)) },
		10*time.Second, 50*time.Millisecond, "parked again after the requested run")

	// Waking brings them back at once, not after the park.
	woken := time.Now()
	_, err = f.pool.Exec(ctx, "UPDATE checks SET enabled = true WHERE id = $1", paused)
	require.NoError(t, err)
	require.NoError(t, f.q.WakeCheckSchedules(ctx, db.WakeCheckSchedulesParams{WorkspaceID: f.ws, ID: paused}))
	_, err = f.pool.Exec(ctx, "UPDATE hosts SET is_active = true WHERE id = $1", idle)
	require.NoError(t, err)
	require.NoError(t, f.q.WakeHostSchedules(ctx, db.WakeHostSchedulesParams{WorkspaceID: f.ws, HostID: idle}))
	require.Eventually(t, func() bool { return ranSince(paused, woken) && ranSince(idleCheck, woken) },
		10*time.Second, 50*time.Millisecond, "the woken checks run within moments")
}

// TestClaimPastParkedChecks: paused checks due before a running one take places in a claim's
// limit as they are parked; the claim still returns the running check, so that a claim short
// of its limit keeps meaning that nothing more is due.
func TestClaimPastParkedChecks(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	for i := range 5 {
		_, err := f.q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: f.ws, ID: uuid.New(), HostID: f.host, Name: fmt.Sprintf("paused-%d", i),
			CheckType: "tcp", Config: []byte(`{"port":9}`), IntervalSec: 1, TimeoutSec: 2, FailureThreshold: 2, Enabled: false})
		require.NoError(t, err)
	}
	// The paused ones fall due first.
	_, err := f.pool.Exec(ctx, `UPDATE check_schedules s SET next_run_at = now() - CASE WHEN c.enabled THEN interval '1 second' ELSE interval '1 minute' END
		FROM checks c WHERE c.workspace_id = s.workspace_id AND c.id = s.check_id`)
	require.NoError(t, err)
	claims, err := worker.ClaimDue(ctx, f.pool, worker.ClaimParams{WorkerID: uuid.New(), Location: "test", Max: 2, LeaseMargin: time.Second}, quiet)
	require.NoError(t, err)
	require.Len(t, claims, 1, "the running check, behind five paused ones")
	assert.Equal(t, f.checks[0], claims[0].CheckID)
	var parked int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_schedules WHERE next_run_at > now() + interval '50 seconds'").Scan(&parked))
	assert.Equal(t, 5, parked, "every paused check was parked on the way")
	again, err := worker.ClaimDue(ctx, f.pool, worker.ClaimParams{WorkerID: uuid.New(), Location: "test", Max: 2, LeaseMargin: time.Second}, quiet)
	require.NoError(t, err)
	assert.Empty(t, again, "nothing more is due")
}
