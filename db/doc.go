// Package db is packshot's data access: the sqlc-generated queries (from queries/*.sql
// against the schema in migrations/) and a hand-written Store that adds transactions.
// Regenerate with `make generate`; never edit the generated files by hand.
package db
