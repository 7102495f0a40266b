package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
)

// Write stores one batch in a single transaction, so a batch is either all there or not at all.
func Write(ctx context.Context, pool *pgxpool.Pool, batch []Record) error {
	if len(batch) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.CopyResults(ctx, resultRows(batch)); err != nil {
			return fmt.Errorf("copy results: %w", err)
		}
		if samples := sampleRows(batch); len(samples) > 0 {
			if _, err := q.CopySnmpSamples(ctx, samples); err != nil {
				return fmt.Errorf("copy snmp samples: %w", err)
			}
		}
		newest := newestPerCheck(batch)
		if err := q.UpsertLatest(ctx, latestParams(newest)); err != nil {
			return fmt.Errorf("latest: %w", err)
		}
		if err := q.UpsertRollups(ctx, rollupParams(batch)); err != nil {
			return fmt.Errorf("rollups: %w", err)
		}
		if err := q.RecordRuns(ctx, runParams(newest)); err != nil {
			return fmt.Errorf("record runs: %w", err)
		}
		return countRuns(ctx, q, batch)
	})
}

func resultRows(batch []Record) []db.CopyResultsParams {
	rows := make([]db.CopyResultsParams, len(batch))
	for i, r := range batch {
		rows[i] = db.CopyResultsParams{
			WorkspaceID: r.WorkspaceID, CheckID: r.CheckID, HostID: r.HostID, Time: r.Time, Status: r.Status,
			LatencyMs: r.LatencyMs, Output: r.Output, ErrorMsg: r.ErrorMsg, Metrics: jsonOrNil(r.Metrics),
			RunID: optionalID(r.RunID), WorkerID: optionalID(r.WorkerID),
		}
	}
	return rows
}

func sampleRows(batch []Record) []db.CopySnmpSamplesParams {
	var rows []db.CopySnmpSamplesParams
	for _, r := range batch {
		for _, s := range r.Samples {
			rows = append(rows, db.CopySnmpSamplesParams{
				WorkspaceID: r.WorkspaceID, CheckID: r.CheckID, Time: r.Time, Oid: s.OID, Name: s.Name, Instance: s.Instance, Value: s.Value,
			})
		}
	}
	return rows
}

type checkKey struct{ workspace, check uuid.UUID }

// newestPerCheck keeps one record per check: an upsert may not touch the same row twice.
// The result is sorted by key so that concurrent writers lock rows in the same order.
func newestPerCheck(batch []Record) []Record {
	newest := map[checkKey]Record{}
	for _, r := range batch {
		k := checkKey{r.WorkspaceID, r.CheckID}
		if cur, ok := newest[k]; !ok || !r.Time.Before(cur.Time) {
			newest[k] = r
		}
	}
	out := make([]Record, 0, len(newest))
	for _, r := range newest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		return lessKey(out[i].WorkspaceID, out[i].CheckID, out[j].WorkspaceID, out[j].CheckID)
	})
	return out
}

func lessKey(w1, c1, w2, c2 uuid.UUID) bool {
	if c := bytes.Compare(w1[:], w2[:]); c != 0 {
		return c < 0
	}
	return bytes.Compare(c1[:], c2[:]) < 0
}

func latestParams(rs []Record) db.UpsertLatestParams {
	var p db.UpsertLatestParams
	for _, r := range rs {
		p.WorkspaceIds = append(p.WorkspaceIds, r.WorkspaceID)
		p.CheckIds = append(p.CheckIds, r.CheckID)
		p.HostIds = append(p.HostIds, r.HostID)
		p.Times = append(p.Times, r.Time)
		p.Statuses = append(p.Statuses, r.Status)
		p.Latencies = append(p.Latencies, r.LatencyMs)
		p.Outputs = append(p.Outputs, r.Output)
		p.ErrorMsgs = append(p.ErrorMsgs, r.ErrorMsg)
		p.Metrics = append(p.Metrics, jsonOrNil(r.Metrics))
		p.Facts = append(p.Facts, jsonOrNil(r.Facts))
		p.RunIds = append(p.RunIds, r.RunID)
		p.WorkerIds = append(p.WorkerIds, r.WorkerID)
	}
	return p
}

