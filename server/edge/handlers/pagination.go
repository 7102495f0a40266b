package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/server/edge/problem"
)

// defaultLimit is the page size when a list request gives no limit (the contract's default).
const defaultLimit = 100

// keyset is the position after which the next page starts: lists are ordered by (name, id).
type keyset struct {
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

// pageLimit returns the requested page size, or the default.
func pageLimit(limit *int) int {
	if limit == nil {
		return defaultLimit
	}
	return *limit
}

// decodeCursor reads a cursor made by encodeCursor; nil means the first page. Anything else
// (empty, not base64, not the JSON encodeCursor writes, a key PostgreSQL could not compare) is
// refused naming cursor: a cursor is never silently ignored.
func decodeCursor(cursor *string) (*keyset, error) {
	if cursor == nil {
		return nil, nil
	}
	invalid := problem.Invalid(problem.FieldError{Field: "cursor", Message: "not a cursor returned by this API"})
	raw, err := base64.RawURLEncoding.DecodeString(*cursor)
	if err != nil || len(raw) == 0 {
		return nil, invalid
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var k keyset
	if dec.Decode(&k) != nil || dec.More() || k.ID == uuid.Nil ||
		!utf8.ValidString(k.Name) || strings.ContainsRune(k.Name, 0) {
		return nil, invalid
	}
	if !bytes.Equal(bytes.TrimSpace(raw), mustMarshal(k)) {
		return nil, invalid // duplicate keys, trailing data, a null: not what encodeCursor wrote
	}
	return &k, nil
}

func mustMarshal(k keyset) []byte {
	raw, _ := json.Marshal(k)
	return raw
}

func encodeCursor(k keyset) *string {
	s := base64.RawURLEncoding.EncodeToString(mustMarshal(k))
	return &s
}

// page trims one extra fetched row: when present, more rows remain and the cursor points
// after the last row kept.
func page[T any](rows []T, limit int, key func(T) keyset) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	return rows, encodeCursor(key(rows[len(rows)-1]))
}

// afterArgs splits a cursor into the nullable query arguments of the list queries.
func afterArgs(k *keyset) (*string, uuid.UUID) {
	if k == nil {
		return nil, uuid.Nil
	}
	return &k.Name, k.ID
}

// listing is one page of a keyset-paginated list and the total number of matching rows.
type listing[Row any] struct {
	rows  []Row
	total int
	next  *string
}

// listPage runs a list query for the page after cursor (fetching one row more than the limit
// to learn whether another page follows) and its count query.
func listPage[Row any](
	ctx context.Context, cursor *string, limit *int,
	fetch func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]Row, error),
	count func(ctx context.Context) (int64, error),
	key func(Row) keyset,
) (listing[Row], error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return listing[Row]{}, err
	}
	n := pageLimit(limit)
	afterName, afterID := afterArgs(after)
	rows, err := fetch(ctx, afterName, afterID, int32(n+1))
	if err != nil {
		return listing[Row]{}, err
	}
	total, err := count(ctx)
	if err != nil {
		return listing[Row]{}, err
	}
	rows, next := page(rows, n, key)
	return listing[Row]{rows: rows, total: int(total), next: next}, nil
}
