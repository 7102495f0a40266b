package alerting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/domain/incidents"
)

// DigestHook is the evaluator: it runs inside the digest of check results (see
// probes/runner/store.RunsHook), once per check whose runs were digested.
func (a *Alerting) DigestHook(ctx context.Context, tx pgx.Tx, runs []db.DigestRunsRow) error {
	var changes []incidents.Change
	opened := map[uuid.UUID]bool{} // workspaces where incidents opened, for storm detection
	moved := map[uuid.UUID]bool{}  // workspaces where a check changed state, for live events
	for _, r := range runs {
		if !sameStatus(r.PreviousStatus, r.LastStatus) {
			moved[r.WorkspaceID] = true
		}
		c, ok, err := a.evaluate(ctx, tx, r)
		if err != nil {
			return fmt.Errorf("evaluating check %s: %w", r.CheckID, err)
		}
		if ok {
			changes = append(changes, c)
			if c.Opened() {
				opened[r.WorkspaceID] = true
			}
		}
	}
	for ws := range opened {
		attached, err := a.detectStorm(ctx, tx, ws)
		if err != nil {
			return fmt.Errorf("storm detection: %w", err)
		}
		for i, c := range changes {
			if storm, ok := attached[c.Incident.ID]; ok {
				changes[i].Incident.StormID = &storm
			}
		}
	}
	for _, c := range changes {
		if err := a.Announce(ctx, tx, c); err != nil {
			return err
		}
	}
	for ws := range moved {
		if err := incidents.PublishChange(ctx, db.New(tx), ws); err != nil {
			return err
		}
	}
	return nil
}

func sameStatus(a, b *int16) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// evaluate opens (or reopens) the check's incident when its failure streak reaches the
// threshold, and resolves it when the check recovers.
func (a *Alerting) evaluate(ctx context.Context, tx pgx.Tx, r db.DigestRunsRow) (incidents.Change, bool, error) {
	threshold := max(r.FailureThreshold, 1)
	switch {
	case r.FailStreak >= threshold && r.PreviousStreak < threshold:
		return a.open(ctx, tx, r)
	case lastStatus(r) == probes.OK && r.PreviousStreak > 0:
		return a.recover(ctx, tx, r)
	}
	return incidents.Change{}, false, nil
}

func (a *Alerting) open(ctx context.Context, tx pgx.Tx, r db.DigestRunsRow) (incidents.Change, bool, error) {
	q := db.New(tx)
	check, err := q.CheckForAlert(ctx, db.CheckForAlertParams{WorkspaceID: r.WorkspaceID, ID: r.CheckID})
	if err != nil {
		return incidents.Change{}, false, err
	}
	host, err := q.HostForAlert(ctx, db.HostForAlertParams{WorkspaceID: r.WorkspaceID, ID: r.HostID})
	if err != nil {
		return incidents.Change{}, false, err
	}
	latest, err := q.GetCheckLatestResult(ctx, db.GetCheckLatestResultParams{WorkspaceID: r.WorkspaceID, CheckID: r.CheckID})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return incidents.Change{}, false, err
	}
	status := lastStatus(r)
	note := fmt.Sprintf("%d consecutive %s results", r.FailStreak, status)
	if detail := firstNonEmpty(latest.ErrorMsg, latest.Output); detail != "" {
		note += ": " + detail
	}
	where := ""
	if len(check.Locations) > 0 {
		// N of M: say which locations agree ("2 of 3 locations: eu-west, us-east").
		failing, err := q.FailingLocations(ctx, db.FailingLocationsParams{
			WorkspaceID: r.WorkspaceID, CheckID: r.CheckID, FreshMarginSec: int32(store.FreshMargin / time.Second),
		})
		if err != nil {
			return incidents.Change{}, false, err
		}
		where = fmt.Sprintf("%d of %d locations: %s", len(failing), len(check.Locations), strings.Join(failing, ", "))
		note = where + "; " + note
	}

	// A check failing again soon after its incident resolved reopens that incident.
	since := time.Now().Add(-a.cfg.FlapWindow)
	recent, err := q.RecentAutoIncidentOfCheck(ctx, db.RecentAutoIncidentOfCheckParams{
		WorkspaceID: r.WorkspaceID, CheckID: &r.CheckID, Since: &since,
	})
	switch {
	case err == nil:
		c, err := incidents.Reopen(ctx, tx, recent, incidents.ActorSystem, note)
		return c, err == nil, err
	case !errors.Is(err, pgx.ErrNoRows):
		return incidents.Change{}, false, err
	}

	hostID, checkID := r.HostID, r.CheckID
	return incidents.OpenAuto(ctx, tx, incidents.New{
		WorkspaceID: r.WorkspaceID,
		Title:       fmt.Sprintf("%s: %s is %s", host.Name, check.Name, status),
		Description: description(check, host, r.FailStreak, where),
		Severity:    severityFor(check.Severity, status),
		Tags:        map[string]string{"source": "auto", "check_type": check.CheckType},
		HostID:      &hostID,
		CheckID:     &checkID,
		Actor:       incidents.ActorSystem,
		Note:        note,
	})
}

// description is an automatic incident's: the check, its host, and for a check run from
// several locations, which of them fail.
func description(check db.CheckForAlertRow, host db.HostForAlertRow, streak int32, where string) string {
	d := fmt.Sprintf("Check %q (%s) on %s (%s) failed %d consecutive runs", check.Name, check.CheckType, host.Name, host.Hostname, streak)
	if where != "" {
		d += fmt.Sprintf(" in %s (confirmation needs %d)", where, check.ConfirmLocations)
	}
	return d + "."
}

// recover resolves the check's open automatic incident, unless the incident has flapped too
// often (then it stays open for a person, with a note saying why).
func (a *Alerting) recover(ctx context.Context, tx pgx.Tx, r db.DigestRunsRow) (incidents.Change, bool, error) {
	inc, err := db.New(tx).OpenAutoIncidentOfCheck(ctx, db.OpenAutoIncidentOfCheckParams{WorkspaceID: r.WorkspaceID, CheckID: &r.CheckID})
	if errors.Is(err, pgx.ErrNoRows) {
		return incidents.Change{}, false, nil
	}
	if err != nil {
		return incidents.Change{}, false, err
	}
	if a.cfg.KeepOpenOnRecovery || inc.ReopenCount >= a.cfg.MaxReopens {
		note := "check recovered"
		if inc.ReopenCount >= a.cfg.MaxReopens {
			note = fmt.Sprintf("check recovered; the incident stays open because it came back %d times (flapping)", inc.ReopenCount)
		}
		_, err := incidents.Note(ctx, tx, inc, incidents.ActionUpdate, incidents.ActorSystem, note)
		return incidents.Change{}, false, err
	}
	c, err := incidents.Resolve(ctx, tx, r.WorkspaceID, inc.ID, incidents.ActorSystem, "check recovered", nil)
	return c, err == nil, err
}

// lastStatus is the check's status after the digest; Unknown when it has none.
func lastStatus(r db.DigestRunsRow) probes.Status {
	if r.LastStatus == nil {
		return probes.Unknown
	}
	return probes.Status(*r.LastStatus)
}

// severityFor is the check's own severity, else one from the failing status.
func severityFor(checkSeverity *string, status probes.Status) string {
	if checkSeverity != nil && *checkSeverity != "" {
		return *checkSeverity
	}
	switch status {
	case probes.Critical:
		return "critical"
	case probes.Warning:
		return "minor"
	default: // UNKNOWN: the check could not tell
		return "warning"
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
