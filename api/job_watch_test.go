package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
)

// nextJob returns the next job.watch state on the socket, or "" and the error code when
// the subscription failed, or "stopped" when it ended.
func (c *rtWSClient) nextJob() (pack.Job, string) {
	c.t.Helper()
	for {
		f := c.read()
		switch {
		case f.Error != nil:
			return pack.Job{}, f.Error.Data.Code
		case f.Result == nil || f.Result.Type == "started":
			continue
		case f.Result.Type == "stopped":
			return pack.Job{}, "stopped"
		}
		var j pack.Job
		if err := json.Unmarshal(f.Result.Data, &j); err != nil {
			c.t.Fatalf("job event %s: %v", f.Result.Data, err)
		}
		return j, ""
	}
}

// TestJobWatch watches a job over wsLink (a subscription) and httpBatchStreamLink (an
// async iterable): its owner gets the pending state, then the cancelled one, and the
// stream ends; another user asking for the same job id gets NOT_FOUND on both, as
// job.get answers, and never a state of it.
func TestJobWatch(t *testing.T) {
	t.Parallel()
	c := setupRealtime(t, 1, -1) // no dispatcher: the job stays pending until cancelled
	b := c.instances[0]
	alice := token(t, "alice", auth.RoleAuthenticated)
	mallory := token(t, "mallory", auth.RoleAuthenticated)
	p := readyProject(t, b, alice)
	var jobs pack.Jobs
	b.mutate(t, alice, "image.generate", map[string]any{"projectId": p.ID, "type": "main"}).decode(t, &jobs)
	id := jobs.Jobs[0].ID.String()

	ws := rtDialWS(t, b, mallory, nil)
	ws.send(map[string]any{"id": 1, "method": "subscription", "params": map[string]any{"path": "job.watch", "input": map[string]string{"id": id}}})
	if j, code := ws.nextJob(); code != "NOT_FOUND" {
		t.Fatalf("another user's job over WebSocket: got %+v %q; want NOT_FOUND", j, code)
	}
	// Over JSONL the call answers an iterable whose first chunk is the error (as an
	// async generator that throws at once does): for-await throws NOT_FOUND.
	var all []string
	for lines := jsonlWatch(t, b, mallory, id); lines.Scan(); {
		all = append(all, lines.Text())
	}
	if len(all) == 0 || !strings.HasPrefix(all[len(all)-1], `[2,2,{`) || !strings.Contains(all[len(all)-1], `"NOT_FOUND"`) ||
		strings.Contains(strings.Join(all, "\n"), `"status"`) {
		t.Fatalf("another user's job over JSONL: %v", all)
	}

	ws = rtDialWS(t, b, alice, nil)
	ws.send(map[string]any{"id": 1, "method": "subscription", "params": map[string]any{"path": "job.watch", "input": map[string]string{"id": id}}})
	if j, code := ws.nextJob(); code != "" || j.Status != pack.JobPending || j.ID.String() != id {
		t.Fatalf("first state: %+v %q; want pending", j, code)
	}
	stream := jsonlWatch(t, b, alice, id)
	for range 4 { // head, result, data, first value
		if !stream.Scan() {
			t.Fatalf("JSONL stream ended early: %v", stream.Err())
		}
	}
	if !strings.Contains(stream.Text(), `"status":"pending"`) {
		t.Fatalf("JSONL first state: %s", stream.Text())
	}

	b.mutate(t, alice, "job.cancel", map[string]any{"id": id}).decode(t, new(pack.Job))
	if j, code := ws.nextJob(); code != "" || j.Status != pack.JobCancelled {
		t.Fatalf("after the cancel: %+v %q; want cancelled", j, code)
	}
	if _, code := ws.nextJob(); code != "stopped" {
		t.Fatalf("after the final state: %q; want stopped", code)
	}
	var rest []string
	for stream.Scan() {
		rest = append(rest, stream.Text())
	}
	if len(rest) != 2 || !strings.Contains(rest[0], `"status":"cancelled"`) || rest[1] != `[2,0,[[]]]` {
		t.Fatalf("JSONL after the cancel: %v; want the cancelled state, then return", rest)
	}
}

// jsonlWatch opens job.watch over httpBatchStreamLink and returns its lines.
func jsonlWatch(t *testing.T, b *testBundle, tok, id string) *bufio.Scanner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	in, _ := json.Marshal(map[string]any{"0": map[string]string{"id": id}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/trpc/job.watch?batch=1&input="+url.QueryEscape(string(in)), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("trpc-accept", "application/jsonl")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return bufio.NewScanner(resp.Body)
}

// TestJobWatchFollowsARunningJob watches a job a worker runs: the states arrive with
// progress that never goes back, the last one is completed, and the stream ends.
func TestJobWatchFollowsARunningJob(t *testing.T) {
	t.Parallel()
	c := setupRealtime(t, 1, 0)
	b := c.instances[0]
	alice := token(t, "alice", auth.RoleAuthenticated)
	p := readyProject(t, b, alice)
	var jobs pack.Jobs
	b.mutate(t, alice, "image.generate", map[string]any{"projectId": p.ID, "type": "main"}).decode(t, &jobs)

	ws := rtDialWS(t, b, alice, nil)
	ws.send(map[string]any{"id": 1, "method": "subscription", "params": map[string]any{"path": "job.watch", "input": map[string]string{"id": jobs.Jobs[0].ID.String()}}})
	var states []pack.Job
	for {
		j, code := ws.nextJob()
		if code == "stopped" {
			break
		}
		if code != "" {
			t.Fatalf("job.watch failed: %s", code)
		}
		if n := len(states); n > 0 && j.Progress < states[n-1].Progress && j.Status == states[n-1].Status {
			t.Fatalf("progress went back: %+v after %+v", j, states[n-1])
		}
		states = append(states, j)
	}
	t.Logf("%d states", len(states))
	if len(states) == 0 || states[len(states)-1].Status != pack.JobCompleted {
		t.Fatalf("states %+v; want the last completed", states)
	}
}
