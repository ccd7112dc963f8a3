package imaging

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// DecodeBudget is a weighted semaphore in bytes of estimated decode memory. Every decode
// takes its estimate (Header.DecodeCost) from the budget before the first pixel is
// decoded and gives it back when it returns, so however many decodes run at once their
// memory together stays under the budget's size. Waiters are served first come, first
// served: a large decode is not starved by a stream of small ones.
type DecodeBudget struct {
	size int64
	obs  DecodeObserver

	mu      sync.Mutex
	used    int64
	waiters list.List // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes were granted
}

// DecodeObserver receives the decode guard's events, for metrics. Any field may be nil.
// The funcs must be quick and must not block: InUseFunc is called with the budget's lock
// held, so that the last value reported is the current one.
type DecodeObserver struct {
	// InUseFunc is called with the bytes in use after every change.
	InUseFunc func(bytes int64)
	// WaitFunc is called when a decode has to wait for budget.
	WaitFunc func()
	// RefusedFunc is called when a decode is refused before decoding; reason is one of
	// RefusedPixels, RefusedBudget or RefusedWait.
	RefusedFunc func(reason string)
}

// Reasons passed to DecodeObserver.RefusedFunc.
const (
	// RefusedPixels: a progressive or CMYK JPEG over DecodeConfig.MaxCostlyPixels.
	RefusedPixels = "costly_pixels"
	// RefusedBudget: the decode's estimate is larger than the whole budget.
	RefusedBudget = "over_budget"
	// RefusedWait: the caller's context ended while the decode waited for budget.
	RefusedWait = "wait"
)

// NewDecodeBudget returns a budget of size bytes reporting to obs.
func NewDecodeBudget(size int64, obs DecodeObserver) *DecodeBudget {
	return &DecodeBudget{size: size, obs: obs}
}

// Size returns the budget's size in bytes.
func (b *DecodeBudget) Size() int64 { return b.size }

// InUse returns the bytes currently taken.
func (b *DecodeBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Acquire takes n bytes, waiting while they are not free, until ctx ends. A request for
// more than the whole budget is refused at once (ErrTooLarge); a wait cut short by ctx
// returns ErrDecodeBusy wrapping ctx's error.
func (b *DecodeBudget) Acquire(ctx context.Context, n int64) error {
	if n > b.size {
		b.refused(RefusedBudget)
		return fmt.Errorf("%w: decoding it needs about %d MB of memory; the server's image decode budget is %d MB",
			ErrTooLarge, mb(n), mb(b.size))
	}
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.used += n
		b.inUse()
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	if b.obs.WaitFunc != nil {
		b.obs.WaitFunc()
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-w.ready:
		// Granted while ctx ended: the caller is gone, give the bytes back.
		b.mu.Unlock()
		b.Release(n)
	default:
		front := b.waiters.Front() == elem
		b.waiters.Remove(elem)
		if front {
			// The head of the queue leaving may let the next waiters in.
			b.grantLocked()
			b.inUse()
		}
		b.mu.Unlock()
	}
	b.refused(RefusedWait)
	return fmt.Errorf("%w: %w", ErrDecodeBusy, ctx.Err())
}

// Release gives back n bytes taken by Acquire.
func (b *DecodeBudget) Release(n int64) {
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic("imaging: DecodeBudget released more than it acquired")
	}
	b.grantLocked()
	b.inUse()
	b.mu.Unlock()
}

// grantLocked grants, in order, the waiters at the head of the queue whose bytes fit;
// b.mu is held.
func (b *DecodeBudget) grantLocked() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			break
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// Waiting returns how many decodes are waiting for budget.
func (b *DecodeBudget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

// inUse reports the bytes in use; b.mu is held.
func (b *DecodeBudget) inUse() {
	if b.obs.InUseFunc != nil {
		b.obs.InUseFunc(b.used)
	}
}

func (b *DecodeBudget) refused(reason string) {
	if b.obs.RefusedFunc != nil {
		b.obs.RefusedFunc(reason)
	}
}

// DecodeConfig sets the process-wide decode guard (ConfigureDecode).
type DecodeConfig struct {
	// BudgetBytes is the decode budget's size: the estimated memory of all decodes
	// running at once, in bytes. Defaults to 768 MiB.
	BudgetBytes int64
	// MaxCostlyPixels is the largest width×height accepted for a progressive or CMYK
	// JPEG, whose decode costs up to 32 bytes per pixel instead of 5 to 11. Defaults to
	// 24 megapixels (a 6000×4000 camera frame).
	MaxCostlyPixels int64
	// Observer receives the guard's events, for metrics.
	Observer DecodeObserver
}

// DefaultDecodeConfig is the guard used until ConfigureDecode is called, and the
// defaults for its zero fields.
var DefaultDecodeConfig = DecodeConfig{BudgetBytes: 768 << 20, MaxCostlyPixels: 24_000_000}

// decodeGuard is what every decode in the package goes through: the costly-pixel limit
// and the budget.
type decodeGuard struct {
	maxCostlyPixels int64
	budget          *DecodeBudget
}

func newDecodeGuard(c DecodeConfig) *decodeGuard {
	if c.BudgetBytes <= 0 {
		c.BudgetBytes = DefaultDecodeConfig.BudgetBytes
	}
	if c.MaxCostlyPixels <= 0 {
		c.MaxCostlyPixels = DefaultDecodeConfig.MaxCostlyPixels
	}
	return &decodeGuard{maxCostlyPixels: c.MaxCostlyPixels, budget: NewDecodeBudget(c.BudgetBytes, c.Observer)}
}

// guard is the process-wide decode guard set by ConfigureDecode; until then every decode
// goes through defaultGuard. It is one per process by design: the memory it protects is
// the process's, and every caller (upload validation, job handlers, the CLI, this
// package's own checks) decodes through it without being handed it.
var guard atomic.Pointer[decodeGuard]

// defaultGuard guards decodes with DefaultDecodeConfig while ConfigureDecode was not
// called (the CLI, tests).
var defaultGuard = newDecodeGuard(DefaultDecodeConfig)

// currentGuard returns the process-wide decode guard.
func currentGuard() *decodeGuard {
	if g := guard.Load(); g != nil {
		return g
	}
	return defaultGuard
}

// ConfigureDecode replaces the process-wide decode guard; zero fields take their
// defaults from DefaultDecodeConfig. Call it once at start, before any decode: decodes
// already holding budget give it back to the guard they took it from. It returns the
// new budget, for metrics and tests.
func ConfigureDecode(c DecodeConfig) *DecodeBudget {
	g := newDecodeGuard(c)
	guard.Store(g)
	return g.budget
}

func mb(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
