// Package db holds the typed queries sqlc generates from sql/queries over the schema in
// sql/schema (see sqlc.yaml at the repository root).
package db

//go:generate sh -c "cd ../.. && CGO_ENABLED=0 go tool -modfile=gen/tools.mod sqlc generate"
