package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// packshotModule is the root module's path; `bench compare` looks for its go.mod to find
// bench/river.
const packshotModule = "github.com/packshot/packshot"

// benchCompareResult is the last line of `bench compare`: the settings both queues ran
// with, the median of each metric over the rounds for each queue, packshot's median over
// River's for each metric, and the machine's load average (1, 5 and 15 minutes) before
// the first round and after the last.
type benchCompareResult struct {
	Bench                    string             `json:"bench"`
	Mode                     string             `json:"mode"`
	Rounds                   int                `json:"rounds"`
	Workers                  int                `json:"workers"`
	Jobs                     int                `json:"jobs,omitempty"`
	Rate                     int                `json:"rate,omitempty"`
	DurationS                float64            `json:"duration_s,omitempty"`
	RiverFetchCooldownMS     float64            `json:"river_fetch_cooldown_ms"`
	RiverFetchPollIntervalMS float64            `json:"river_fetch_poll_interval_ms"`
	Packshot                 map[string]float64 `json:"packshot"`
	River                    map[string]float64 `json:"river"`
	Ratio                    map[string]float64 `json:"ratio"`
	LoadAvgStart             []float64          `json:"load_avg_start,omitempty"`
	LoadAvgEnd               []float64          `json:"load_avg_end,omitempty"`
}

// benchCompareMetrics are the fields of a `bench queue` result line that `bench compare`
// takes medians and ratios of, per mode.
var benchCompareMetrics = map[string][]string{
	"throughput": {"jobs_per_sec"},
	"latency":    {"p50_ms", "p90_ms", "p99_ms", "max_ms"},
}

// cmdBenchCompare runs `bench queue` and bench/river (River's side of the same
// benchmark) in turn on one PostgreSQL server, -rounds times, alternating which goes
// first, and prints every run's output followed by one JSON line of medians and ratios.
// River is the binary given by -river-bin, or else bench/river of this source tree, built
// once with the go command before the first round so that no round pays for compiling.
func cmdBenchCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench compare")
	mode := fs.String("mode", "throughput", "throughput or latency")
	rounds := fs.Int("rounds", 3, "runs of each queue; the result is their median")
	jobs := fs.Int("jobs", 100000, "throughput: jobs to burn down")
	workers := fs.Int("workers", 1000, "jobs run at once, in both queues")
	rate := fs.Int("rate", 200, "latency: jobs enqueued per second")
	duration := fs.Duration("duration", 10*time.Second, "latency: how long to enqueue")
	cooldown := fs.Duration("river-fetch-cooldown", 2*time.Millisecond, "River's Config.FetchCooldown")
	poll := fs.Duration("river-fetch-poll-interval", 20*time.Millisecond, "River's Config.FetchPollInterval")
	riverBin := fs.String("river-bin", "", "River's benchmark binary (default: build bench/river of this source tree with go)")
	dbURL := fs.String("database-url", "", "PostgreSQL server to use (default: DATABASE_URL, else the embedded cluster)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	metrics, ok := benchCompareMetrics[*mode]
	if !ok {
		return errors.New("bench compare: -mode must be throughput or latency")
	}
	if *rounds < 1 || *jobs < 1 || *workers < 1 || *rate < 1 || *duration <= 0 || *cooldown <= 0 || *poll <= 0 {
		return errors.New("bench compare: -rounds, -jobs, -workers, -rate, -duration and the River intervals must be positive")
	}
	bin, cleanup, err := riverBenchBinary(ctx, e, *riverBin)
	if err != nil {
		return err
	}
	defer cleanup()
	_, _, d, err := openBenchDatabase(ctx, e, *dbURL, false)
	if err != nil {
		return err
	}
	defer d.Close()

	common := []string{"-mode", *mode, "-workers", strconv.Itoa(*workers), "-database-url", d.URL}
	if *mode == "throughput" {
		common = append(common, "-jobs", strconv.Itoa(*jobs))
	} else {
		common = append(common, "-rate", strconv.Itoa(*rate), "-duration", duration.String())
	}
	runPackshot := func() (map[string]any, error) {
		var out bytes.Buffer
		sub := &env{getenv: e.getenv, stdout: io.MultiWriter(e.stdout, &out), stderr: e.stderr}
		if err := cmdBenchQueue(ctx, sub, common); err != nil {
			return nil, err
		}
		return lastJSONLine(out.Bytes())
	}
	riverArgs := append(append([]string(nil), common...),
		"-fetch-cooldown", cooldown.String(), "-fetch-poll-interval", poll.String())
	runRiver := func() (map[string]any, error) {
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, riverArgs...)
		cmd.Stdout, cmd.Stderr = io.MultiWriter(e.stdout, &out), e.stderr
		// Interrupt rather than kill, so that River's bench drops its scratch database.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = time.Minute
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %w", bin, err)
		}
		return lastJSONLine(out.Bytes())
	}

	type side struct {
		name string
		run  func() (map[string]any, error)
		got  map[string][]float64
	}
	sides := []*side{{name: "packshot", run: runPackshot, got: map[string][]float64{}},
		{name: "river", run: runRiver, got: map[string][]float64{}}}
	res := benchCompareResult{Bench: "compare", Mode: *mode, Rounds: *rounds, Workers: *workers,
		RiverFetchCooldownMS: durationMS(*cooldown), RiverFetchPollIntervalMS: durationMS(*poll),
		LoadAvgStart: loadAverage()}
	if *mode == "throughput" {
		res.Jobs = *jobs
	} else {
		res.Rate, res.DurationS = *rate, duration.Seconds()
	}
	for r := range *rounds {
		order := sides
		if r%2 == 1 { // alternate who goes first, so neither always runs on a warmer server
			order = []*side{sides[1], sides[0]}
		}
		for _, s := range order {
			fmt.Fprintf(e.stdout, "bench compare: round %d of %d: %s\n", r+1, *rounds, s.name)
			line, err := s.run()
			if err != nil {
				return fmt.Errorf("bench compare: %s, round %d: %w", s.name, r+1, err)
			}
			if line["mode"] != *mode {
				return fmt.Errorf("bench compare: %s, round %d: result is for mode %v, want %s", s.name, r+1, line["mode"], *mode)
			}
			for _, m := range metrics {
				v, ok := line[m].(float64)
				if !ok {
					return fmt.Errorf("bench compare: %s, round %d: result has no number %q", s.name, r+1, m)
				}
				s.got[m] = append(s.got[m], v)
			}
		}
	}
	res.LoadAvgEnd = loadAverage()
	res.Packshot, res.River, res.Ratio = map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, m := range metrics {
		p, rv := median(sides[0].got[m]), median(sides[1].got[m])
		res.Packshot[m], res.River[m] = p, rv
		if rv > 0 {
			res.Ratio[m] = round3(p / rv)
		}
	}
	return json.NewEncoder(e.stdout).Encode(res)
}

