package queue

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/notifier"
)

// notifyChannel is the channel of the queue's doorbells. Payloads:
//
//	w:<worker>:<queue>   new runnable work in queue (enqueue_job sends w:sql:<queue>)
//	c:<worker>:<job id>  the job was cancelled: stop its handler
//
// A doorbell carries no truth; receivers re-read the table.
const notifyChannel = "packshot_queue"

// Notifier is what the queue needs of the instance's Postgres notifier
// (*notifier.Notifier): it hears doorbells through Listen and rings them through Notify.
type Notifier interface {
	Listen(topic string, h notifier.Handler) (unlisten func())
	Notify(ctx context.Context, topic string, payloads ...string) error
}

// sender rings the queue's doorbells for this instance through the Notifier: at most
// one burst per Config.NotifyInterval, with identical payloads coalesced, each burst one
// autocommit statement, never inside an enqueue or job-state transaction.
type sender struct {
	c      *Client
	signal chan struct{}
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	pending map[string]struct{}
	stopped bool
}

// notifier returns the Client's doorbell sender, starting it on first use.
func (c *Client) notifier() *sender {
	c.notifyOnce.Do(func() {
		n := &sender{
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
func (n *sender) ring(payload string) {
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

func (n *sender) loop() {
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

func (n *sender) flush() {
	n.mu.Lock()
	payloads := make([]string, 0, len(n.pending))
	for p := range n.pending {
		payloads = append(payloads, p)
	}
	clear(n.pending)
	n.mu.Unlock()
	if len(payloads) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.c.cfg.Notifier.Notify(ctx, notifyChannel, payloads...); err != nil {
		// Other instances will find the work by polling.
		n.c.cfg.Logger.Warn("queue notify failed", "err", err)
	}
}

// close stops the sender after sending what is pending.
func (n *sender) close() {
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

// listen subscribes the dispatcher to notifyChannel: doorbells from other instances (and
// from SQL) become local wake-ups and cancellations, and every (re)connect wakes the claim
// loop, because doorbells may have rung while nobody listened. It returns the unlisten
// function.
func (d *dispatcher) listen() (unlisten func()) {
	return d.c.cfg.Notifier.Listen(notifyChannel, notifier.Handler{
		Notify: d.doorbell,
		Connected: func() {
			d.wake()
			if d.c.onListen != nil {
				d.c.onListen()
			}
		},
	})
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
