//go:build faults

// Package faults is packshot's fault-tolerance suite (issue 9, "How it is proven"): it
// builds the real binary, starts `packshot serve` and `packshot worker` processes on a
// throwaway PostgreSQL cluster, and breaks things while they work — kill -9 a worker,
// restart the database, restart the API instances one by one, send hostile input — then
// checks from the database and from WebSocket subscribers that nothing was lost.
//
// The files carry the build tag `faults`, so `go test ./...` skips them; run
// tests/faults/run.sh (make faults). Every scenario gets its own database on the shared
// cluster and is bounded by a context deadline; nothing waits on a fixed sleep: the tests
// poll the database or the API until a condition holds.
package faults

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/packshot/packshot/internal/pgcluster"
)

// jwtSecret is the AUTH_JWT_SECRET of every process the suite starts.
const jwtSecret = "faults-suite-secret-5c1f7e0d9a2b4c6e8f10"

// suite is what TestMain prepares for every scenario.
var suite struct {
	// bin is the packshot binary built from this tree.
	bin string
	// dir holds the cluster and each scenario's data directory and logs.
	dir string
	// cluster is the throwaway PostgreSQL every scenario's database lives on.
	cluster *pgcluster.Cluster
	// dbSeq numbers the scenarios' databases.
	dbSeq atomic.Int64
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "packshot-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	suite.dir = dir
	suite.bin = filepath.Join(dir, "packshot")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", suite.bin, "github.com/packshot/packshot/cmd/packshot")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: build packshot:", err)
		return 1
	}
	suite.cluster, err = pgcluster.Start(ctx, pgcluster.Options{
		Dir:       filepath.Join(dir, "pg"),
		Ephemeral: true,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: start the cluster:", err)
		return 1
	}
	code := m.Run()
	if err := suite.cluster.Stop(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "faults: stop the cluster:", err)
		code = 1
	}
	return code
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// newDatabase creates an empty database for t on the suite's cluster and returns its URL;
// the processes migrate it.
func newDatabase(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("faults_%d_%s", suite.dbSeq.Add(1), nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_"))
	name = name[:min(len(name), 60)]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, suite.cluster.URLFor("postgres"))
	if err != nil {
		t.Fatalf("connect to the cluster: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return suite.cluster.URLFor(name)
}
