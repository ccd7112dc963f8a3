package imaging

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/packshot/packshot/internal/imaging/imagingtest"
)

// budgetEvents records a DecodeBudget's observer calls.
type budgetEvents struct {
	mu      sync.Mutex
	inUse   int64
	waits   int
	refused map[string]int
}

func (e *budgetEvents) observer() DecodeObserver {
	e.refused = map[string]int{}
	return DecodeObserver{
		InUseFunc:   func(n int64) { e.mu.Lock(); e.inUse = n; e.mu.Unlock() },
		WaitFunc:    func() { e.mu.Lock(); e.waits++; e.mu.Unlock() },
		RefusedFunc: func(r string) { e.mu.Lock(); e.refused[r]++; e.mu.Unlock() },
	}
}

func (e *budgetEvents) get() (inUse int64, waits int, refused map[string]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := map[string]int{}
	for k, v := range e.refused {
		r[k] = v
	}
	return e.inUse, e.waits, r
}

// waitWaiting blocks until n acquires are queued on b: the test's synchronisation is the
// budget's own state, not time.
func waitWaiting(t *testing.T, b *DecodeBudget, n int) {
	t.Helper()
	for b.Waiting() != n {
		runtime.Gosched()
	}
}

// acquireAsync starts b.Acquire(ctx, n) and returns its result channel.
func acquireAsync(ctx context.Context, b *DecodeBudget, n int64) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- b.Acquire(ctx, n) }()
	return ch
}

func TestDecodeBudgetWaitsInOrder(t *testing.T) {
	t.Parallel()
	var ev budgetEvents
	b := NewDecodeBudget(100, ev.observer())
	ctx := context.Background()
	if err := b.Acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	big := acquireAsync(ctx, b, 60)
	waitWaiting(t, b, 1)
	// 10 bytes are free, but the 60 queued first go first: a stream of small decodes
	// must not starve a large one.
	small := acquireAsync(ctx, b, 10)
	waitWaiting(t, b, 2)
	select {
	case err := <-big:
		t.Fatalf("the second 60 bytes were granted while the first were held (%v)", err)
	case err := <-small:
		t.Fatalf("10 bytes overtook the 60 queued before them (%v)", err)
	default:
	}
	b.Release(60)
	if err := <-big; err != nil {
		t.Fatal(err)
	}
	if err := <-small; err != nil {
		t.Fatal(err)
	}
	if got := b.InUse(); got != 70 {
		t.Fatalf("in use %d; want 70", got)
	}
	b.Release(60)
	b.Release(10)
	inUse, waits, refused := ev.get()
	if inUse != 0 || waits != 2 || len(refused) != 0 {
		t.Fatalf("observer saw in use %d, %d waits, refusals %v; want 0, 2, none", inUse, waits, refused)
	}
}

func TestDecodeBudgetRefusesWhatNeverFits(t *testing.T) {
	t.Parallel()
	var ev budgetEvents
	b := NewDecodeBudget(100, ev.observer())
	if err := b.Acquire(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	// The budget is full: a request that waited would block here forever.
	err := b.Acquire(context.Background(), 101)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Acquire(101) of a 100-byte budget: %v; want ErrTooLarge at once", err)
	}
	if _, _, refused := ev.get(); refused[RefusedBudget] != 1 {
		t.Fatalf("refusals %v; want one %s", refused, RefusedBudget)
	}
}

func TestDecodeBudgetCancelledWaiterLeavesTheQueue(t *testing.T) {
	t.Parallel()
	var ev budgetEvents
	b := NewDecodeBudget(100, ev.observer())
	bg := context.Background()
	if err := b.Acquire(bg, 50); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	big := acquireAsync(ctx, b, 80)
	waitWaiting(t, b, 1)
	small := acquireAsync(bg, b, 40) // fits, but queued behind the 80
	waitWaiting(t, b, 2)
	cancel()
	err := <-big
	if !errors.Is(err, ErrDecodeBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v; want ErrDecodeBusy wrapping context.Canceled", err)
	}
	// The head of the queue left: the 40 bytes behind it fit and are granted.
	if err := <-small; err != nil {
		t.Fatal(err)
	}
	if b.Waiting() != 0 || b.InUse() != 90 {
		t.Fatalf("%d waiting, %d in use; want 0 and 90", b.Waiting(), b.InUse())
	}
	if _, _, refused := ev.get(); refused[RefusedWait] != 1 {
		t.Fatalf("refusals %v; want one %s", refused, RefusedWait)
	}
}

