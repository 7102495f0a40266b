// Package schema embeds SecuMon's goose migrations. The same files are sqlc's schema input,
// so the generated queries and the database that runs them can never disagree.
package schema

import "embed"

// FS holds the numbered migrations (00001_*.sql, …) in goose format.
//
//go:embed *.sql
var FS embed.FS
