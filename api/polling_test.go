package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/packshot/packshot/internal/pack"
)

func TestPollingETagAndLongPoll(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	tok := token(t, "paula", "authenticated")
	p := createProject(t, b, tok, map[string]any{"name": "Lamp"})
	path := "/api/projects/" + p.ID.String()

	resp, raw := b.rest(t, tok, http.MethodGet, path, nil, nil)
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || tag != `"`+strconv.FormatInt(p.Version, 10)+`"` {
		t.Fatalf("GET: %d ETag %s; want 200 with ETag \"%d\"", resp.StatusCode, tag, p.Version)
	}
	var got pack.Snapshot
	if err := json.Unmarshal(raw, &got); err != nil || got.ID != p.ID {
		t.Fatalf("GET body %s: %v", raw, err)
	}
	resp, raw = b.rest(t, tok, http.MethodGet, path, nil, http.Header{"If-None-Match": {tag}})
	if resp.StatusCode != http.StatusNotModified || len(raw) != 0 {
		t.Fatalf("GET If-None-Match current: %d with %d bytes; want 304, empty", resp.StatusCode, len(raw))
	}

	// A long-poll returns as soon as the version changes: the update below wakes it
	// (if the wake failed, it would come back 304 after the whole wait).
	type answer struct {
		status int
		tag    string
		snap   pack.Snapshot
	}
	done := make(chan answer, 1)
	go func() {
		resp, raw := b.rest(t, tok, http.MethodGet, path+"?wait=25s", nil, http.Header{"If-None-Match": {tag}})
		a := answer{status: resp.StatusCode, tag: resp.Header.Get("ETag")}
		_ = json.Unmarshal(raw, &a.snap)
		done <- a
	}()
	var updated pack.Snapshot
	b.mutate(t, tok, "project.update", map[string]any{"id": p.ID, "title": "Brass desk lamp"}).decode(t, &updated)
	a := <-done
	if a.status != http.StatusOK || a.snap.Title != "Brass desk lamp" || a.tag != `"`+strconv.FormatInt(updated.Version, 10)+`"` {
		t.Fatalf("long-poll: %d ETag %s title %q; want 200 with the update's version %d", a.status, a.tag, a.snap.Title, updated.Version)
	}

	// An If-None-Match of an older version answers at once with the current state.
	resp, _ = b.rest(t, tok, http.MethodGet, path+"?wait=25s", nil, http.Header{"If-None-Match": {tag}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("long-poll with a stale ETag: %d; want 200 at once", resp.StatusCode)
	}

	// While generating, pollers are told when to come back.
	readyP := readyProject(t, b, tok)
	b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": readyP.ID}).decode(t, new(pack.Jobs))
	resp, raw = b.rest(t, tok, http.MethodGet, "/api/projects/"+readyP.ID.String(), nil, nil)
	_ = json.Unmarshal(raw, &got)
	if got.Status != pack.StatusGenerating || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("while generating: status %q Retry-After %q; want generating with a Retry-After", got.Status, resp.Header.Get("Retry-After"))
	}

	// A malformed wait is a problem JSON 400.
	resp, raw = b.rest(t, tok, http.MethodGet, path+"?wait=forever", nil, nil)
	var prob struct {
		Type, Title, Detail string
		Status              int
	}
	_ = json.Unmarshal(raw, &prob)
	if resp.StatusCode != http.StatusBadRequest || prob.Status != 400 || prob.Detail == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("?wait=forever: %d %s %s; want a 400 problem", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
}
