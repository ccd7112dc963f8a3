package notifier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/internal/lifecycle"
)

// MaxPayload is the largest payload Notify sends, in bytes: PostgreSQL refuses payloads
// of 8000 bytes or more.
const MaxPayload = 7999

// maxTopic is the longest topic PostgreSQL keeps whole: longer identifiers are truncated
// by LISTEN but not by pg_notify, so the two would never meet.
const maxTopic = 63

// ApplicationName is the application_name of the LISTEN connection, so operators can
// tell it apart in pg_stat_activity.
const ApplicationName = "packshot-notifier"

// Config configures a Notifier. The zero value is usable.
type Config struct {
	// HeartbeatInterval is how often the notifier NOTIFYs a private channel of its own on
	// its LISTEN connection; a heartbeat not received by the next one means the
	// connection no longer delivers, and it is replaced. Defaults to 15 s.
	HeartbeatInterval time.Duration
	// ReconnectMin and ReconnectMax bound the wait between reconnect attempts, which
	// doubles from ReconnectMin after each failed one. Default to 100 ms and 5 s.
	ReconnectMin, ReconnectMax time.Duration
	// Logger receives connection failures. Defaults to slog.Default().
	Logger *slog.Logger
	// Metrics receives the connection's measurements. Nil records nothing.
	Metrics Metrics
}

// Metrics receives a Notifier's measurements, for a metrics system to export. The
// methods are called on the connection's goroutine and from Notify: they must be fast
// and safe for concurrent use.
type Metrics interface {
	// ConnectionUp is told when the LISTEN connection comes up (true) or goes down
	// (false).
	ConnectionUp(up bool)
	// Reconnect counts attempts to replace a lost (or never made) connection.
	Reconnect()
	// Received counts notifications received on topic.
	Received(topic string)
	// SendFailed counts payloads for topic that Notify could not send: they are dropped.
	SendFailed(topic string, payloads int)
	// HeartbeatMissed counts heartbeats not received in time (the connection is then
	// replaced).
	HeartbeatMissed()
	// HeartbeatRoundTrip observes the time from sending a heartbeat to receiving it.
	HeartbeatRoundTrip(d time.Duration)
}

// noMetrics is the Metrics of a Config without any.
type noMetrics struct{}

func (noMetrics) ConnectionUp(bool)                {}
func (noMetrics) Reconnect()                       {}
func (noMetrics) Received(string)                  {}
func (noMetrics) SendFailed(string, int)           {}
func (noMetrics) HeartbeatMissed()                 {}
func (noMetrics) HeartbeatRoundTrip(time.Duration) {}

// Handler receives one topic's notifications. Its functions are called on the
// connection's goroutine, one at a time: they must not block.
type Handler struct {
	// Notify receives one notification's payload. Required.
	Notify func(payload string)
	// Connected is called once LISTEN on the topic is in place on a new connection (or,
	// for a handler added while connected, on the live one): notifications sent before
	// may have been missed, so the handler re-reads the state it serves. Optional.
	Connected func()
	// Disconnected is called when the connection on which Connected was called is lost.
	// Optional.
	Disconnected func()
}

// Notifier is one instance's LISTEN connection and its NOTIFY sender. Create it with
// New, add handlers with Listen at any time, Start it and Stop it. It is safe for
// concurrent use.
type Notifier struct {
	pool  *pgxpool.Pool
	cfg   Config
	beat  string // the private heartbeat channel
	nonce string // this notifier's heartbeat payload

	mu        sync.Mutex
	topics    map[string][]*subscription // copied on write: delivery reads them unlocked
	dirty     bool                       // topics changed since the connection last caught up
	interrupt context.CancelFunc         // ends the connection's wait; nil while it is not waiting
	ready     error
	pid       uint32

	runner lifecycle.Runner

	swallowBeats atomic.Bool // tests: ignore own heartbeats, as a dead connection would
}

