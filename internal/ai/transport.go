package ai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes bounds how much of an answer is read. A 4K PNG in base64
// is about 40 MB; nothing legitimate comes near this.
const maxResponseBytes = 128 << 20

// transport is what the three clients share: sending one request with the
// per-call timeout, reading the answer, turning network failures into
// *Error, redacting the key and logging.
type transport struct {
	provider string
	key      string
	client   *http.Client
	timeout  time.Duration
	logger   *slog.Logger
}

func newTransport(provider, key string, cfg Config) transport {
	return transport{
		provider: provider,
		key:      key,
		client:   orDefault(cfg.HTTPClient, http.DefaultClient),
		timeout:  orDefault(cfg.Timeout, DefaultTimeout),
		logger:   cfg.Logger,
	}
}

// response is a fully read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends the request built by newReq under the per-call timeout and reads
// the whole answer. Any status is returned as a response; only failures to
// get one are errors, already classified as Transient *Error.
func (t *transport) do(ctx context.Context, newReq func(ctx context.Context) (*http.Request, error)) (*response, error) {
	callCtx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := newReq(callCtx)
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", t.provider, err)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, t.transportError(ctx, callCtx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, t.transportError(ctx, callCtx, err)
	}
	if len(body) > maxResponseBytes {
		return nil, &Error{Class: Transient, Provider: t.provider, Status: resp.StatusCode, Code: "response_too_large",
			Message: fmt.Sprintf("%s sent an answer larger than %d MB", t.provider, maxResponseBytes>>20)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// transportError classifies a failure to get an answer: the caller gave up
// (cancelled), our timeout fired, or the network failed. All are Transient.
func (t *transport) transportError(ctx, callCtx context.Context, err error) *Error {
	e := &Error{Class: Transient, Provider: t.provider}
	switch {
	case ctx.Err() != nil:
		e.Code, e.Err = "canceled", ctx.Err()
		e.Message = fmt.Sprintf("the call to %s was cancelled before it answered", t.provider)
	case errors.Is(callCtx.Err(), context.DeadlineExceeded):
		e.Code, e.Err = "timeout", context.DeadlineExceeded
		e.Message = fmt.Sprintf("%s did not answer within %s", t.provider, t.timeout)
	default:
		e.Code = "connection"
		e.Err = errors.New(t.redact(err.Error()))
		e.Message = fmt.Sprintf("could not reach %s: %s", t.provider, t.redact(err.Error()))
	}
	return e
}

// maskedKey matches OpenAI's echo of a key ("sk-te***cdef") and whole keys.
var maskedKey = regexp.MustCompile(`\bsk-[A-Za-z0-9_*\-]{3,}`)

// redact removes the key, and anything that looks like part of one, from s.
func (t *transport) redact(s string) string {
	if t.key != "" {
		s = strings.ReplaceAll(s, t.key, "[redacted]")
	}
	return maskedKey.ReplaceAllString(s, "[redacted]")
}

// providerMessage makes a provider's own error text safe to show: key
// removed, whitespace collapsed, cut to a readable length.
func (t *transport) providerMessage(s string) string {
	s = strings.Join(strings.Fields(t.redact(s)), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// log writes one line per call when a logger is configured.
func (t *transport) log(ctx context.Context, model string, started time.Time, res *Result, err error) {
	if t.logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("provider", t.provider),
		slog.String("model", model),
		slog.Duration("duration", time.Since(started)),
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			attrs = append(attrs, slog.Int("status", e.Status), slog.String("request_id", e.RequestID),
				slog.String("class", e.Class.String()), slog.String("code", e.Code))
		}
		attrs = append(attrs, slog.String("error", t.redact(err.Error())))
		t.logger.LogAttrs(ctx, slog.LevelWarn, "ai call failed", attrs...)
		return
	}
	attrs = append(attrs, slog.String("request_id", res.RequestID), slog.Float64("cost_usd", res.CostUSD),
		slog.Int64("total_tokens", res.Usage.TotalTokens), slog.Float64("credits", res.Usage.Credits))
	t.logger.LogAttrs(ctx, slog.LevelInfo, "ai call", attrs...)
}

// looksLikeHTML reports whether an error body is an HTML page (a proxy's or
// load balancer's error page) rather than the provider's JSON.
func looksLikeHTML(r *response) bool {
	if strings.Contains(r.header.Get("Content-Type"), "text/html") {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(r.body[:min(len(r.body), 256)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// unparsedError classifies an error answer whose body is not the provider's
// JSON error shape (an HTML page, an empty body): 401 and 403 are still Auth,
// 429 is RateLimited, everything else is Transient — an HTML page comes from
// something in front of the provider, not from the provider judging the
// request.
func (t *transport) unparsedError(r *response, requestID string) *Error {
	e := &Error{Provider: t.provider, Status: r.status, RequestID: requestID}
	switch {
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		e.Class, e.Message = Auth, fmt.Sprintf("%s refused the API key", t.provider)
	case r.status == http.StatusTooManyRequests:
		e.Class, e.Message = RateLimited, fmt.Sprintf("%s is rate limiting requests", t.provider)
		e.RetryAfter = orDefault(headerRetryAfter(r.header, time.Now()), DefaultRetryAfter)
	default:
		e.Class = Transient
		what := "an unreadable error"
		if looksLikeHTML(r) {
			what = "an HTML error page"
		}
		e.Message = fmt.Sprintf("%s answered with %s (%s)", t.provider, what, http.StatusText(r.status))
		if r.status < 400 {
			e.Message = fmt.Sprintf("%s answered with %s instead of an image", t.provider, what)
		}
	}
	return e
}

// headerRetryAfter reads the standard retry headers: Retry-After-Ms
// (milliseconds, sent by OpenAI), then Retry-After (seconds or an HTTP date).
// It returns 0 when neither is usable.
func headerRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		if at, err := http.ParseTime(v); err == nil && at.After(now) {
			return at.Sub(now)
		}
	}
	return 0
}

// tryAgainIn finds "try again in 12s" / "retry in 22.99s" / "try again in
// 6m0s" in a provider's message.
var tryAgainIn = regexp.MustCompile(`(?i)(?:try again|retry) in ((?:[0-9]+(?:\.[0-9]+)?(?:ms|h|m|s))+)`)

// messageRetryAfter returns the delay a message asks for, or 0.
func messageRetryAfter(msg string) time.Duration {
	m := tryAgainIn.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	d, err := time.ParseDuration(m[1])
	if err != nil || d <= 0 {
		return 0
	}
	return d
}
