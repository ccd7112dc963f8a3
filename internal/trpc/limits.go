package trpc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limit names one of the router's resource limits. A refusal's message names it and
// Config.LimitRefusedFunc receives it, so metric labels come only from these constants.
type Limit string

// The limits the router enforces on long-lived connections.
const (
	// LimitAuthTimeout: a WebSocket opened with connectionParams=1 did not send its
	// connectionParams message within Config.AuthTimeout.
	LimitAuthTimeout Limit = "ws_auth_timeout"
	// LimitConnsPerIP: Config.MaxConnsPerIP WebSocket and SSE connections are already
	// open from the caller's address.
	LimitConnsPerIP Limit = "conns_per_ip"
	// LimitConnsPerUser: Config.MaxConnsPerUser WebSocket and SSE connections are already
	// open for the caller's user.
	LimitConnsPerUser Limit = "conns_per_user"
	// LimitCallsInFlight: Config.MaxCallsInFlight queries and mutations are already
	// running on the WebSocket.
	LimitCallsInFlight Limit = "ws_calls_in_flight"
	// LimitSubscriptions: Config.MaxSubscriptions subscriptions are already open on the
	// WebSocket.
	LimitSubscriptions Limit = "ws_subscriptions"
	// LimitMessageBytes: a WebSocket message was larger than Config.MaxBodyBytes.
	LimitMessageBytes Limit = "ws_message_bytes"
	// LimitUnauthenticated: a WebSocket's authentication failed (no credentials, a bad or
	// expired token) and the router has no public procedure it could call, so it is
	// closed at once instead of being held.
	LimitUnauthenticated Limit = "ws_unauthenticated"
	// LimitConnsTotal: Config.MaxConns WebSocket and SSE connections are already open on
	// the router.
	LimitConnsTotal Limit = "conns_total"
)

// defaultAuthTimeout is Config.AuthTimeout's default.
const defaultAuthTimeout = 10 * time.Second

// Session is what the connection limits need to know of an authenticated caller.
type Session struct {
	// User identifies the caller for Config.MaxConnsPerUser; empty counts no user.
	User string
	// Expires is when the caller's credentials stop being valid; a WebSocket then
	// refuses new calls and asks its client to reconnect. Zero means never.
	Expires time.Time
}

// refuse counts a refusal by limit and returns the error the caller sees: code, a
// message naming the limit and its value.
func (r *Router) refuse(limit Limit, code Code, format string, args ...any) *Error {
	if r.cfg.LimitRefusedFunc != nil {
		r.cfg.LimitRefusedFunc(limit)
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...) + " (limit " + string(limit) + ")"}
}

func (r *Router) authTimeout() time.Duration {
	if r.cfg.AuthTimeout > 0 {
		return r.cfg.AuthTimeout
	}
	return defaultAuthTimeout
}

// clientIP returns the address per-IP caps count: Config.ClientIPFunc's answer, else the
// TCP peer; an IPv6 address stands for its Config.IPv6PrefixBits prefix.
func (r *Router) clientIP(req *http.Request) string {
	if r.cfg.ClientIPFunc != nil {
		if ip := r.cfg.ClientIPFunc(req); ip != "" {
			return r.ipKey(ip)
		}
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return r.ipKey(req.RemoteAddr)
	}
	return r.ipKey(host)
}