// subscription is one Listen call.
type subscription struct {
	topic string
	h     Handler
	gone  atomic.Bool
	conn  uint64 // the connection Connected was last called on; guarded by Notifier.mu
}

// New returns a Notifier that LISTENs on a dedicated connection made with the settings
// of pool (not taken from it, so it never holds a pool slot and survives the pool's
// connection recycling) and NOTIFYs through pool. Call Start to connect.
func New(pool *pgxpool.Pool, cfg Config) *Notifier {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 15 * time.Second
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = 100 * time.Millisecond
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = 5 * time.Second
	}
	cfg.ReconnectMax = max(cfg.ReconnectMax, cfg.ReconnectMin)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	nonce := hex.EncodeToString(b)
	return &Notifier{
		pool:   pool,
		cfg:    cfg,
		beat:   "packshot_notifier_" + nonce, // private: other instances never hear it
		nonce:  nonce,
		topics: map[string][]*subscription{},
		ready:  errors.New("notifier not started"),
	}
}

// Listen adds a handler for topic's notifications and returns the function that removes
// it. It may be called at any time, before or after Start, and several handlers may
// listen to one topic. The first handler of a topic makes the connection LISTEN to it,
// the last one leaving makes it UNLISTEN. Once LISTEN is in place h.Connected is called
// (on every later reconnect, too). After unlisten returns no new call to h starts; one
// under way may finish. It panics if h.Notify is nil or topic is not a usable channel
// name.
func (n *Notifier) Listen(topic string, h Handler) (unlisten func()) {
	if h.Notify == nil {
		panic("notifier: Handler.Notify is required")
	}
	if err := checkTopic(topic); err != nil {
		panic(err)
	}
	s := &subscription{topic: topic, h: h}
	n.mu.Lock()
	n.topics[topic] = append(slices.Clip(n.topics[topic]), s)
	n.changedLocked()
	n.mu.Unlock()
	return sync.OnceFunc(func() {
		s.gone.Store(true)
		n.mu.Lock()
		defer n.mu.Unlock()
		subs := slices.DeleteFunc(slices.Clone(n.topics[topic]), func(x *subscription) bool { return x == s })
		if len(subs) == 0 {
			delete(n.topics, topic)
		} else {
			n.topics[topic] = subs
		}
		n.changedLocked()
	})
}

// changedLocked tells the connection to catch up with the topics.
func (n *Notifier) changedLocked() {
	n.dirty = true
	if n.interrupt != nil {
		n.interrupt()
	}
}

// notifySQL sends a batch of payloads on one channel in one statement, hence in one
// small transaction of its own.
const notifySQL = `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`

// Notify sends payloads on topic, in order, in one autocommit statement on the pool:
// never inside a caller's transaction, whose commit the NOTIFY would serialise. It
// refuses (and sends none of) payloads of MaxPayload+1 bytes or more. A send that fails
// is not retried here; the payloads are dropped and counted (Metrics.SendFailed).
func (n *Notifier) Notify(ctx context.Context, topic string, payloads ...string) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	for _, p := range payloads {
		if len(p) > MaxPayload {
			n.cfg.Metrics.SendFailed(topic, len(payloads))
			return fmt.Errorf("notifier: a payload on %s has %d bytes; PostgreSQL accepts at most %d", topic, len(p), MaxPayload)
		}
	}
	if len(payloads) == 0 {
		return nil
	}
	if _, err := n.pool.Exec(ctx, notifySQL, topic, payloads); err != nil {
		n.cfg.Metrics.SendFailed(topic, len(payloads))
		return fmt.Errorf("notify %s: %w", topic, err)
	}
	return nil
}

func checkTopic(topic string) error {
	if topic == "" || len(topic) > maxTopic {
		return fmt.Errorf("notifier: topic %q must have 1 to %d bytes", topic, maxTopic)
	}
	return nil
}

// Start starts the connection loop and returns at once; Ready reports when the
// connection is up. The loop runs until Stop, not until ctx ends: components that
// shut down after the caller's context (jobs finishing in their grace period) still
// hear and ring doorbells. Start may be called once.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	n.ready = errors.New("notifier not connected yet")
	n.mu.Unlock()
	if err := n.runner.Run(ctx, n.run); err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	return nil
}

