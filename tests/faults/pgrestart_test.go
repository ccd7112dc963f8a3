//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestPostgresRestart is scenario 2: PostgreSQL restarts while two serve instances run
// packs and probe jobs. The instances recover by themselves (no restart, /readyz green
// again), every job completes, and every WebSocket subscriber reaches the final version.
//
// The suite's cluster is shared, so other scenarios must not run at the same time; none
// calls t.Parallel.
func TestPostgresRestart(t *testing.T) {
	const probes, packs = 1000, 2
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "6", "PACKSHOT_JOB_LEASE": "10s"})
	serves := []*proc{s.serve(ctx, "serve-a", nil), s.serve(ctx, "serve-b", nil)}

	s.enqueueProbes(ctx, probes, 20)
	var ids []string
	var watchers [][]*watcher
	for i := range packs {
		a := api{base: serves[i%2].baseURL(), tok: token(t, fmt.Sprintf("restart-user-%d", i))}
		id := startPack(ctx, t, a, fmt.Sprintf("Bottle %d", i))
		ids = append(ids, id)
		var ws []*watcher
		for j, sv := range serves {
			ws = append(ws, watch(t, fmt.Sprintf("project %d on serve-%c", i, 'a'+j), a.tok, id, sv.baseURL()))
		}
		watchers = append(watchers, ws)
	}

	// Restart mid-run: pack images rendering, probes running.
	waitFor(ctx, t, "the run under way", func(ctx context.Context) (bool, error) {
		var probesDone, rendering int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'system.probe' AND status = 'completed'),
			count(*) FILTER (WHERE kind LIKE 'image.%' AND status = 'processing') FROM job_queue`).Scan(&probesDone, &rendering)
		if err != nil {
			return false, err
		}
		if rendering == 0 {
			return false, fmt.Errorf("%d probes done, %d images rendering", probesDone, rendering)
		}
		return true, nil
	})
	generating := 0
	for _, id := range ids {
		if st, _, err := s.projectState(ctx, id); err == nil && st == "generating" {
			generating++
		}
	}
	if generating == 0 {
		t.Fatal("no pack is generating at the restart; the scenario needs one running")
	}
	s.pool.Reset()
	if err := suite.cluster.Restart(ctx); err != nil {
		t.Fatalf("restart postgres: %v", err)
	}
	t.Log("postgres restarted")

	s.waitAllJobsCompleted(ctx, probes+5*packs)
	for i, id := range ids {
		status, version, err := s.projectState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if status != "completed" {
			t.Errorf("project %s is %s; want completed", id, status)
		}
		for _, w := range watchers[i] {
			got := w.waitVersion(ctx, version, status)
			if got.Version != version {
				t.Errorf("watcher %s ended at v%d; want v%d", w.name, got.Version, version)
			}
			w.checkOrder()
		}
	}
	for _, sv := range serves {
		if !sv.running() {
			t.Fatalf("%s exited", sv.name)
		}
		waitFor(ctx, t, sv.name+" ready", func(ctx context.Context) (bool, error) { return sv.ready(ctx), nil })
	}
	t.Logf("jobs by attempts: %v", s.attemptsHistogram(ctx))
}
