// Package store writes probe results to PostgreSQL in batches: raw results and SNMP samples
// through COPY into daily partitions, the latest result of each check, the 1 min / 1 h / 1 d
// rollups that long windows read, and the checks' last status with their lease released.
package store

import (
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/probes"
)

// Sample is one SNMP value (a rate for counters), exactly as the probe produced it.
type Sample = probes.Sample

// Record is one run of one check, as the runner produced it.
type Record struct {
	WorkspaceID uuid.UUID
	CheckID     uuid.UUID
	HostID      uuid.UUID
	WorkerID    uuid.UUID
	RunID       uuid.UUID // uuid.Nil for a scheduled run
	Time        time.Time
	Status      int16
	LatencyMs   float64
	Output      string
	ErrorMsg    string
	Metrics     map[string]float64
	Facts       map[string]string
	Samples     []Sample
}

// Bucket sizes of the rollups, in seconds.
const (
	Minute = 60
	Hour   = 3600
	Day    = 86400
)

// BucketSizes are the rollup granularities the writer maintains.
var BucketSizes = []int32{Minute, Hour, Day}
