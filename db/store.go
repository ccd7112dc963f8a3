package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the database as the rest of packshot sees it: every generated query, plus
// transactions. A *PoolStore implements it over a pgx pool.
type Store interface {
	Querier
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back when it
	// returns an error or panics. fn must not keep q after it returns.
	InTx(ctx context.Context, fn func(q Querier) error) error
	// Pool is the underlying pool, for the few callers that need a raw connection
	// (COPY, LISTEN, batches).
	Pool() *pgxpool.Pool
}

// PoolStore is the Store over a pgx pool.
type PoolStore struct {
	*Queries
	pool *pgxpool.Pool
}

// NewStore returns a Store that runs queries on pool.
func NewStore(pool *pgxpool.Pool) *PoolStore {
	return &PoolStore{Queries: New(pool), pool: pool}
}

// Pool returns the underlying pool.
func (s *PoolStore) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in a transaction. See Store.
func (s *PoolStore) InTx(ctx context.Context, fn func(q Querier) error) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.Background())
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.Background())
		}
	}()
	if err = fn(s.WithTx(tx)); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsNotFound reports whether err says a :one query found no row.
func IsNotFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique-constraint violation (SQLSTATE 23505).
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
