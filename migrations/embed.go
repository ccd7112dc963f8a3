// Package migrations holds packshot's schema as numbered goose SQL migrations, embedded in
// the binary. sqlc reads the same files (sqlc.yaml) to type the queries in queries/.
package migrations

import "embed"

// FS holds every migration file (NNNNN_name.sql).
//
//go:embed *.sql
var FS embed.FS
