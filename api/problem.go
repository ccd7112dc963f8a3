package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
)

// problem is an RFC 9457 problem document, the shape of every REST error.
type problem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail"`
	Fields map[string]string `json:"fields,omitempty"`
}

// httpStatus maps an application error code to its HTTP status: the one place REST does it.
func httpStatus(code string) int {
	switch code {
	case apperr.EINVALID:
		return http.StatusBadRequest
	case apperr.ENOTFOUND:
		return http.StatusNotFound
	case apperr.ECONFLICT:
		return http.StatusConflict
	case apperr.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case apperr.EFORBIDDEN:
		return http.StatusForbidden
	case apperr.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case apperr.ERATELIMITED:
		return http.StatusTooManyRequests
	case apperr.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case apperr.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case apperr.ETIMEOUT:
		return http.StatusGatewayTimeout
	case apperr.EPRECONDITION:
		return http.StatusPreconditionFailed
	default:
		return http.StatusInternalServerError
	}
}

// problemErrorHandler writes every error that reaches Echo as problem JSON. Application
// errors keep their message; anything else is logged and answered generically.
func problemErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problem{Type: "about:blank"}
		var he *echo.HTTPError
		switch ae := apperr.As(err); {
		case ae != nil:
			p.Status, p.Detail, p.Fields = httpStatus(ae.Code), ae.Message, ae.Fields
			p.Type = "https://packshot.dev/problems/" + ae.Code
			if ae.RetryAfter > 0 {
				secs := int(ae.RetryAfter.Seconds() + 0.999)
				c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			}
			if ae.Code == apperr.EINTERNAL {
				logger.Error("request failed", "path", c.Path(), "err", err)
				p.Detail = "internal error"
			}
		case errors.As(err, &he):
			p.Status, p.Detail = he.Code, http.StatusText(he.Code)
			if msg, ok := he.Message.(string); ok {
				p.Detail = msg
			}
		default:
			logger.Error("request failed", "path", c.Path(), "err", err)
			p.Status, p.Detail = http.StatusInternalServerError, "internal error"
		}
		p.Title = http.StatusText(p.Status)
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		_ = c.JSON(p.Status, p)
	}
}
