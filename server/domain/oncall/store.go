package oncall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
)

// ErrNotFound is returned by Current for a schedule that does not exist in the workspace.
var ErrNotFound = errors.New("on-call schedule not found")

// FromRow turns a stored schedule into its rotation. The columns were validated when they were
// written, so an error here means the row was edited behind the API's back.
func FromRow(r db.OncallSchedule) (Schedule, error) {
	loc, err := LoadLocation(r.Timezone)
	if err != nil {
		return Schedule{}, fmt.Errorf("on-call schedule %s: %w", r.ID, err)
	}
	handoff, err := ParseClock(r.HandoffTime)
	if err != nil {
		return Schedule{}, fmt.Errorf("on-call schedule %s: hand-off time: %w", r.ID, err)
	}
	s := Schedule{Location: loc, Rotation: Rotation(r.RotationType), Start: r.RotationStart, Handoff: handoff}
	if !s.Rotation.Valid() {
		return Schedule{}, fmt.Errorf("on-call schedule %s: unknown rotation type %q", r.ID, r.RotationType)
	}
	if r.RotationLengthHours != nil {
		s.Length = time.Duration(*r.RotationLengthHours) * time.Hour
	}
	if err := decodeList(r.Members, &s.Members); err != nil {
		return Schedule{}, fmt.Errorf("on-call schedule %s: members: %w", r.ID, err)
	}
	if err := decodeList(r.Overrides, &s.Overrides); err != nil {
		return Schedule{}, fmt.Errorf("on-call schedule %s: overrides: %w", r.ID, err)
	}
	return s, nil
}

func decodeList[T any](raw []byte, out *[]T) error {
	*out = []T{}
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Current is who is on call now in the workspace's schedule and until when (zero: no change
// ahead). member is nil when nobody is; a missing schedule is ErrNotFound. The notifier calls
// it for alert policies' `oncall` channels.
func Current(ctx context.Context, q *db.Queries, workspaceID, scheduleID uuid.UUID, now time.Time) (member *Member, until time.Time, err error) {
	row, err := q.GetOncallSchedule(ctx, db.GetOncallScheduleParams{WorkspaceID: workspaceID, ID: scheduleID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	s, err := FromRow(row)
	if err != nil {
		return nil, time.Time{}, err
	}
	sh := s.At(now)
	return sh.Member, sh.Until, nil
}
