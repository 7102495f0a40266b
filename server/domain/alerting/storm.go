package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
)

// detectStorm groups the workspace's recent automatic incidents into a storm when there are
// enough of them on enough hosts, or adds new ones to the storm already raging. It returns
// the incidents it attached, by storm.
func (a *Alerting) detectStorm(ctx context.Context, tx pgx.Tx, workspaceID uuid.UUID) (map[uuid.UUID]uuid.UUID, error) {
	q := db.New(tx)
	recent, err := q.RecentAutoIncidents(ctx, db.RecentAutoIncidentsParams{WorkspaceID: workspaceID, Since: time.Now().Add(-a.cfg.Storm.Window)})
	if err != nil {
		return nil, err
	}
	storm, err := q.ActiveStorm(ctx, workspaceID)
	starting := false
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if len(recent) < a.cfg.Storm.MinAlerts || distinctHosts(recent) < a.cfg.Storm.MinHosts {
			return nil, nil
		}
		storm, err = q.StartStorm(ctx, db.StartStormParams{WorkspaceID: workspaceID, ID: uuid.New()})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil // another evaluator started it a moment ago; it will gather these
		}
		if err != nil {
			return nil, err
		}
		starting = true
	case err != nil:
		return nil, err
	}
	attached := map[uuid.UUID]uuid.UUID{}
	var ids []uuid.UUID
	for _, r := range recent {
		if r.StormID == nil {
			ids = append(ids, r.ID)
			attached[r.ID] = storm.ID
		}
	}
	if len(ids) == 0 && !starting {
		return nil, nil
	}
	if err := q.SetIncidentStorm(ctx, db.SetIncidentStormParams{WorkspaceID: workspaceID, StormID: &storm.ID, Ids: ids}); err != nil {
		return nil, err
	}
	cause, confidence, causeHost := rootCause(recent)
	storm, err = q.UpdateStormStats(ctx, db.UpdateStormStatsParams{
		WorkspaceID: workspaceID, ID: storm.ID, RootCauseType: cause, RootCauseHostID: causeHost, Confidence: confidence,
	})
	if err != nil {
		return nil, err
	}
	if starting {
		if err := a.announceStorm(ctx, tx, storm); err != nil {
			return nil, err
		}
	}
	return attached, nil
}

// rootCause guesses why many checks fail at once from the kinds of checks failing: ping
// failures across hosts point at the network, DNS checks at DNS, HTTP/TCP/TLS at a shared
// service; failures of mixed kinds all seen from one worker point at that worker. The
// confidence is the share of alerts that support the guess.
func rootCause(rows []db.RecentAutoIncidentsRow) (cause string, confidence float64, host *uuid.UUID) {
	if len(rows) == 0 {
		return "unknown", 0, nil
	}
	byCause := map[string]int{}
	workers := map[uuid.UUID]int{}
	for _, r := range rows {
		byCause[causeOfCheckType(r.CheckType)]++
		if r.WorkerID != nil {
			workers[*r.WorkerID]++
		}
	}
	best, n := "unknown", 0
	for c, k := range byCause {
		if k > n || (k == n && c < best) {
			best, n = c, k
		}
	}
	share := float64(n) / float64(len(rows))
	if share >= 0.5 && best != "unknown" {
		return best, round2(share), nil
	}
	if len(workers) == 1 {
		for _, k := range workers {
			return "worker", round2(float64(k) / float64(len(rows)) * 0.6), nil
		}
	}
	return "unknown", round2(share), nil
}

func causeOfCheckType(t *string) string {
	if t == nil {
		return "unknown"
	}
	switch *t {
	case probes.TypePing:
		return "network"
	case probes.TypeDNS:
		return "dns"
	case probes.TypeHTTP, probes.TypeTCP, probes.TypeTLS, probes.TypeGRPC, probes.TypeSMTP, probes.TypePostgres:
		return "service"
	}
	return "unknown"
}

func distinctHosts(rows []db.RecentAutoIncidentsRow) int {
	hosts := map[uuid.UUID]bool{}
	for _, r := range rows {
		if r.HostID != nil {
			hosts[*r.HostID] = true
		}
	}
	return len(hosts)
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// announceStorm sends one notification for the whole storm to every enabled policy (a storm
// spans hosts and checks, so per-incident conditions do not apply).
func (a *Alerting) announceStorm(ctx context.Context, tx pgx.Tx, s db.Storm) error {
	policies, err := db.New(tx).EnabledAlertPolicies(ctx, s.WorkspaceID)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("[SecuMon] Alert storm: %d alerts on %d hosts (probable cause: %s, %.0f%%)",
		s.TotalAlerts, s.AffectedHosts, s.RootCauseType, s.Confidence*100)
	text := fmt.Sprintf("A storm of alerts started at %s: %d alerts on %d hosts and %d checks.\nProbable cause: %s (confidence %.0f%%).\nIndividual notifications are held while the storm lasts; see GET /api/v2/storms.\n",
		s.StartedAt.UTC().Format(time.RFC3339), s.TotalAlerts, s.AffectedHosts, s.AffectedChecks, s.RootCauseType, s.Confidence*100)
	payload, _ := json.Marshal(map[string]any{"event": "storm.started", "storm": map[string]any{
		"id": s.ID, "started_at": s.StartedAt.UTC(), "total_alerts": s.TotalAlerts, "affected_hosts": s.AffectedHosts,
		"affected_checks": s.AffectedChecks, "root_cause_type": s.RootCauseType, "confidence": s.Confidence,
	}, "workspace_id": s.WorkspaceID})
	for _, p := range policies {
		_, channels, err := ParsePolicy(p.Conditions, p.Channels)
		if err != nil {
			continue
		}
		if _, err := a.deliver(ctx, tx, s.WorkspaceID, nil, &p.ID, channels, message{subject: subject, text: text, payload: payload}); err != nil {
			return err
		}
	}
	return nil
}
