package realtime_test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/realtime"
)

// freezingProxy forwards TCP connections to a server until freeze, after which the
// connections it had stop carrying bytes without closing: a half-open connection, as a
// dead network path or a frozen server looks to a client.
type freezingProxy struct {
	ln      net.Listener
	network string // of the target: "tcp", or "unix" for a cluster's socket
	target  string

	mu   sync.Mutex
	live chan struct{} // closed when the connections made so far freeze
}

func newFreezingProxy(t *testing.T, network, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln, network: network, target: target, live: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *freezingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial(p.network, p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		stop := p.live
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				select {
				case <-stop:
					<-make(chan struct{}) // frozen: hold the connection open, forward nothing
				default:
				}
				if n > 0 {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					if err != io.EOF {
						dst.Close()
					}
					return
				}
			}
		}
		go pipe(s, c)
		go pipe(c, s)
	}
}

// freeze stops every connection made so far; later ones work.
func (p *freezingProxy) freeze() {
	p.mu.Lock()
	close(p.live)
	p.live = make(chan struct{})
	p.mu.Unlock()
}

func TestWatchdogReplacesSilentConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	// The server is reached over TCP (PACKSHOT_TEST_DATABASE_URL) or, for the throwaway
	// cluster, over the Unix socket named by the host parameter; either way the listener
	// must go through the proxy, over TCP.
	network, target := "tcp", u.Host
	q := u.Query()
	if dir := q.Get("host"); strings.HasPrefix(dir, "/") {
		port := q.Get("port")
		if port == "" {
			port = "5432"
		}
		network, target = "unix", dir+"/.s.PGSQL."+port
		q.Del("host")
		q.Del("port")
		u.RawQuery = q.Encode()
	}
	proxy := newFreezingProxy(t, network, target)
	u.Host = proxy.ln.Addr().String()
	viaProxy, err := pgxpool.New(b.ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(viaProxy.Close)

	a := b.instance(t, viaProxy, notifier.Config{
		HeartbeatInterval: 50 * time.Millisecond,
		ReconnectMin:      10 * time.Millisecond,
	}, realtime.Config{})
	other := b.broker(t, realtime.Config{})
	id := b.create(t, "alice")
	sub := a.SubscribeProject(id)
	defer sub.Close()
	next(t, b.ctx, sub)

	// The notifier's connection goes silent; a change made meanwhile is never delivered
	// on it. The missed heartbeat gets the connection replaced, and the resync brings
	// the change.
	proxy.freeze()
	v := b.change(t, other, id, "alice")
	select {
	case <-a.downs:
	case <-b.ctx.Done():
		t.Fatal("the watchdog never noticed the silent connection")
	}
	waitVersion(t, b.ctx, sub, v)
}
