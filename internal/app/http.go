package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/config"
)

// HTTPServer serves the API on the configured address as a lifecycle component.
type HTTPServer struct {
	addr    string
	handler *api.Server
	srv     *http.Server
	logger  *slog.Logger
	ln      net.Listener
	served  chan error
}

// NewHTTPServer returns the API server for cfg. ReadTimeout bounds reading a request and
// its body (a slow sender is cut off; uploads get their own deadline). It does not cut SSE
// streams or WebSockets: net/http clears the read deadline once the body is read and on
// Hijack. No WriteTimeout: it would end every stream.
func NewHTTPServer(cfg config.Config, handler *api.Server, logger *slog.Logger) *HTTPServer {
	return &HTTPServer{
		addr:    cfg.Addr,
		handler: handler,
		logger:  logger,
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: headerTimeout(cfg.ReadTimeout),
			ReadTimeout:       cfg.ReadTimeout,
			IdleTimeout:       cfg.IdleTimeout,
		},
	}
}

// Start listens on the address and serves in the background.
func (s *HTTPServer) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	s.ln, s.served = ln, make(chan error, 1)
	go func() { s.served <- s.srv.Serve(ln) }()
	return nil
}

// Addr returns the address the server listens on (with the port the system chose for
// ":0"); empty before Start.
func (s *HTTPServer) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Failed is closed (with the error) when serving stops on its own, not by Stop.
func (s *HTTPServer) Failed() <-chan error { return s.served }

// Stop stops accepting, tells WebSocket clients to reconnect and ends SSE streams, and
// waits for requests to finish within ctx.
func (s *HTTPServer) Stop(ctx context.Context) error {
	drained := make(chan struct{})
	// WebSockets are hijacked: srv.Shutdown does not wait for them. Returning before they
	// have moved (or ctx ends) would cut them off instead of telling them to reconnect.
	go func() { defer close(drained); _ = s.handler.Shutdown(ctx) }()
	err := s.srv.Shutdown(ctx)
	<-drained
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // the grace is over: what is left is cut off, as intended
	}
	return err
}

// headerTimeout is how long a client may take to send a request's headers: 10 s, or the
// read timeout when that is shorter.
func headerTimeout(read time.Duration) time.Duration {
	if read > 0 && read < 10*time.Second {
		return read
	}
	return 10 * time.Second
}

// OpsServer serves an operations handler (health, metrics) on its own address.
type OpsServer struct {
	addr   string
	srv    *http.Server
	logger *slog.Logger
}

// NewOpsServer returns an operations server for h on addr.
func NewOpsServer(addr string, h http.Handler, logger *slog.Logger) *OpsServer {
	return &OpsServer{addr: addr, logger: logger, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
}

// Start listens and serves in the background.
func (s *OpsServer) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	go func() { _ = s.srv.Serve(ln) }()
	s.logger.Info("ops endpoints listening", "addr", ln.Addr().String())
	return nil
}

// Stop closes the server: its requests are short, nothing to drain.
func (s *OpsServer) Stop(context.Context) error { return s.srv.Close() }
