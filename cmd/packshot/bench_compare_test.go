package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/pgtest"
)

// fakeRiver is a stand-in for bench/river's binary: it notes its arguments next to itself
// and prints a progress line and a River-shaped result line of 100 jobs/s.
const fakeRiver = `#!/bin/sh
printf '%s\n' "$@" > "$0.args"
echo 'river bench: 50 jobs inserted; burning down'
echo '{"bench":"queue","mode":"throughput","jobs":50,"seconds":0.5,"jobs_per_sec":100,"queue":"river","workers":8,"fetch_cooldown_ms":2,"fetch_poll_interval_ms":20}'
`

// TestBenchCompareRatesPackshotAgainstRiver runs one round of `packshot bench compare`
// with a fake River binary on the test server (or the embedded cluster) and checks that
// River got the same server and settings, and that the last line's medians and ratio are
// the two runs' results.
func TestBenchCompareRatesPackshotAgainstRiver(t *testing.T) {
	env := map[string]string{"PACKSHOT_LOG_LEVEL": "warn"}
	if u := os.Getenv(pgtest.EnvURL); u != "" {
		env["DATABASE_URL"] = u
	} else if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	} else {
		env["PACKSHOT_DATA_DIR"] = t.TempDir()
	}
	river := filepath.Join(t.TempDir(), "river-bench")
	if err := os.WriteFile(river, []byte(fakeRiver), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"packshot", "bench", "compare",
		"-jobs", "50", "-workers", "8", "-rounds", "1", "-river-bin", river}, mapEnv(env), &out, io.Discard)
	if err != nil {
		t.Fatalf("%v; output:\n%s", err, out.String())
	}

	args, err := os.ReadFile(river + ".args")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(args)), "\n")
	for _, want := range [][]string{{"-mode", "throughput"}, {"-jobs", "50"}, {"-workers", "8"},
		{"-fetch-cooldown", "2ms"}, {"-fetch-poll-interval", "20ms"}} {
		if i := slices.Index(got, want[0]); i < 0 || i+1 >= len(got) || got[i+1] != want[1] {
			t.Errorf("river's arguments %q lack %s %s", got, want[0], want[1])
		}
	}
	if i := slices.Index(got, "-database-url"); i < 0 || i+1 >= len(got) || got[i+1] == "" {
		t.Errorf("river's arguments %q name no server", got)
	}

	// Every JSON line: packshot's result, River's, then the comparison.
	var results []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v map[string]any
		if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &v) == nil {
			results = append(results, v)
		}
	}
	if len(results) != 3 {
		t.Fatalf("want 3 JSON lines (packshot, River, comparison), got %d in:\n%s", len(results), out.String())
	}
	packshot, riverRes := results[0], results[1]
	if packshot["bench"] != "queue" || packshot["queue"] != nil || riverRes["queue"] != "river" {
		t.Fatalf("first round should run packshot, then River; got %v then %v", packshot, riverRes)
	}
	pJPS, ok := packshot["jobs_per_sec"].(float64)
	if !ok || pJPS <= 0 {
		t.Fatalf("packshot's result %v has no jobs_per_sec", packshot)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res benchCompareResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if res.Bench != "compare" || res.Mode != "throughput" || res.Rounds != 1 || res.Jobs != 50 || res.Workers != 8 {
		t.Fatalf("result %+v; want one throughput round of 50 jobs on 8 workers", res)
	}
	if res.Packshot["jobs_per_sec"] != pJPS || res.River["jobs_per_sec"] != 100 {
		t.Fatalf("medians packshot %v, river %v; want %v and 100", res.Packshot, res.River, pJPS)
	}
	if want := round3(pJPS / 100); res.Ratio["jobs_per_sec"] != want {
		t.Fatalf("ratio %v; want %v (packshot %v / river 100)", res.Ratio, want, pJPS)
	}
	if res.RiverFetchCooldownMS != 2 || res.RiverFetchPollIntervalMS != 20 {
		t.Fatalf("River's settings %v ms / %v ms; want the defaults 2 / 20", res.RiverFetchCooldownMS, res.RiverFetchPollIntervalMS)
	}
	if _, err := os.Stat("/proc/loadavg"); err == nil && (len(res.LoadAvgStart) != 3 || len(res.LoadAvgEnd) != 3) {
		t.Fatalf("load averages %v, %v; want three figures each", res.LoadAvgStart, res.LoadAvgEnd)
	}
}

// TestBenchCompareNeedsRiver checks that, outside the source tree and without
// -river-bin, `bench compare` says where River's benchmark should be before it starts
// any database.
func TestBenchCompareNeedsRiver(t *testing.T) {
	t.Chdir(t.TempDir())
	err := run(context.Background(), []string{"packshot", "bench", "compare", "-rounds", "1"},
		mapEnv(map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "bench/river") || !strings.Contains(err.Error(), "-river-bin") {
		t.Fatalf("err = %v; want one naming bench/river and -river-bin", err)
	}
}

// TestMedian checks the middle value, and the mean of the middle two.
func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median(3, 1, 2) = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median(4, 1, 3, 2) = %v", m)
	}
}
