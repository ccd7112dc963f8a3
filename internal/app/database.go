package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/config"
	"github.com/packshot/packshot/internal/pgcluster"
)

// Database is an open connection pool, and the embedded cluster behind it when packshot
// started its own.
type Database struct {
	URL     string
	Pool    *pgxpool.Pool
	Store   *db.PoolStore
	cluster *pgcluster.Cluster
	logger  *slog.Logger
}

// OpenDatabase connects to cfg.DatabaseURL, or with none starts the embedded cluster under
// cfg.DataDir/pg. With migrate it applies pending migrations before returning.
func OpenDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger, migrate bool) (*Database, error) {
	d := &Database{URL: cfg.DatabaseURL, logger: logger}
	if cfg.Embedded() {
		c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(cfg.DataDir, "pg"), Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("start the embedded database (set DATABASE_URL to use your own): %w", err)
		}
		d.cluster, d.URL = c, c.URL()
	}
	pcfg, err := pgxpool.ParseConfig(d.URL)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if pcfg.MaxConns < 16 {
		pcfg.MaxConns = 16
	}
	pcfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	d.Pool, d.Store = pool, db.NewStore(pool)
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if migrate {
		if err := d.Migrate(ctx, io.Discard); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Migrate applies the pending migrations and reports how many on out.
func (d *Database) Migrate(ctx context.Context, out io.Writer) error {
	m, err := db.NewMigrator(d.Pool)
	if err != nil {
		return err
	}
	defer m.Close()
	n, err := m.Up(ctx)
	if err != nil {
		return err
	}
	d.logger.Info("migrations applied", "count", n)
	fmt.Fprintf(out, "applied %d migration(s)\n", n)
	return nil
}

// Close closes the pool and stops the embedded cluster, if any.
func (d *Database) Close() {
	if d.Pool != nil {
		d.Pool.Close()
	}
	if d.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := d.cluster.Stop(ctx); err != nil {
			d.logger.Error("stop embedded database", "err", err)
		}
	}
}

// NewLogger builds the process's slog logger from the configuration.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// UseDatabase wraps a pool opened elsewhere (a benchmark's scratch database); Close
// closes it.
func UseDatabase(url string, store *db.PoolStore, logger *slog.Logger) *Database {
	return &Database{URL: url, Pool: store.Pool(), Store: store, logger: logger}
}

// Ready reports whether the database answers and no migration is pending: the part of
// /readyz that is the database's.
func (d *Database) Ready(ctx context.Context) error {
	if err := d.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	m, err := db.NewMigrator(d.Pool)
	if err != nil {
		return err
	}
	defer m.Close()
	pending, err := m.Pending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return api.ErrMigrationsPending
	}
	return nil
}
