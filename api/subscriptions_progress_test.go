package api

import (
	"testing"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/realtime"
)

func TestApplyProgressRaisesRunningSlotsOnly(t *testing.T) {
	t.Parallel()
	running, pending, other := uuid.New(), uuid.New(), uuid.New()
	s := pack.Snapshot{Version: 7, Progress: 10, Images: []pack.ImageSlot{
		{Type: "main", Status: pack.JobProcessing, Progress: 20, JobID: &running},
		{Type: "lifestyle", Status: pack.JobPending, JobID: &pending},
		{Type: "detail", Status: pack.SlotNone},
	}}
	got := applyProgress(s, []realtime.Progress{
		{JobID: running, Progress: 60, Stage: "compositing"},
		{JobID: pending, Progress: 50, Stage: "ignored"}, // not running yet
		{JobID: other, Progress: 90},                     // not a job of this snapshot
	}).(pack.Snapshot)

	if main := got.Images[0]; main.Progress != 60 || main.Stage != "compositing" {
		t.Fatalf("running slot: progress %d stage %q; want 60 compositing", main.Progress, main.Stage)
	}
	if got.Images[1].Progress != 0 || got.Images[1].Stage != "" {
		t.Fatalf("pending slot changed: %+v", got.Images[1])
	}
	if got.Progress != 10+40/2 || got.Version != 7 {
		t.Fatalf("project progress %d version %d; want 30 at version 7", got.Progress, got.Version)
	}
	if s.Images[0].Progress != 20 {
		t.Fatal("applyProgress modified the snapshot it was given")
	}

	// Older progress than the snapshot's never moves a slot back.
	back := applyProgress(got, []realtime.Progress{{JobID: running, Progress: 30}}).(pack.Snapshot)
	if back.Images[0].Progress != 60 || back.Progress != got.Progress {
		t.Fatalf("stale progress moved the slot to %d, project to %d", back.Images[0].Progress, back.Progress)
	}
}
