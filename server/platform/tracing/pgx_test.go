package tracing_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/secuaas/secumon/server/platform/tracing"
)

// A query's span is named after the sqlc query; other SQL gets the generic name, never its
// text.
func TestQueryName(t *testing.T) {
	for sql, want := range map[string]string{
		"-- name: GetHost :one\nSELECT * FROM hosts WHERE id = $1": "GetHost",
		"\n  -- name: ListHosts :many\nSELECT 1":                   "ListHosts",
		"SELECT pg_advisory_lock($1)":                              "db.query",
		"-- name: \nSELECT 1":                                      "db.query",
		"-- a comment\nSELECT 1":                                   "db.query",
	} {
		assert.Equal(t, want, tracing.QueryName(sql), sql)
	}
}
