//go:build faults

package faults

import (
	"context"
	"testing"
	"time"
)

// TestRollingRestart is scenario 5: both serve instances are restarted one after the
// other (SIGTERM, wait for the exit, start again on the same address) while they
// generate a pack. The pack completes, and wsLink clients — told to reconnect, or cut
// off — resume on the other instance with their last event id: they receive the final
// version and never an older version after a newer one.
func TestRollingRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// One job at a time per instance keeps the pack running across both restarts.
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "1"})
	a, b := s.serve(ctx, "serve-a", nil), s.serve(ctx, "serve-b", nil)

	cl := api{base: a.baseURL(), tok: token(t, "rolling-user")}
	id := startPack(ctx, t, cl, "Rolling bottle")
	watchers := []*watcher{
		watch(t, "client on a", cl.tok, id, a.baseURL(), b.baseURL()),
		watch(t, "client on b", cl.tok, id, b.baseURL(), a.baseURL()),
	}
	for _, w := range watchers {
		w.waitState(ctx, "the first state", func(snapshot) bool { return true })
	}

	for _, p := range []*proc{a, b} {
		st, v, err := s.projectState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("restarting %s with the project %s at v%d", p.name, st, v)
		if p == a && st != "generating" {
			t.Fatalf("the pack is %s before the first restart; the scenario needs it running", st)
		}
		p.restart(ctx)
	}

	s.waitAllJobsCompleted(ctx, 5)
	status, version, err := s.projectState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if status != "completed" {
		t.Fatalf("project is %s after the rolling restart; want completed", status)
	}
	for _, w := range watchers {
		got := w.waitVersion(ctx, version, status)
		if got.Version != version || got.Progress != 100 {
			t.Errorf("watcher %s ended at v%d %d%%; want v%d 100%%", w.name, got.Version, got.Progress, version)
		}
		events, reconnects, asked := w.checkOrder()
		t.Logf("watcher %s: %d events, %d reconnects, %d asked for by the server", w.name, events, reconnects, asked)
		if asked < 1 {
			t.Errorf("watcher %s was never asked to reconnect; both of its instances restarted", w.name)
		}
	}
}
