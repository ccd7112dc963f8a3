package api

import (
	"fmt"
	"sync"
	"time"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/telemetry"
)

// uploadRetryAfter is what a refused upload is told to wait: uploads take seconds.
const uploadRetryAfter = 5 * time.Second

// uploadGate caps the uploads (tRPC image.upload and REST /source) this process reads and
// processes at once, so many slow or large uploads cannot hold its memory, disk and
// decoders. It admits without waiting: a full gate answers 503 with Retry-After.
type uploadGate struct {
	slots   chan struct{} // nil: no cap
	metrics *telemetry.UploadMetrics
}

func newUploadGate(max int, m *telemetry.Metrics) *uploadGate {
	g := &uploadGate{}
	if max > 0 {
		g.slots = make(chan struct{}, max)
	}
	if m != nil {
		um := m.Uploads()
		g.metrics = &um
	}
	return g
}

// acquire takes a slot, or refuses with EUNAVAILABLE naming the limit. release gives
// the slot back; calling it more than once is harmless.
func (g *uploadGate) acquire() (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	if g.slots != nil {
		select {
		case g.slots <- struct{}{}:
		default:
			if g.metrics != nil {
				g.metrics.Refused.Inc()
			}
			return nil, &apperr.Error{Code: apperr.EUNAVAILABLE, RetryAfter: uploadRetryAfter,
				Message: fmt.Sprintf("too many uploads in flight on this server (limit %d); try again in %d s",
					cap(g.slots), int(uploadRetryAfter.Seconds()))}
		}
	}
	if g.metrics != nil {
		g.metrics.InFlight.Inc()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if g.metrics != nil {
				g.metrics.InFlight.Dec()
			}
			if g.slots != nil {
				<-g.slots
			}
		})
	}, nil
}
