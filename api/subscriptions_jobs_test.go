package api_test

import (
	"encoding/json"
	"testing"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
)

// subscribeJobs starts admin.onJobsUpdate as call id.
func (c *rtWSClient) subscribeJobs(id int) {
	c.send(map[string]any{"id": id, "method": "subscription", "params": map[string]any{"path": "admin.onJobsUpdate", "input": nil}})
}

// nextJobs returns the next admin.onJobsUpdate event.
func (c *rtWSClient) nextJobs() api.JobsUpdate {
	c.t.Helper()
	for {
		f := c.read()
		if f.Error != nil {
			c.t.Fatalf("admin.onJobsUpdate failed: %s", f.Error.Data.Code)
		}
		if f.Result == nil || f.Result.Type != "data" {
			continue
		}
		var u api.JobsUpdate
		if err := json.Unmarshal(f.Result.Data, &u); err != nil {
			c.t.Fatalf("jobs event %s: %v", f.Result.Data, err)
		}
		return u
	}
}

// untilJobs returns the first admin.onJobsUpdate event for which ok holds.
func (c *rtWSClient) untilJobs(ok func(api.JobsUpdate) bool) api.JobsUpdate {
	c.t.Helper()
	for {
		if u := c.nextJobs(); ok(u) {
			return u
		}
	}
}

// count returns the number of jobs in status st.
func count(u api.JobsUpdate, st queue.Status) int64 {
	for _, s := range u.Stats {
		if s.Status == st {
			return s.Count
		}
	}
	return 0
}

func TestOnJobsUpdateSendsJobChangesMadeOnAnotherInstance(t *testing.T) {
	t.Parallel()
	c := setupRealtime(t, 2, -1) // no dispatcher: jobs stay pending until cancelled
	a, other := c.instances[0], c.instances[1]
	ops := token(t, "ops", auth.RoleService)
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := readyProject(t, other, tok)

	ws := rtDialWS(t, a, ops, nil)
	ws.subscribeJobs(1)
	if u := ws.nextJobs(); count(u, queue.StatusPending) != 0 || len(u.Failed) != 0 {
		t.Fatalf("first event %+v; want an empty queue", u)
	}

	var jobs pack.Jobs
	other.mutate(t, tok, "image.generate", map[string]any{"projectId": p.ID, "type": "main"}).decode(t, &jobs)
	ws.untilJobs(func(u api.JobsUpdate) bool { return count(u, queue.StatusPending) == 1 })
	other.mutate(t, tok, "job.cancel", map[string]any{"id": jobs.Jobs[0].ID}).decode(t, new(pack.Job))
	u := ws.untilJobs(func(u api.JobsUpdate) bool { return count(u, queue.StatusCancelled) == 1 })
	if n := count(u, queue.StatusPending); n != 0 {
		t.Fatalf("after the cancel: %d pending; want 0", n)
	}
}

func TestOnJobsUpdateRefusesOtherUsersAndKeepsTheSocket(t *testing.T) {
	t.Parallel()
	b := setupRealtime(t, 1, -1).instances[0]
	tok := token(t, "alice", auth.RoleAuthenticated)
	p := createProject(t, b, tok, map[string]any{"name": "Bottle"})

	ws := rtDialWS(t, b, tok, nil)
	ws.subscribeJobs(1)
	for {
		f := ws.read()
		if f.Result != nil && f.Result.Type == "data" {
			t.Fatalf("alice received the job feed: %s", f.Result.Data)
		}
		if f.Error != nil {
			if f.Error.Data.Code != "FORBIDDEN" {
				t.Fatalf("alice subscribing to admin.onJobsUpdate: %s; want FORBIDDEN, as admin.jobStats answers", f.Error.Data.Code)
			}
			break
		}
	}
	if st := b.query(t, tok, "admin.jobStats", nil).code(); st != "FORBIDDEN" {
		t.Fatalf("admin.jobStats for alice: %s; the subscription must answer as the procedure does", st)
	}
	// The socket still serves alice's own subscriptions.
	ws.subscribe(p.ID.String(), "")
	if _, s := ws.next(); s.ID != p.ID {
		t.Fatalf("after the refusal: snapshot of %s; want %s", s.ID, p.ID)
	}
}
