package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
)

// N of M: a check in three locations with confirm_locations 2 and failure_threshold 2 reaches
// the threshold only when two locations each fail twice; a location whose last result is
// stale counts for nothing; a location reporter's result (a location, no worker) moves no
// location's state; one location recovering brings the check back under the threshold.
func TestDigestNOfMLocations(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	check := uuid.New()
	locs := []string{"eu-west", "us-east", "ap-south"}
	confirm := int32(2)
	_, err := f.q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: f.ws, ID: check, HostID: f.host, Name: "located", CheckType: "http",
		Config: []byte("{}"), IntervalSec: 10, TimeoutSec: 5, FailureThreshold: 2, Enabled: true, Locations: locs, ConfirmLocations: &confirm})
	require.NoError(t, err)
	var schedules int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM check_schedules WHERE check_id = $1 AND location = ANY($2)", check, locs).Scan(&schedules))
	require.Equal(t, 3, schedules, "one schedule per location")

	var last db.DigestRunsRow
	d := store.NewDigester(f.pool, slog.New(slog.DiscardHandler), func(_ context.Context, _ pgx.Tx, runs []db.DigestRunsRow) error {
		for _, r := range runs {
			if r.CheckID == check {
				last = r
			}
		}
		return nil
	})
	at := func(loc string, when time.Time, status probes.Status) store.Record {
		return store.Record{WorkspaceID: f.ws, CheckID: check, HostID: f.host, WorkerID: f.wkr, Location: loc, Time: when, Status: int16(status), Output: "x"}
	}
	digest := func(rs ...store.Record) {
		t.Helper()
		require.NoError(t, store.Write(ctx, f.pool, rs))
		require.NoError(t, d.DigestAll(ctx))
	}
	now := time.Now().UTC()

	// One location fails twice, the others pass: 1 of 3, under confirmation.
	digest(at("eu-west", now.Add(-3*time.Second), probes.Critical), at("eu-west", now.Add(-2*time.Second), probes.Critical),
		at("us-east", now.Add(-2*time.Second), probes.OK), at("ap-south", now.Add(-2*time.Second), probes.OK))
	assert.Equal(t, int32(0), last.FailStreak, "1 of 3 failing confirms nothing")
	assert.Equal(t, probes.OK, probes.Status(*last.LastStatus), "the 2nd worst status")

	// A second location fails twice: 2 of 3, the check's streak reaches the threshold.
	digest(at("us-east", now.Add(-time.Second), probes.Critical), at("us-east", now, probes.Critical))
	assert.Equal(t, int32(2), last.FailStreak)
	assert.Equal(t, probes.Critical, probes.Status(*last.LastStatus))
	failing, err := f.q.FailingLocations(ctx, db.FailingLocationsParams{WorkspaceID: f.ws, CheckID: check, FreshMarginSec: int32(store.FreshMargin / time.Second)})
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-west", "us-east"}, failing)

	// A reporter's UNKNOWN (no worker) for ap-south changes no location's state.
	noWorker := at("ap-south", now, probes.Unknown)
	noWorker.WorkerID = uuid.Nil
	digest(noWorker)
	var apStatus int16
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT last_status FROM check_schedules WHERE check_id = $1 AND location = 'ap-south'", check).Scan(&apStatus))
	assert.Equal(t, int16(probes.OK), apStatus)
	assert.Equal(t, int32(2), last.FailStreak, "still 2 of 3")

	// us-east recovers: 1 of 3 again, under the threshold.
	digest(at("us-east", now.Add(time.Second), probes.OK))
	assert.Equal(t, int32(0), last.FailStreak)
	assert.Equal(t, probes.OK, probes.Status(*last.LastStatus))

	// us-east fails again, but eu-west's failures went stale (older than interval + timeout +
	// margin): only one fresh failing location, so no confirmation.
	_, err = f.pool.Exec(ctx, "UPDATE check_schedules SET last_run_at = now() - interval '1 minute' WHERE check_id = $1 AND location = 'eu-west'", check)
	require.NoError(t, err)
	digest(at("us-east", now.Add(2*time.Second), probes.Critical), at("us-east", now.Add(3*time.Second), probes.Critical))
	assert.Equal(t, int32(0), last.FailStreak, "a stale location confirms nothing")
	failing, err = f.q.FailingLocations(ctx, db.FailingLocationsParams{WorkspaceID: f.ws, CheckID: check, FreshMarginSec: int32(store.FreshMargin / time.Second)})
	require.NoError(t, err)
	assert.Equal(t, []string{"us-east"}, failing)
}
