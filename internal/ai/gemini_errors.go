package ai

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// geminiErrorBody is the Google API error shape
// {"error":{"code","message","status","details"}}.
type geminiErrorBody struct {
	Error *struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Status  string            `json:"status"`
		Details []geminiErrDetail `json:"details"`
	} `json:"error"`
}

// geminiErrDetail holds the fields packshot reads from google.rpc.ErrorInfo
// (reason) and google.rpc.RetryInfo (retryDelay).
type geminiErrDetail struct {
	Type            string `json:"@type"`
	Reason          string `json:"reason"`
	RetryDelay      string `json:"retryDelay"`
	RetryDelaySnake string `json:"retry_delay"`
}

// classify turns a Gemini error answer into an *Error. An invalid key is a
// 400 INVALID_ARGUMENT with reason API_KEY_INVALID, so the reason is checked
// before the status.
func (c *Gemini) classify(r *response) *Error {
	var body geminiErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error == nil {
		return c.t.unparsedError(r, "")
	}
	ge := body.Error
	msg := c.t.providerMessage(ge.Message)
	e := &Error{Provider: ProviderGemini, Status: r.status, Code: ge.Status}
	var reason string
	var retry time.Duration
	for _, d := range ge.Details {
		if d.Reason != "" && reason == "" {
			reason = d.Reason
		}
		if s := orDefault(d.RetryDelay, d.RetryDelaySnake); s != "" {
			retry = parseProtoDuration(s)
		}
	}
	if reason != "" {
		e.Code = reason
	}
	switch {
	case reason == "API_KEY_INVALID" || reason == "API_KEY_EXPIRED" ||
		strings.Contains(ge.Message, "API key not valid") || strings.Contains(ge.Message, "API key expired"):
		e.Class, e.Message = Auth, "gemini rejected the API key: "+msg
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden || ge.Status == "PERMISSION_DENIED" ||
		ge.Status == "UNAUTHENTICATED":
		e.Class, e.Message = Auth, "the gemini key may not use this model: "+msg
	case r.status == http.StatusTooManyRequests || ge.Status == "RESOURCE_EXHAUSTED":
		e.Class, e.Message = RateLimited, "gemini is rate limiting requests: "+msg
		if retry <= 0 {
			retry = messageRetryAfter(ge.Message)
		}
		if retry <= 0 {
			retry = headerRetryAfter(r.header, time.Now())
		}
		e.RetryAfter = orDefault(retry, DefaultRetryAfter)
	case r.status >= 500 || r.status == http.StatusRequestTimeout:
		e.Class, e.Message = Transient, "gemini had a temporary problem: "+msg
	default:
		e.Class, e.Message = Permanent, "gemini refused the request: "+msg
	}
	return e
}

// parseProtoDuration parses a google.protobuf.Duration in JSON form
// ("22s", "22.990s"); it returns 0 when s is not one.
func parseProtoDuration(s string) time.Duration {
	v, ok := strings.CutSuffix(strings.TrimSpace(s), "s")
	if !ok {
		return 0
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}
