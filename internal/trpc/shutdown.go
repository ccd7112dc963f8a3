package trpc

import (
	"context"
	"time"

	"github.com/coder/websocket"
)

// Shutdown drains the router's long-lived connections. Call it alongside
// http.Server.Shutdown (which does not wait for hijacked WebSockets and
// would wait for SSE streams):
//
//	go srv.Shutdown(ctx) // stop accepting
//	router.Shutdown(ctx)
//
// New WebSocket requests get SERVICE_UNAVAILABLE (wsLink retries with
// back-off). SSE streams end at once without a "return" event, so EventSource
// reconnects and resumes from Last-Event-ID; an SSE request that reaches the
// router while it drains gets an event stream that asks to retry and ends at
// once (see writeSSEDrain), never an error status, which EventSource would
// treat as final. Every WebSocket gets {"id":null,"method":"reconnect"} and
// keeps serving, calls sent after the notice included, until its client
// closes it (a v11 client opens a new socket, resubscribes with lastEventId,
// then closes the old one once the calls it sent there are answered) or ctx
// is done, when the remaining sockets are closed without telling their
// subscriptions "stopped", so those clients resubscribe as well. It returns
// ctx.Err() if clients were still connected when ctx ended.
func (r *Router) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	conns := make([]*wsConn, 0, len(r.wsConns))
	for c := range r.wsConns {
		conns = append(conns, c)
	}
	for st := range r.streams {
		st.cancel()
	}
	r.mu.Unlock()
	streamsDone := make(chan struct{})
	go func() {
		r.streamWG.Wait()
		close(streamsDone)
	}()

	for _, c := range conns {
		c.send([]byte(`{"id":null,"method":"reconnect"}`))
	}
	for _, c := range conns {
		select {
		case <-c.ctx.Done():
		case <-ctx.Done():
			c.stopAll()
			closed := make(chan struct{})
			go func() {
				_ = c.ws.Close(websocket.StatusGoingAway, "server shutting down")
				close(closed)
			}()
			select {
			case <-closed:
			case <-time.After(time.Second):
				_ = c.ws.CloseNow()
			}
			c.cancel()
		}
	}
	select {
	case <-streamsDone:
	case <-ctx.Done():
	}
	return ctx.Err()
}