// riverBenchBinary returns the River benchmark to run and a function that removes what it
// built: bin when given, else bench/river of the source tree around the working
// directory, built with the go command into a temporary directory.
func riverBenchBinary(ctx context.Context, e *env, bin string) (string, func(), error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", nil, fmt.Errorf("bench compare: -river-bin: %w", err)
		}
		return bin, func() {}, nil
	}
	root, err := packshotModuleRoot()
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Join(root, "bench", "river")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", nil, fmt.Errorf("bench compare: River's benchmark is not at %s (pass -river-bin): %w", dir, err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", nil, fmt.Errorf("bench compare: building %s needs the go command, which is not on PATH (install Go, or pass -river-bin): %w", dir, err)
	}
	tmp, err := os.MkdirTemp("", "packshot-river-bench-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	out := filepath.Join(tmp, "river-bench")
	fmt.Fprintf(e.stdout, "bench compare: building %s\n", dir)
	build := exec.CommandContext(ctx, goCmd, "build", "-o", out, ".")
	build.Dir, build.Stdout, build.Stderr = dir, e.stderr, e.stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("bench compare: go build in %s: %w", dir, err)
	}
	return out, cleanup, nil
}

// packshotModuleRoot returns the nearest directory at or above the working directory
// whose go.mod declares packshot's module.
func packshotModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == packshotModule {
					return dir, nil
				}
			}
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("bench compare: %s is not inside packshot's source tree, where bench/river is (run from there, or pass -river-bin)", wd)
		}
	}
}

// lastJSONLine decodes the last non-empty line of a benchmark's output, its result.
func lastJSONLine(out []byte) (map[string]any, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	var v map[string]any
	if err := json.Unmarshal([]byte(last), &v); err != nil {
		return nil, fmt.Errorf("last line %q is not a JSON result: %w", last, err)
	}
	return v, nil
}

// loadAverage returns the 1-, 5- and 15-minute load averages from /proc/loadavg, or nil
// where there is none.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	avg := make([]float64, 3)
	for i := range avg {
		if avg[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return nil
		}
	}
	return avg
}

// median returns the middle value of vs (the mean of the middle two when there are an
// even number), rounded to three decimals.
func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return round3(s[n/2])
	}
	return round3((s[n/2-1] + s[n/2]) / 2)
}

func durationMS(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }
