package pack

import (
	"testing"

	"github.com/google/uuid"
)

// recorder is an Announcer that keeps what it hears.
type recorder struct {
	changes  []Change
	progress []JobProgress
}

func (r *recorder) ProjectChanged(c Change)   { r.changes = append(r.changes, c) }
func (r *recorder) JobProgress(p JobProgress) { r.progress = append(r.progress, p) }

func TestWatchersWakeLongPollsAndPassChangesOn(t *testing.T) {
	t.Parallel()
	next := &recorder{}
	w := NewWatchers(next)
	a, b := uuid.New(), uuid.New()
	waitA, waitB := w.Changed(a), w.Changed(b)
	if w.Changed(a) != waitA {
		t.Fatal("two waiters on one project got different channels")
	}

	w.ProjectChanged(Change{ProjectID: a, UserID: "ann", Version: 3})
	select {
	case <-waitA:
	default:
		t.Fatal("the changed project's long-poll was not woken")
	}
	select {
	case <-waitB:
		t.Fatal("another project's long-poll was woken")
	default:
	}
	if len(next.changes) != 1 || next.changes[0] != (Change{ProjectID: a, UserID: "ann", Version: 3}) {
		t.Fatalf("announced %+v", next.changes)
	}
	if w.Changed(a) == waitA {
		t.Fatal("a new wait after a change got the closed channel")
	}

	w.JobProgress(JobProgress{ProjectID: b, JobID: uuid.New(), Percent: 40, Stage: "rendering"})
	if len(next.progress) != 1 || next.progress[0].Percent != 40 {
		t.Fatalf("progress passed on: %+v", next.progress)
	}
}
