package queue

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// notifyChannel is the channel of the queue's doorbells. Payloads:
//
//	w:<worker>:<queue>   new runnable work in queue (enqueue_job sends w:sql:<queue>)
//	c:<worker>:<job id>  the job was cancelled: stop its handler
//
// A doorbell carries no truth; receivers re-read the table.
const notifyChannel = "packshot_queue"

// notifier sends NOTIFYs for this instance: each from its own small autocommit statement,
// never inside an enqueue or job-state transaction, at most one burst per
// Config.NotifyInterval, with identical payloads coalesced.
type notifier struct {
	c      *Client
	signal chan struct{}
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	pending map[string]struct{}
	stopped bool
}

// notifier returns the Client's notifier, starting it on first use.
func (c *Client) notifier() *notifier {
	c.notifyOnce.Do(func() {
		n := &notifier{
			c:       c,
			signal:  make(chan struct{}, 1),
			stop:    make(chan struct{}),
			done:    make(chan struct{}),
			pending: map[string]struct{}{},
		}
		go n.loop()
		c.notif = n
	})
	return c.notif
}

// ring queues a payload; it never blocks.
func (n *notifier) ring(payload string) {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.pending[payload] = struct{}{}
	n.mu.Unlock()
	select {
	case n.signal <- struct{}{}:
	default:
	}
}

func (n *notifier) loop() {
	defer close(n.done)
	for {
		select {
		case <-n.signal:
		case <-n.stop:
			n.flush()
			return
		}
		n.flush()
		t := time.NewTimer(n.c.cfg.NotifyInterval)
		select {
		case <-t.C:
		case <-n.stop:
			t.Stop()
			n.flush()
			return
		}
	}
}

func (n *notifier) flush() {
	n.mu.Lock()
	payloads := make([]string, 0, len(n.pending))
	for p := range n.pending {
		payloads = append(payloads, p)
	}
	clear(n.pending)
	n.mu.Unlock()
	for _, p := range payloads {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := n.c.store.JobNotify(ctx, p)
		cancel()
		if err != nil {
			// Other instances will find the work by polling.
			n.c.cfg.Logger.Warn("queue notify failed", "err", err)
		}
	}
}

// close stops the notifier after sending what is pending.
func (n *notifier) close() {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.stopped = true
	n.mu.Unlock()
	close(n.stop)
	<-n.done
}

// listen holds one dedicated connection LISTENing on notifyChannel, reconnecting with
// backoff, and turns doorbells into local wake-ups and cancellations until ctx ends.
func (d *dispatcher) listen(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		d.c.cfg.Logger.Warn("queue listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(backoff*2, time.Second)
	}
}

func (d *dispatcher) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, d.c.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	// LISTEN takes an identifier, not a parameter; sqlc cannot express it.
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	d.wake() // doorbells may have rung while we were not listening
	if d.c.onListen != nil {
		d.c.onListen()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		d.doorbell(n.Payload)
	}
}

// doorbell handles one payload from another instance (or from SQL).
func (d *dispatcher) doorbell(payload string) {
	kind, rest, ok := strings.Cut(payload, ":")
	if !ok {
		return
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return
	}
	from, arg := rest[:i], rest[i+1:]
	if from == d.c.cfg.WorkerID {
		return
	}
	switch kind {
	case "w":
		if arg == d.c.cfg.Queue {
			d.wake()
		}
	case "c":
		if id, err := uuid.Parse(arg); err == nil {
			d.cancelLocal(id)
		}
	}
}
