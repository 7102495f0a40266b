// Package store keeps probe results in PostgreSQL. The Writer copies raw results and SNMP
// samples into daily partitions in batches; the Digester then folds each committed batch into
// the latest result of each check, the 1 min / 1 h / 1 d rollups that long windows read, the
// checks' last status and failure streak, their leases and the workers' counters.
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
	// WorkerID is uuid.Nil for results no worker measured. With a Location, such a result is
	// the location reporter's "no live worker here" (UNKNOWN): the digest keeps and shows it
	// but lets it move no schedule's state (see DigestRuns).
	WorkerID  uuid.UUID
	Location  string    // the location of the worker that ran it ('' when it has none)
	RunID     uuid.UUID // uuid.Nil for a scheduled run
	Time      time.Time
	Status    int16
	LatencyMs float64
	Output    string
	ErrorMsg  string
	Metrics   map[string]float64
	Facts     map[string]string
	Samples   []Sample
}
