// Package pgtest gives each test its own fresh, migrated PostgreSQL database, in
// milliseconds: the migrations are applied once into a template database, and every test
// gets `CREATE DATABASE … TEMPLATE …` of it, dropped when the test ends.
//
// With PACKSHOT_TEST_DATABASE_URL set, databases are made on that server (its user must be
// allowed to create databases). Otherwise the test binary starts a throwaway cluster with
// the same code as packshot's embedded default (internal/pgcluster) and removes it at the
// end; for that, the package's TestMain must call pgtest.Main.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/pgcluster"
	"github.com/packshot/packshot/migrations"
)

// EnvURL names the variable that points tests at an existing server.
const EnvURL = "PACKSHOT_TEST_DATABASE_URL"

// DB is one test's database.
type DB struct {
	// URL connects to this test's database.
	URL string
	// Pool is a pool on it, closed when the test ends.
	Pool *pgxpool.Pool
	// Store wraps Pool.
	Store *db.PoolStore
}

var (
	mainCalled bool
	setupOnce  sync.Once
	setupErr   error
	serverURL  string // any database on the server, for admin statements
	template   string
	cluster    *pgcluster.Cluster
	clusterDir string
)

// Main runs the package's tests and then stops the throwaway cluster, if one was started.
// Call it from TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	mainCalled = true
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop cluster:", err)
			code = 1
		}
		os.RemoveAll(clusterDir)
	}
	os.Exit(code)
}

// New returns a fresh database with every migration applied, dropped when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	u := NewURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return &DB{URL: u, Pool: pool, Store: db.NewStore(pool)}
}

// NewURL creates a fresh migrated database and returns its URL, without opening a pool
// (for tests that start the real program against it). It is dropped when t ends.
func NewURL(t testing.TB) string {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	name := "packshot_test_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(serverURL, name)
}

// Cluster returns the throwaway cluster, or nil when tests run against
// PACKSHOT_TEST_DATABASE_URL. Fault tests use it to restart the server.
func Cluster() *pgcluster.Cluster { return cluster }

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv(EnvURL); u != "" {
		serverURL = u
	} else {
		if !mainCalled {
			return fmt.Errorf("no %s set and TestMain does not call pgtest.Main, which is needed to remove the throwaway cluster", EnvURL)
		}
		dir, err := os.MkdirTemp("", "packshot-pgtest-")
		if err != nil {
			return fmt.Errorf("temp dir: %w", err)
		}
		clusterDir = dir
		quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Ephemeral: true, Logger: quiet, Database: "postgres"})
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("start throwaway cluster: %w", err)
		}
		cluster = c
		serverURL = c.URL()
	}
	sum, err := migrationsHash()
	if err != nil {
		return err
	}
	template = "packshot_tpl_" + sum
	return ensureTemplate(ctx)
}

// ensureTemplate creates the migrated template database once per migration set. Test
// binaries running in parallel against one server serialise on an advisory lock.
func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.Background())
	const lockKey = 0x7061636b73686f74 // "packshot"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
		return fmt.Errorf("template lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(lockKey))

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", template).Scan(&exists); err != nil {
		return fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return nil
	}
	building := template + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(building)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop half-built template: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(building)); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	if err := migrate(ctx, withDatabase(serverURL, building)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(building)+" RENAME TO "+ident(template)); err != nil {
		return fmt.Errorf("rename template: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(template)+" IS_TEMPLATE true"); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	return nil
}

func migrate(ctx context.Context, u string) error {
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		return fmt.Errorf("open template: %w", err)
	}
	defer pool.Close()
	m, err := db.NewMigrator(pool)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		return err
	}
	return nil
}

// migrationsHash names the template after the migration files' contents, so a changed
// migration gets a new template instead of a stale one.
func migrationsHash() (string, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", n, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// withDatabase returns u with its database name replaced. It handles both URL forms
// packshot uses: postgres://host/db and postgres:///db?host=/socket/dir.
func withDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	parsed.Path = "/" + name
	parsed.RawPath = ""
	return parsed.String()
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
