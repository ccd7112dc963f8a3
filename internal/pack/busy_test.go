package pack

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// A job that keeps finding its provider busy is snoozed for longer each time, up to
// maxBusySnoozeFactor times the first snooze, each jittered to between half and the
// whole; a job that got past the check starts again from the first.
func TestBusySnoozesGrowJitteredAndBounded(t *testing.T) {
	t.Parallel()
	const base = 2 * time.Second
	var b busyBackoff
	job := uuid.New()
	want := base
	for i := range 10 {
		d := b.next(job, base)
		if d < want/2 || d > want {
			t.Errorf("snooze %d: %v; want between %v and %v", i+1, d, want/2, want)
		}
		want = min(2*want, maxBusySnoozeFactor*base)
	}
	if other := b.next(uuid.New(), base); other > base {
		t.Errorf("another job's first snooze: %v; want at most %v", other, base)
	}
	b.reset(job)
	if d := b.next(job, base); d > base {
		t.Errorf("after a reset: %v; want at most %v", d, base)
	}
}