// TestDecodeWaitsForBudget proves that a decode takes its estimate from the budget before
// decoding: with the budget held, the decode waits; released, it runs and gives its
// share back.
func TestDecodeWaitsForBudget(t *testing.T) {
	t.Parallel()
	var ev budgetEvents
	g := newDecodeGuard(DecodeConfig{BudgetBytes: 64 << 20, Observer: ev.observer()})
	data := imagingtest.JPEG{Width: 1200, Height: 900, Progressive: true}.Bytes()
	h, err := checkHeader(g, data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.budget.Acquire(context.Background(), g.budget.Size()); err != nil {
		t.Fatal(err)
	}
	var decoded atomic.Bool
	done := make(chan error, 1)
	go func() {
		_, _, err := decodeBytes(context.Background(), g, data, Limits{})
		decoded.Store(true)
		done <- err
	}()
	waitWaiting(t, g.budget, 1)
	if decoded.Load() {
		t.Fatal("the decode ran while the budget was full")
	}
	g.budget.Release(g.budget.Size())
	if err := <-done; err != nil {
		t.Fatalf("decode after the budget was freed: %v", err)
	}
	if g.budget.InUse() != 0 {
		t.Fatalf("%d bytes still in use after the decode; want 0", g.budget.InUse())
	}
	if _, waits, _ := ev.get(); waits != 1 {
		t.Fatalf("%d waits; want 1", waits)
	}
	// A decode whose caller gives up waiting is refused as busy, not as a bad file.
	if err := g.budget.Acquire(context.Background(), g.budget.Size()-h.DecodeCost+1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for g.budget.Waiting() != 1 && ctx.Err() == nil {
			runtime.Gosched()
		}
		cancel()
	}()
	if _, _, err := decodeBytes(ctx, g, data, Limits{}); !errors.Is(err, ErrDecodeBusy) {
		t.Fatalf("decode cancelled while waiting: %v; want ErrDecodeBusy", err)
	}
}

func TestCheckHeaderCostlyPixelLimit(t *testing.T) {
	t.Parallel()
	var ev budgetEvents
	g := newDecodeGuard(DecodeConfig{MaxCostlyPixels: 1_000_000, Observer: ev.observer()})
	for _, c := range []struct {
		name    string
		jpeg    imagingtest.JPEG
		refused bool
	}{
		{"baseline 4:2:0", imagingtest.JPEG{Width: 1200, Height: 1000, Subsampled: true}, false},
		{"baseline 4:4:4", imagingtest.JPEG{Width: 1200, Height: 1000}, false},
		{"progressive 4:2:0", imagingtest.JPEG{Width: 1200, Height: 1000, Progressive: true, Subsampled: true}, true},
		{"progressive 4:4:4", imagingtest.JPEG{Width: 1200, Height: 1000, Progressive: true}, true},
		{"baseline CMYK", imagingtest.JPEG{Width: 1200, Height: 1000, CMYK: true}, true},
		{"progressive CMYK at the limit", imagingtest.JPEG{Width: 1000, Height: 1000, Progressive: true, CMYK: true}, false},
	} {
		_, err := checkHeader(g, c.jpeg.Bytes(), Limits{})
		if c.refused != (err != nil) || c.refused && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v; want refused %v (ErrTooLarge)", c.name, err, c.refused)
		}
	}
	if _, _, refused := ev.get(); refused[RefusedPixels] != 3 {
		t.Errorf("refusals %v; want 3 %s", refused, RefusedPixels)
	}
}

func TestCheckHeaderRefusesADecodeLargerThanTheBudget(t *testing.T) {
	t.Parallel()
	g := newDecodeGuard(DecodeConfig{BudgetBytes: 64 << 20})
	// 3000×3000 progressive 4:4:4: 19 bytes per pixel, 171 MB.
	data := imagingtest.JPEG{Width: 3000, Height: 3000, Progressive: true}.Bytes()
	_, _, err := decodeBytes(context.Background(), g, data, Limits{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("decode of a 171 MB estimate with a 64 MB budget: %v; want ErrTooLarge", err)
	}
	if g.budget.InUse() != 0 {
		t.Fatal("the refused decode took budget")
	}
}

// A job's encode of a main image decodes it again to verify its border, taking its share
// of the decode budget: when the budget stays full, the wait ends with the job's context
// (ErrDecodeBusy) instead of holding the job past its cancellation. Not parallel: it
// replaces the process-wide guard.
func TestFinishWaitsForTheBudgetOnlyUntilItsContextEnds(t *testing.T) {
	budget := ConfigureDecode(DecodeConfig{BudgetBytes: 64 << 20})
	t.Cleanup(func() { ConfigureDecode(DefaultDecodeConfig) })
	if err := budget.Acquire(context.Background(), budget.Size()); err != nil {
		t.Fatal(err)
	}
	defer budget.Release(budget.Size())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	amazon, _ := ProfileFor("amazon")
	r := &Rendered{Type: TypeMain, Image: mainImage(600, 0.8, [3]uint8{255, 255, 255})}
	if _, err := FinishContext(ctx, r, amazon); !errors.Is(err, ErrDecodeBusy) {
		t.Fatalf("FinishContext with the budget full and the job cancelled: %v; want ErrDecodeBusy", err)
	}
}
