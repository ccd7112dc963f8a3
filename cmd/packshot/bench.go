package main

import (
	"context"
	"fmt"
	"github.com/packshot/packshot/internal/app"
	"log/slog"
	"sort"

	"github.com/packshot/packshot/internal/config"
)

// benchCommands are the `packshot bench` subcommands, one line each; each lives in its
// own file (bench_<name>.go) and prints its result as one JSON object on its last line.
var benchCommands = map[string]command{
	"queue":    {"job queue throughput (-mode throughput) or latency (-mode latency)", cmdBenchQueue},
	"realtime": {"commit-to-browser latency of project changes over N WebSockets", cmdBenchRealtime},
	"api":      {"image.generate enqueues per second over HTTP (-c connections, -duration)", cmdBenchAPI},
	"compare":  {"packshot's queue beside River's (bench/river), interleaved, -rounds times; medians and ratios", cmdBenchCompare},
}

// openBenchDatabase loads the configuration, points it at dbURL when one is given (else
// DATABASE_URL, else the embedded cluster), keeps the log to warnings so the result line
// stays readable, and opens the database.
func openBenchDatabase(ctx context.Context, e *env, dbURL string, migrate bool) (config.Config, *slog.Logger, *app.Database, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	if dbURL != "" {
		cfg.DatabaseURL = dbURL
	}
	cfg.LogLevel = "warn"
	logger := app.NewLogger(cfg, e.stderr)
	d, err := app.OpenDatabase(ctx, cfg, logger, migrate)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	return cfg, logger, d, nil
}

// cmdBench runs `packshot bench <name> [flags]`.
func cmdBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "usage: packshot bench <name> [flags]\n\nbenchmarks:")
		names := make([]string, 0, len(benchCommands))
		for n := range benchCommands {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(e.stderr, "  %-10s %s\n", n, benchCommands[n].summary)
		}
		if len(args) == 0 {
			return fmt.Errorf("bench: name a benchmark")
		}
		return nil
	}
	b, ok := benchCommands[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q", args[0])
	}
	return b.run(ctx, e, args[1:])
}
