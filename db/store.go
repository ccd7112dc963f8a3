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
	// returns an error or panics. opts set the isolation level and access mode (default:
	// read committed, read-write). fn must not keep q after it returns. It is the only
	// way packshot opens a transaction.
	InTx(ctx context.Context, fn func(q Querier) error, opts ...TxOption) error
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

// TxOption sets an option of a transaction opened by InTx.
type TxOption func(*pgx.TxOptions)

// RepeatableRead makes every statement of the transaction read from one snapshot.
func RepeatableRead(o *pgx.TxOptions) { o.IsoLevel = pgx.RepeatableRead }

// ReadOnly refuses writes in the transaction.
func ReadOnly(o *pgx.TxOptions) { o.AccessMode = pgx.ReadOnly }

// InTx runs fn in a transaction. See Store.
func (s *PoolStore) InTx(ctx context.Context, fn func(q Querier) error, opts ...TxOption) (err error) {
	var o pgx.TxOptions
	for _, opt := range opts {
		opt(&o)
	}
	tx, err := s.pool.BeginTx(ctx, o)
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

// Savepoint runs fn in a savepoint of the transaction q belongs to (q as given by InTx):
// when fn returns an error, its writes are undone and the error returned, and the
// transaction goes on. It is an error to call it with a q outside a transaction.
func Savepoint(ctx context.Context, q Querier, fn func(q Querier) error) error {
	qs, ok := q.(*Queries)
	if !ok {
		return fmt.Errorf("savepoint: %T is not a transaction's querier", q)
	}
	tx, ok := qs.db.(pgx.Tx)
	if !ok {
		return errors.New("savepoint: the querier is not in a transaction")
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(qs.WithTx(sp)); err != nil {
		if rbErr := sp.Rollback(ctx); rbErr != nil {
			return fmt.Errorf("roll back savepoint: %w (after %w)", rbErr, err)
		}
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
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
