package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
)

// Write stores one batch in a single transaction, so a batch is either all there or not at
// all: a row in result_batches, the raw results and the SNMP samples. Everything derived from
// them is left to the Digester, which keeps this path as close to a bare COPY as it can be.
func Write(ctx context.Context, pool *pgxpool.Pool, batch []Record) error {
	if len(batch) == 0 {
		return nil
	}
	first, last := TimeSpan(batch)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		id, err := q.AddResultBatch(ctx, db.AddResultBatchParams{FirstTime: first, LastTime: last, Records: int32(len(batch))})
		if err != nil {
			return fmt.Errorf("result batch: %w", err)
		}
		if _, err := q.CopyResults(ctx, resultRows(batch, id)); err != nil {
			return fmt.Errorf("copy results: %w", err)
		}
		if samples := sampleRows(batch); len(samples) > 0 {
			if _, err := q.CopySnmpSamples(ctx, samples); err != nil {
				return fmt.Errorf("copy snmp samples: %w", err)
			}
		}
		return nil
	})
}

// TimeSpan is the time of the batch's earliest and latest records.
func TimeSpan(batch []Record) (first, last time.Time) {
	first, last = batch[0].Time, batch[0].Time
	for _, r := range batch[1:] {
		if r.Time.Before(first) {
			first = r.Time
		}
		if r.Time.After(last) {
			last = r.Time
		}
	}
	return first, last
}

func resultRows(batch []Record, batchID int64) []db.CopyResultsParams {
	rows := make([]db.CopyResultsParams, len(batch))
	for i, r := range batch {
		rows[i] = db.CopyResultsParams{
			WorkspaceID: r.WorkspaceID, CheckID: r.CheckID, HostID: r.HostID, Time: r.Time, Status: r.Status,
			LatencyMs: r.LatencyMs, Output: r.Output, ErrorMsg: r.ErrorMsg, Metrics: jsonOrNil(r.Metrics), Facts: jsonOrNil(r.Facts),
			RunID: optionalID(r.RunID), WorkerID: optionalID(r.WorkerID), BatchID: &batchID, Location: r.Location,
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