func runParams(rs []Record) db.RecordRunsParams {
	var p db.RecordRunsParams
	for _, r := range rs {
		p.WorkspaceIds = append(p.WorkspaceIds, r.WorkspaceID)
		p.CheckIds = append(p.CheckIds, r.CheckID)
		p.Statuses = append(p.Statuses, r.Status)
		p.Times = append(p.Times, r.Time)
		p.WorkerIds = append(p.WorkerIds, r.WorkerID)
	}
	return p
}

// countRuns adds the batch's runs to each (workspace, worker) row's checks_executed.
func countRuns(ctx context.Context, q *db.Queries, batch []Record) error {
	perWorker := map[uuid.UUID]map[uuid.UUID]int64{}
	for _, r := range batch {
		if r.WorkerID == uuid.Nil {
			continue
		}
		if perWorker[r.WorkerID] == nil {
			perWorker[r.WorkerID] = map[uuid.UUID]int64{}
		}
		perWorker[r.WorkerID][r.WorkspaceID]++
	}
	for worker, counts := range perWorker {
		var p db.CountWorkerRunsParams
		p.WorkerID = worker
		for ws, n := range counts {
			p.WorkspaceIds = append(p.WorkspaceIds, ws)
			p.Counts = append(p.Counts, n)
		}
		if err := q.CountWorkerRuns(ctx, p); err != nil {
			return fmt.Errorf("count runs: %w", err)
		}
	}
	return nil
}

type rollupKey struct {
	workspace, check uuid.UUID
	size             int32
	bucket           time.Time
}

type rollup struct {
	samples, ok, warning, critical, unknown int32
	sum, min, max                           float64
}

func (a *rollup) add(r Record) {
	if a.samples == 0 || r.LatencyMs < a.min {
		a.min = r.LatencyMs
	}
	if a.samples == 0 || r.LatencyMs > a.max {
		a.max = r.LatencyMs
	}
	a.samples++
	a.sum += r.LatencyMs
	switch r.Status {
	case 0:
		a.ok++
	case 1:
		a.warning++
	case 2:
		a.critical++
	default:
		a.unknown++
	}
}

// rollupParams aggregates the batch per check and bucket, for every bucket size.
func rollupParams(batch []Record) db.UpsertRollupsParams {
	agg := map[rollupKey]*rollup{}
	for _, r := range batch {
		for _, size := range BucketSizes {
			k := rollupKey{r.WorkspaceID, r.CheckID, size, BucketStart(r.Time, size)}
			if agg[k] == nil {
				agg[k] = &rollup{}
			}
			agg[k].add(r)
		}
	}
	keys := make([]rollupKey, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.workspace != b.workspace || a.check != b.check {
			return lessKey(a.workspace, a.check, b.workspace, b.check)
		}
		if a.size != b.size {
			return a.size < b.size
		}
		return a.bucket.Before(b.bucket)
	})
	var p db.UpsertRollupsParams
	for _, k := range keys {
		a := agg[k]
		p.WorkspaceIds = append(p.WorkspaceIds, k.workspace)
		p.CheckIds = append(p.CheckIds, k.check)
		p.BucketSizes = append(p.BucketSizes, k.size)
		p.Buckets = append(p.Buckets, k.bucket)
		p.Samples = append(p.Samples, a.samples)
		p.Oks = append(p.Oks, a.ok)
		p.Warnings = append(p.Warnings, a.warning)
		p.Criticals = append(p.Criticals, a.critical)
		p.Unknowns = append(p.Unknowns, a.unknown)
		p.LatencySums = append(p.LatencySums, a.sum)
		p.LatencyMins = append(p.LatencyMins, a.min)
		p.LatencyMaxs = append(p.LatencyMaxs, a.max)
	}
	return p
}

// BucketStart is the UTC start of the bucket of size seconds holding t.
func BucketStart(t time.Time, size int32) time.Time {
	return t.UTC().Truncate(time.Duration(size) * time.Second)
}

func jsonOrNil[M ~map[string]V, V any](m M) []byte {
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

func optionalID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