// Stop closes the connection and waits until its loop has ended, or ctx ends. Handlers
// are not called after it returns nil. It is safe to call more than once, and a no-op
// without Start. Notify keeps working: it only needs the pool.
func (n *Notifier) Stop(ctx context.Context) error {
	done, ok := n.runner.Halt()
	if !ok {
		return nil
	}
	return lifecycle.Wait(ctx, done, "notifier")
}

// Ready returns nil while the LISTEN connection is up and its heartbeats arrive, and
// otherwise why not. Readiness checks use it: an instance that cannot hear doorbells
// serves stale states and misses other instances' wake-ups.
func (n *Notifier) Ready() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ready
}

// PID returns the server process id of the LISTEN connection, 0 while there is none.
func (n *Notifier) PID() uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pid
}

func (n *Notifier) setState(pid uint32, ready error) {
	n.mu.Lock()
	n.pid, n.ready = pid, ready
	n.mu.Unlock()
}

// run keeps a LISTEN connection up until ctx ends, reconnecting with backoff.
func (n *Notifier) run(ctx context.Context) {
	backoff := n.cfg.ReconnectMin
	var conn uint64 // counts connection attempts; a subscription remembers the one it was told of
	for ctx.Err() == nil {
		if conn > 0 {
			n.cfg.Metrics.Reconnect()
		}
		conn++
		connected, err := n.session(ctx, conn)
		if connected {
			n.cfg.Metrics.ConnectionUp(false)
		}
		if ctx.Err() != nil {
			break
		}
		n.setState(0, fmt.Errorf("notifier connection down: %w", err))
		if connected {
			n.disconnected(conn)
			backoff = n.cfg.ReconnectMin
		}
		n.cfg.Logger.Warn("notifier: LISTEN connection lost; reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(backoff*2, n.cfg.ReconnectMax)
	}
	n.setState(0, errors.New("notifier stopped"))
}

// connect opens the dedicated LISTEN connection with the pool's settings.
func (n *Notifier) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg := n.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ApplicationName
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

// session runs one connection: connect, LISTEN, tell the handlers, then deliver until
// the connection fails or misses a heartbeat. connected reports whether it got as far
// as LISTEN.
func (n *Notifier) session(ctx context.Context, id uint64) (connected bool, err error) {
	conn, err := n.connect(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(cctx)
		cancel()
	}()
	listening := map[string]bool{}
	if err := n.exec(ctx, conn, "LISTEN "+pgx.Identifier{n.beat}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	if err := n.catchUp(ctx, conn, listening); err != nil {
		return false, err
	}
	n.setState(conn.PgConn().PID(), nil)
	n.cfg.Metrics.ConnectionUp(true)
	// LISTEN is in place before any handler re-reads its state, so every change is
	// either read then or notified afterwards.
	n.announce(id, listening)

	outstanding := false // a heartbeat was sent and not received yet
	var sentAt time.Time
	next := time.Now().Add(n.cfg.HeartbeatInterval)
	for {
		n.mu.Lock()
		dirty := n.dirty
		n.dirty = false
		n.mu.Unlock()
		if dirty {
			if err := n.catchUp(ctx, conn, listening); err != nil {
				return true, err
			}
			n.announce(id, listening)
		}

		wctx, cancel := context.WithDeadline(ctx, next)
		n.mu.Lock()
		if n.dirty { // changed while catching up: catch up again before waiting
			n.mu.Unlock()
			cancel()
			continue
		}
		n.interrupt = cancel
		n.mu.Unlock()
		note, err := conn.WaitForNotification(wctx)
		n.mu.Lock()
		n.interrupt = nil
		n.mu.Unlock()
		cancel()

		if note != nil {
			if n.deliver(note) && outstanding {
				outstanding = false
				n.cfg.Metrics.HeartbeatRoundTrip(time.Since(sentAt))
			}
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return true, ctx.Err()
		case !waitEnded(err):
			return true, fmt.Errorf("wait for notification: %w", err)
		case time.Now().Before(next):
			// Interrupted by Listen or unlisten: catch up, then wait on.
		case outstanding:
			n.cfg.Metrics.HeartbeatMissed()
			return true, errors.New("heartbeat not received in time")
		default:
			if err := n.heartbeat(ctx, conn); err != nil {
				return true, err
			}
			outstanding, sentAt = true, time.Now()
			next = sentAt.Add(n.cfg.HeartbeatInterval)
		}
	}
}

// waitEnded reports whether WaitForNotification returned because its context ended
// (deadline or interrupt), after which the connection is still usable.
func waitEnded(err error) bool {
	return pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// catchUp LISTENs to every topic with handlers and UNLISTENs from every topic without;
// listening is what the connection listens to.
func (n *Notifier) catchUp(ctx context.Context, conn *pgx.Conn, listening map[string]bool) error {
	n.mu.Lock()
	var add, drop []string
	for t := range n.topics {
		if !listening[t] {
			add = append(add, t)
		}
	}
	for t := range listening {
		if len(n.topics[t]) == 0 {
			drop = append(drop, t)
		}
	}
	n.mu.Unlock()
	for _, t := range add {
		// LISTEN takes an identifier, not a parameter.
		if err := n.exec(ctx, conn, "LISTEN "+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", t, err)
		}
		listening[t] = true
	}
	for _, t := range drop {
		if err := n.exec(ctx, conn, "UNLISTEN "+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("unlisten %s: %w", t, err)
		}
		delete(listening, t)
	}
	return nil
}

// announce calls Connected on every handler whose topic the connection id listens to
// and that has not been told of it yet.
func (n *Notifier) announce(id uint64, listening map[string]bool) {
	var todo []*subscription
	n.mu.Lock()
	for t, subs := range n.topics {
		if !listening[t] {
			continue
		}
		for _, s := range subs {
			if s.conn != id {
				s.conn = id
				todo = append(todo, s)
			}
		}
	}
	n.mu.Unlock()
	for _, s := range todo {
		if s.h.Connected != nil && !s.gone.Load() {
			s.h.Connected()
		}
	}
}

// disconnected calls Disconnected on every handler told of connection id.
func (n *Notifier) disconnected(id uint64) {
	var todo []*subscription
	n.mu.Lock()
	for _, subs := range n.topics {
		for _, s := range subs {
			if s.conn == id {
				todo = append(todo, s)
			}
		}
	}
	n.mu.Unlock()
	for _, s := range todo {
		if s.h.Disconnected != nil && !s.gone.Load() {
			s.h.Disconnected()
		}
	}
}

// deliver hands one notification to its topic's handlers and reports whether it was
// this notifier's own heartbeat.
func (n *Notifier) deliver(note *pgconn.Notification) (heartbeat bool) {
	if note.Channel == n.beat {
		return note.Payload == n.nonce && !n.swallowBeats.Load()
	}
	n.cfg.Metrics.Received(note.Channel)
	n.mu.Lock()
	subs := n.topics[note.Channel] // never modified in place
	n.mu.Unlock()
	for _, s := range subs {
		if !s.gone.Load() {
			s.h.Notify(note.Payload)
		}
	}
	return false
}

// heartbeat NOTIFYs the private channel on the LISTEN connection itself, so receiving
// it proves that this connection still delivers.
func (n *Notifier) heartbeat(ctx context.Context, conn *pgx.Conn) error {
	hctx, cancel := context.WithTimeout(ctx, max(n.cfg.HeartbeatInterval, time.Second))
	defer cancel()
	if _, err := conn.Exec(hctx, "SELECT pg_notify($1, $2)", n.beat, n.nonce); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

func (n *Notifier) exec(ctx context.Context, conn *pgx.Conn, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := conn.Exec(ctx, sql)
	return err
}
