// Package api is packshot's HTTP surface: the Echo server, its middleware, the tRPC
// procedures mounted on /trpc and /ws, the REST routes under /api, signed files, health and
// metrics, and the embedded web app. It holds no business logic: handlers validate, call
// internal packages, and map errors to the protocol's shape in one place.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/telemetry"
)

// Deps is everything the HTTP server needs. NewServer takes it whole so that tests can
// build a server from real parts without the command-line wiring.
type Deps struct {
	// Logger receives request and error logs. Required.
	Logger *slog.Logger
	// Store is the database. Required.
	Store db.Store
	// ReadyFunc reports whether the instance can serve traffic (database reachable,
	// migrations current, LISTEN connection up). Required.
	ReadyFunc func(ctx context.Context) error
	// Metrics is the Prometheus registry served on /metrics. Required.
	Metrics *telemetry.Metrics
}

// NewServer returns packshot's HTTP handler with every route of routes.go.
func NewServer(deps Deps) http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = problemErrorHandler(deps.Logger)
	e.Use(metricsMiddleware(deps.Metrics))
	addRoutes(e, deps)
	return e
}
