package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ListenerConfig configures a Listener. The zero value is usable.
type ListenerConfig struct {
	// HeartbeatInterval is how often the listener NOTIFYs itself to prove that its
	// connection still delivers; a heartbeat not received by the next one means the
	// connection is dead, and it is replaced. Defaults to 15 s.
	HeartbeatInterval time.Duration
	// ReconnectMin and ReconnectMax bound the backoff between reconnect attempts, which
	// doubles from ReconnectMin. Default to 100 ms and 5 s.
	ReconnectMin, ReconnectMax time.Duration
	// Logger receives connection failures. Defaults to discarding.
	Logger *slog.Logger
	// Metrics receives ListenerUp, Reconnects and DoorbellsReceived.
	Metrics *Metrics
}

// Receiver is what a Listener delivers to (the Hub).
type Receiver interface {
	// Receive handles the messages of one notification. It must not block.
	Receive(msgs []message)
	// Resync is called after the LISTEN connection was (re)established: everything sent
	// while it was down is lost, so the receiver re-reads the state it serves.
	Resync()
	// Disconnected is called when the LISTEN connection is lost.
	Disconnected()
}

// Listener holds one dedicated connection (not from the pool) that LISTENs on Channel.
type Listener struct {
	connString string
	recv       Receiver
	cfg        ListenerConfig
	nonce      string

	mu      sync.Mutex
	healthy error
	pid     uint32
}

// NewListener returns a Listener that connects with connString and delivers to recv. Call
// Run to start it.
func NewListener(connString string, recv Receiver, cfg ListenerConfig) *Listener {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 15 * time.Second
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = 100 * time.Millisecond
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Listener{
		connString: connString, recv: recv, cfg: cfg,
		nonce:   hex.EncodeToString(b),
		healthy: errors.New("realtime listener not connected yet"),
	}
}

// Healthy returns nil while the LISTEN connection is up, and otherwise why it is not.
// Readiness checks use it: an instance without it would serve stale states.
func (l *Listener) Healthy() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.healthy
}

// PID returns the server process id of the LISTEN connection, 0 while disconnected.
func (l *Listener) PID() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}

func (l *Listener) setState(pid uint32, err error) {
	l.mu.Lock()
	l.pid, l.healthy = pid, err
	l.mu.Unlock()
}

// Run keeps the LISTEN connection up until ctx is done, reconnecting with backoff. It
// returns nil.
func (l *Listener) Run(ctx context.Context) error {
	backoff := l.cfg.ReconnectMin
	first := true
	for ctx.Err() == nil {
		if !first {
			l.cfg.Metrics.reconnect()
		}
		connected, err := l.session(ctx)
		first = false
		if ctx.Err() != nil {
			break
		}
		l.setState(0, fmt.Errorf("realtime listener down: %w", err))
		l.cfg.Metrics.listenerUp(false)
		l.recv.Disconnected()
		l.cfg.Logger.Warn("realtime: listener connection lost", "err", err)
		if connected {
			backoff = l.cfg.ReconnectMin
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, l.cfg.ReconnectMax)
	}
	l.setState(0, errors.New("realtime listener stopped"))
	return nil
}

// session runs one connection: connect, LISTEN, resync, then receive until the
// connection fails or misses a heartbeat. connected reports whether LISTEN succeeded.
func (l *Listener) session(ctx context.Context) (connected bool, err error) {
	cfg, err := pgx.ParseConfig(l.connString)
	if err != nil {
		return false, fmt.Errorf("parse connection string: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "packshot-realtime-listener"
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(cctx)
		cancel()
	}()
	if err := l.exec(ctx, conn, "LISTEN "+Channel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	l.setState(conn.PgConn().PID(), nil)
	l.cfg.Metrics.listenerUp(true)
	// LISTEN is in place before the resync reads anything, so every change is either
	// read by the resync or notified afterwards.
	l.recv.Resync()

	outstanding := false // a heartbeat was sent and not yet received
	next := time.Now().Add(l.cfg.HeartbeatInterval)
	for {
		wctx, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			if l.deliver(n.Payload) {
				outstanding = false
			}
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return true, ctx.Err()
		case pgconnTimeout(err):
			if outstanding {
				return true, errors.New("heartbeat not received in time")
			}
			if err := l.heartbeat(ctx, conn); err != nil {
				return true, err
			}
			outstanding = true
			next = time.Now().Add(l.cfg.HeartbeatInterval)
		default:
			return true, fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// deliver hands one notification's messages to the receiver and reports whether it
// carried this listener's own heartbeat.
func (l *Listener) deliver(payload string) bool {
	msgs, err := decodePayload(payload)
	if err != nil {
		l.cfg.Logger.Warn("realtime: bad payload", "err", err)
		return false
	}
	msgs, beat := l.stripHeartbeats(msgs)
	if len(msgs) > 0 {
		l.cfg.Metrics.received(len(msgs))
		l.recv.Receive(msgs)
	}
	return beat
}

// stripHeartbeats removes heartbeats from msgs and reports whether one of them was this
// listener's own.
func (l *Listener) stripHeartbeats(msgs []message) ([]message, bool) {
	out := msgs[:0]
	own := false
	for _, m := range msgs {
		if m.Kind == kindHeartbeat {
			own = own || m.Nonce == l.nonce
			continue
		}
		out = append(out, m)
	}
	return out, own
}

// heartbeat NOTIFYs this listener's own nonce on its connection.
func (l *Listener) heartbeat(ctx context.Context, conn *pgx.Conn) error {
	payloads, err := encodePayloads([]message{{Kind: kindHeartbeat, Nonce: l.nonce}}, maxPayload)
	if err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, l.cfg.HeartbeatInterval)
	defer cancel()
	if _, err := conn.Exec(hctx, notifySQL, Channel, payloads); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

func (l *Listener) exec(ctx context.Context, conn *pgx.Conn, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := conn.Exec(ctx, sql)
	return err
}

// pgconnTimeout reports whether err is WaitForNotification's deadline passing, after
// which the connection is still usable.
func pgconnTimeout(err error) bool {
	return pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)
}
