package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/telemetry"
)

// methodLabel is the method as a metric label: a standard method by name, anything
// else a caller invented as OTHER (one series per invented method, forever, otherwise).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// metricsMiddleware counts every request by its route pattern (never the raw path, which
// would make one series per project id) and status.
func metricsMiddleware(m *telemetry.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // write the error now so its status is counted
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			req := c.Request()
			stream := req.Header.Get("Upgrade") != "" || strings.Contains(req.Header.Get("Accept"), "text/event-stream")
			m.ObserveHTTP(route, methodLabel(req.Method), strconv.Itoa(c.Response().Status), time.Since(start), stream)
			return nil
		}
	}
}
