//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestThreeInstances is scenario 4: two serve instances and one worker share 3,000 probe
// jobs and three packs. No job runs twice, and a subscriber on each serve instance sees
// every project reach its final state (the change may have happened on any instance).
func TestThreeInstances(t *testing.T) {
	const probes, packs = 3000, 3
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "6", "PACKSHOT_JOB_LEASE": "30s"})
	serves := []*proc{s.serve(ctx, "serve-a", nil), s.serve(ctx, "serve-b", nil)}
	s.worker(ctx, "worker", nil)

	type project struct {
		id       string
		watchers []*watcher
	}
	var projects []project
	for i := range packs {
		user := fmt.Sprintf("scale-user-%d", i)
		a := api{base: serves[i%2].baseURL(), tok: token(t, user)}
		id := startPack(ctx, t, a, fmt.Sprintf("Bottle %d", i))
		p := project{id: id}
		for j, sv := range serves {
			p.watchers = append(p.watchers, watch(t, fmt.Sprintf("project %d on serve-%c", i, 'a'+j), a.tok, id, sv.baseURL()))
		}
		projects = append(projects, p)
	}
	s.enqueueProbes(ctx, probes, 3)

	s.waitAllJobsCompleted(ctx, probes+5*packs)
	hist := s.attemptsHistogram(ctx)
	if len(hist) != 1 || hist[1] != probes+5*packs {
		t.Errorf("jobs by attempts: %v; want all %d run exactly once", hist, probes+5*packs)
	}

	for _, p := range projects {
		status, version, err := s.projectState(ctx, p.id)
		if err != nil {
			t.Fatal(err)
		}
		if status != "completed" {
			t.Errorf("project %s is %s; want completed", p.id, status)
		}
		for _, w := range p.watchers {
			got := w.waitVersion(ctx, version, status)
			if got.Version != version || got.Progress != 100 {
				t.Errorf("watcher %s ended at v%d %d%%; want v%d 100%%", w.name, got.Version, got.Progress, version)
			}
			w.checkOrder()
		}
	}
	for _, sv := range serves {
		if !sv.running() {
			t.Errorf("%s exited", sv.name)
		}
	}
}
