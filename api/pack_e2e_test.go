package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/pack"
)

// createProject makes a project through project.create and returns its snapshot.
func createProject(t *testing.T, b *testBundle, tok string, input map[string]any) pack.Snapshot {
	t.Helper()
	var s pack.Snapshot
	b.mutate(t, tok, "project.create", input).decode(t, &s)
	return s
}

// readyProject creates a project with a photo and the data every pack image needs.
func readyProject(t *testing.T, b *testBundle, tok string) pack.Snapshot {
	t.Helper()
	s := createProject(t, b, tok, map[string]any{
		"name": "Blue bottle", "title": "Insulated steel bottle, 750 ml",
		"features":   []string{"Keeps drinks cold 24 h", "Leak-proof lid", "BPA free"},
		"dimensions": "8 x 26 x 8 cm",
	})
	var up pack.Snapshot
	b.upload(t, tok, s.ID.String(), productPhoto(t, 800, 800)).decode(t, &up)
	if up.Status != pack.StatusReady || up.Source == nil {
		t.Fatalf("after upload: status %q, source %v; want ready with a source", up.Status, up.Source)
	}
	return up
}

func TestLocalPackEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})

	// A dev token, as the web app gets one.
	resp, raw := b.rest(t, "", http.MethodPost, "/api/dev/token", bytes.NewReader([]byte(`{"user":"alice"}`)), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dev token: %d %s", resp.StatusCode, raw)
	}
	var tr struct{ Token string }
	_ = json.Unmarshal(raw, &tr)
	tok := tr.Token

	created := createProject(t, b, tok, map[string]any{"name": "Blue bottle"})
	if created.Status != pack.StatusDraft || created.Marketplace != "amazon" {
		t.Fatalf("new project: status %q marketplace %q; want draft, amazon", created.Status, created.Marketplace)
	}
	s := readyProject(t, b, tok)

	var jobs pack.Jobs
	b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": s.ID}).decode(t, &jobs)
	if len(jobs.Jobs) != 5 {
		t.Fatalf("generateCompletePack enqueued %d jobs; want 5", len(jobs.Jobs))
	}

	done := b.waitSettled(t, tok, s.ID.String())
	if done.Status != pack.StatusCompleted || done.Progress != 100 {
		t.Fatalf("after the pack: status %q progress %d; want completed 100 (slots %+v)", done.Status, done.Progress, done.Images)
	}
	want := []string{"main", "lifestyle", "infographic", "dimensions", "detail"}
	if len(done.Images) != len(want) {
		t.Fatalf("%d image slots; want %d", len(done.Images), len(want))
	}
	for i, slot := range done.Images {
		if slot.Type != want[i] || slot.Status != "completed" || slot.Image == nil {
			t.Fatalf("slot %d: %s %s image=%v; want %s completed with an image", i, slot.Type, slot.Status, slot.Image != nil, want[i])
		}
		img := slot.Image
		if !img.Compliance.OK {
			t.Errorf("%s image fails its checks: %+v", slot.Type, img.Compliance.Violations)
		}
		if img.Provider != "local" || img.Width != testCanvas || img.Height != testCanvas {
			t.Errorf("%s image: provider %s %dx%d; want local %[5]dx%[5]d", slot.Type, img.Provider, img.Width, img.Height, testCanvas)
		}
		// The signed URL serves the image without a token.
		resp, body := b.rest(t, "", http.MethodGet, img.URL, nil, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || int64(len(body)) != img.Bytes {
			t.Errorf("%s image URL: %d %s, %d bytes; want 200 image/jpeg %d bytes",
				slot.Type, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), img.Bytes)
		}
	}
	if done.PackURL == nil {
		t.Fatal("completed project has no packUrl")
	}

	// The pack's link works in a plain <a href>: no header.
	resp, raw = b.rest(t, "", http.MethodGet, *done.PackURL, nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("pack.zip: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	files := map[string][]byte{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	wantNames := []string{"01-main.jpg", "02-lifestyle.jpg", "03-infographic.jpg", "04-dimensions.jpg", "05-detail.jpg", "manifest.json"}
	if len(names) != len(wantNames) {
		t.Fatalf("pack.zip holds %v; want %v", names, wantNames)
	}
	for i := range names {
		if names[i] != wantNames[i] {
			t.Fatalf("pack.zip holds %v; want %v", names, wantNames)
		}
	}
	var m pack.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Project.ID != s.ID || len(m.Images) != 5 {
		t.Fatalf("manifest: project %s, %d images; want %s, 5", m.Project.ID, len(m.Images), s.ID)
	}
	for i, mi := range m.Images {
		if mi.File != wantNames[i] || mi.Type != want[i] || mi.Bytes != int64(len(files[mi.File])) || !mi.Compliance.OK || mi.SHA256 == "" {
			t.Errorf("manifest image %d: %+v", i, mi)
		}
	}

	// The same pack through REST with the bearer token.
	resp, _ = b.rest(t, tok, http.MethodGet, "/api/projects/"+s.ID.String()+"/pack.zip", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pack.zip with a token: %d", resp.StatusCode)
	}

	checkOperatorQueries(t, b, jobs.Jobs)

	// image.list returns the five current images.
	var imgs []pack.GeneratedImage
	b.query(t, tok, "image.list", map[string]any{"projectId": s.ID}).decode(t, &imgs)
	if len(imgs) != 5 {
		t.Fatalf("image.list: %d images; want 5", len(imgs))
	}
}

// checkOperatorQueries runs the operators' monitoring SQL verbatim and the admin
// procedures after a completed pack: they must show its jobs as they are.
func checkOperatorQueries(t *testing.T, b *testBundle, packJobs []pack.Job) {
	t.Helper()
	ctx := context.Background()
	ids := map[uuid.UUID]bool{}
	for _, j := range packJobs {
		ids[j.ID] = true
	}
	count := func(sql string) (n int) {
		rows, err := b.db.Pool.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			if id, ok := vals[0].([16]byte); ok && ids[uuid.UUID(id)] {
				n++
			}
		}
		return n
	}
	if n := count("SELECT * FROM job_queue ORDER BY created_at DESC LIMIT 10;"); n != len(packJobs) {
		t.Errorf("latest jobs show %d of the pack's %d", n, len(packJobs))
	}
	if n := count("SELECT * FROM job_queue WHERE status = 'pending';"); n != 0 {
		t.Errorf("%d of the finished pack's jobs listed as pending", n)
	}
	if n := count("SELECT * FROM job_queue WHERE status = 'failed' ORDER BY created_at DESC LIMIT 10;"); n != 0 {
		t.Errorf("%d of the pack's jobs listed as failed", n)
	}
	rows, err := b.db.Pool.Query(ctx, `SELECT status, COUNT(*) as count,
       AVG(EXTRACT(EPOCH FROM (completed_at - created_at))) as avg_duration_seconds
FROM job_queue GROUP BY status;`)
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]int64{}
	for rows.Next() {
		var status string
		var n int64
		var avg *float64
		if err := rows.Scan(&status, &n, &avg); err != nil {
			t.Fatal(err)
		}
		stats[status] = n
		if status == "completed" && (avg == nil || *avg <= 0) {
			t.Errorf("completed jobs' average duration %v; want a positive number", avg)
		}
	}
	rows.Close()
	if stats["completed"] != int64(len(packJobs)) || len(stats) != 1 {
		t.Errorf("jobs per status %v; want only %d completed", stats, len(packJobs))
	}
	// admin.jobStats says the same through the API.
	var js struct {
		Stats []struct {
			Status             string   `json:"status"`
			Count              int64    `json:"count"`
			AvgDurationSeconds *float64 `json:"avgDurationSeconds"`
		} `json:"stats"`
	}
	admin := token(t, "ops", "service_role")
	b.query(t, admin, "admin.jobStats", nil).decode(t, &js)
	if len(js.Stats) != 1 || js.Stats[0].Status != "completed" || js.Stats[0].Count != int64(len(packJobs)) || js.Stats[0].AvgDurationSeconds == nil {
		t.Errorf("admin.jobStats %+v; want %d completed with an average duration", js.Stats, len(packJobs))
	}
	var failed []pack.Job
	b.query(t, admin, "admin.failedJobs", map[string]any{}).decode(t, &failed)
	if len(failed) != 0 {
		t.Errorf("admin.failedJobs lists %d jobs; want none", len(failed))
	}
}
