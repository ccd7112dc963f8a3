package realtime

import (
	"testing"

	"github.com/google/uuid"
)

// A doorbell without a version (the queue's after-commit hook sends those) must survive
// coalescing with versioned ones: merged into "version 27", a hub that already holds v27
// skipped the reload and its subscribers never saw the job's completion (found by
// tests/faults, scenario 4: a watcher stuck at v27 "generating 98%" while the project was
// v28 completed).
func TestPublishCoalescing(t *testing.T) {
	p := NewPublisher(nil, PublisherConfig{})
	blind, versioned := uuid.New(), uuid.New()
	for _, v := range []int64{27, 0, 29} {
		p.Publish(Change{ProjectID: blind, Version: v})
	}
	for _, v := range []int64{3, 5, 4} {
		p.Publish(Change{ProjectID: versioned, Version: v})
	}
	if got := p.doorbells[blind].Version; got != 0 {
		t.Errorf("27, then a reload, then 29 coalesce to version %d; want 0 (reload)", got)
	}
	if got := p.doorbells[versioned].Version; got != 5 {
		t.Errorf("3, 5, 4 coalesce to version %d; want 5", got)
	}
}
