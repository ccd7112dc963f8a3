package api

import (
	"github.com/labstack/echo/v4"
)

// addRoutes is the one place every route is registered.
func addRoutes(e *echo.Echo, deps Deps) {
	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(deps.ReadyFunc))
	e.GET("/metrics", echo.WrapHandler(deps.Metrics.Handler()))
}
