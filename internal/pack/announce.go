package pack

import (
	"sync"

	"github.com/google/uuid"
)

// Change says that a project changed: Version is its new version, or 0 when the change
// came from a job state change whose version the caller did not read. It is the one
// "project changed" signal, from the committed SQL to the browser.
type Change struct {
	ProjectID uuid.UUID
	UserID    string
	Version   int64
}

// JobProgress is a running job's in-memory progress, reported between the versions
// that persist it.
type JobProgress struct {
	ProjectID uuid.UUID
	UserID    string
	JobID     uuid.UUID
	Percent   int // 0-100
	Stage     string
}

// Announcer carries the pack's signals out of the process (realtime implements it).
// Both methods are called after commit, never inside a transaction, and must not block.
type Announcer interface {
	// ProjectChanged says a project changed.
	ProjectChanged(c Change)
	// JobProgress passes on a running job's progress.
	JobProgress(p JobProgress)
}

// Watchers is the process's one door for the project-changed signal: ProjectChanged
// wakes the long-polls of this process waiting in Changed, then passes the change on to
// the Announcer it wraps. Build one per process and give it to the Projection, the
// Handlers and the Service, so a long-poll wakes on a change made by any of them.
type Watchers struct {
	next Announcer

	mu      sync.Mutex
	waiting map[uuid.UUID]chan struct{}
}

// NewWatchers returns Watchers that pass every signal on to next.
func NewWatchers(next Announcer) *Watchers {
	return &Watchers{next: next, waiting: map[uuid.UUID]chan struct{}{}}
}

// ProjectChanged wakes the project's waiting long-polls and announces the change.
func (w *Watchers) ProjectChanged(c Change) {
	w.mu.Lock()
	if ch, ok := w.waiting[c.ProjectID]; ok {
		close(ch)
		delete(w.waiting, c.ProjectID)
	}
	w.mu.Unlock()
	w.next.ProjectChanged(c)
}

// JobProgress announces a job's progress.
func (w *Watchers) JobProgress(p JobProgress) { w.next.JobProgress(p) }

// Changed returns a channel closed at the next change of the project made through this
// process (its own requests and the jobs its dispatcher runs). Long-polling requests wait
// on it, then re-read.
func (w *Watchers) Changed(projectID uuid.UUID) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.waiting[projectID]
	if !ok {
		ch = make(chan struct{})
		w.waiting[projectID] = ch
	}
	return ch
}

// Silent is an Announcer that announces nothing: for a process without realtime (the
// offline CLI) and for tests.
type Silent struct{}

// ProjectChanged does nothing.
func (Silent) ProjectChanged(Change) {}

// JobProgress does nothing.
func (Silent) JobProgress(JobProgress) {}
