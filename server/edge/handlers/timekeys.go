package handlers

import (
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/server/edge/problem"
)

// Lists ordered by time (newest first) carry the time in the cursor's sort key.

func timeKey(t time.Time, id uuid.UUID) keyset {
	return keyset{Name: t.UTC().Format(time.RFC3339Nano), ID: id}
}

// beforeArgs turns a cursor's key back into the nullable (time, id) arguments of a
// newest-first list query.
func beforeArgs(afterName *string, afterID uuid.UUID) (*time.Time, uuid.UUID, error) {
	if afterName == nil {
		return nil, uuid.Nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *afterName)
	if err != nil {
		return nil, uuid.Nil, problem.Invalid(problem.FieldError{Field: "cursor", Message: "not a cursor returned by this API"})
	}
	return &t, afterID, nil
}
