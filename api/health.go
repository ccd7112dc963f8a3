package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// handleHealthz answers 200 while the process is up; it checks nothing else, so an
// orchestrator restarts the process only when it is truly stuck.
func handleHealthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReadyz answers 200 when the instance can serve (see Deps.ReadyFunc) and 503
// otherwise, so a load balancer sends traffic elsewhere. The 503 names the failed check
// with a fixed reason ("migrations pending", "not ready"); the error itself, which may
// hold database host names, user names or SQL, goes to the log only.
func handleReadyz(logger *slog.Logger, ready func(ctx context.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			logger.Warn("not ready", "err", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": readyReason(err)})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
}

// ErrMigrationsPending is the readiness error of an instance whose code is newer than the
// schema; /readyz names it ("migrations pending"), since the operator's fix is clear.
var ErrMigrationsPending = errors.New("database migrations pending: run `packshot migrate`")

// readyReason is the public text of a readiness failure.
func readyReason(err error) string {
	if errors.Is(err, ErrMigrationsPending) {
		return "migrations pending: run `packshot migrate`"
	}
	return "not ready (see the server log)"
}