// ipKey is the key an address is counted under: an IPv4 address (also IPv4-mapped IPv6)
// as itself, an IPv6 address as its prefix of Config.IPv6PrefixBits bits; a string that
// is no address as itself.
func (r *Router) ipKey(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	a = a.Unmap()
	if !a.Is6() {
		return a.String()
	}
	bits := r.cfg.IPv6PrefixBits
	if bits <= 0 || bits > 128 {
		bits = 64
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// sessionOf returns the session of an authentication that has run; the zero Session when
// it failed or the router has no SessionFunc.
func (r *Router) sessionOf(a *authState) Session {
	if r.cfg.SessionFunc == nil || a.err != nil || a.ctx == nil {
		return Session{}
	}
	return r.cfg.SessionFunc(a.ctx)
}

// authenticate runs the connection's AuthFunc now (it runs once per connection) and
// returns the session, turning a panic in AuthFunc or SessionFunc into an error.
func (r *Router) authenticate(ctx context.Context, a *authState) (s Session, te *Error) {
	defer func() {
		if v := recover(); v != nil {
			te = r.recovered("(authentication)", v)
		}
	}()
	r.contextFor(ctx, a, sessionProbe)
	return r.sessionOf(a), nil
}

// refuseUnauthenticated returns the UNAUTHORIZED refusal of a connection whose
// authentication (run already) failed, when the router has no public procedure; nil when
// the connection may be used.
func (r *Router) refuseUnauthenticated(ctx context.Context, a *authState) *Error {
	if r.cfg.AuthFunc == nil || a.err == nil || r.hasPublic() {
		return nil
	}
	_, te := r.contextFor(ctx, a, &procedure{})
	if te == nil {
		return nil
	}
	if r.cfg.LimitRefusedFunc != nil {
		r.cfg.LimitRefusedFunc(LimitUnauthenticated)
	}
	return &Error{Code: te.Code, Message: te.message() + " (limit " + string(LimitUnauthenticated) + ")", Err: te.Err}
}

// hasPublic reports whether any procedure runs without authentication.
func (r *Router) hasPublic() bool {
	for _, p := range r.procs {
		if p.public {
			return true
		}
	}
	return false
}

// sessionProbe stands for "any public procedure": contextFor with it runs AuthFunc
// without refusing.
var sessionProbe = &procedure{path: "", public: true}

// recovered logs a panic in caller work and returns the INTERNAL_SERVER_ERROR the caller
// sees instead.
func (r *Router) recovered(path string, v any) *Error {
	if r.cfg.Logger != nil {
		r.cfg.Logger.Error("trpc: panic recovered", "path", path, "panic", fmt.Sprint(v))
	}
	return &Error{Code: CodeInternalServerError, Message: "Internal server error", Err: fmt.Errorf("panic: %v", v)}
}

// connCounter counts the open WebSocket and SSE connections per client address and per
// user. The zero value is ready.
type connCounter struct {
	mu     sync.Mutex
	byIP   map[string]int
	byUser map[string]int
	total  map[string]int // one key: every connection
}

// acquire takes one of max slots of key in m (created on demand); false when all are
// taken. max <= 0 means no limit.
func (c *connCounter) acquire(m *map[string]int, key string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[string]int{}
	}
	if max > 0 && (*m)[key] >= max {
		return false
	}
	(*m)[key]++
	return true
}

func (c *connCounter) release(m *map[string]int, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if (*m)[key] <= 1 {
		delete(*m, key)
	} else {
		(*m)[key]--
	}
}

// acquireIP takes a connection slot for the request's client address, or returns the
// refusal; release is called when the connection closes.
// The router's overall cap (Config.MaxConns) is taken here too.
func (r *Router) acquireIP(req *http.Request) (release func(), te *Error) {
	if !r.conns.acquire(&r.conns.total, "", r.cfg.MaxConns) {
		return nil, r.refuse(LimitConnsTotal, CodeServiceUnavailable,
			"Too many connections on this server: %d are open", r.cfg.MaxConns)
	}
	ip := r.clientIP(req)
	if !r.conns.acquire(&r.conns.byIP, ip, r.cfg.MaxConnsPerIP) {
		r.conns.release(&r.conns.total, "")
		return nil, r.refuse(LimitConnsPerIP, CodeTooManyRequests,
			"Too many connections from this address: %d are open", r.cfg.MaxConnsPerIP)
	}
	return func() {
		r.conns.release(&r.conns.byIP, ip)
		r.conns.release(&r.conns.total, "")
	}, nil
}

// acquireUser takes a connection slot for the session's user (none when it has no user),
// or returns the refusal; release is called when the connection closes.
func (r *Router) acquireUser(s Session) (release func(), te *Error) {
	if s.User == "" {
		return func() {}, nil
	}
	if !r.conns.acquire(&r.conns.byUser, s.User, r.cfg.MaxConnsPerUser) {
		return nil, r.refuse(LimitConnsPerUser, CodeTooManyRequests,
			"Too many connections for this user: %d are open", r.cfg.MaxConnsPerUser)
	}
	return func() { r.conns.release(&r.conns.byUser, s.User) }, nil
}

// expired reports whether s's credentials have run out.
func (s Session) expired(now time.Time) bool {
	return !s.Expires.IsZero() && !now.Before(s.Expires)
}
