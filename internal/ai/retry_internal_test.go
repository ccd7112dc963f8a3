package ai

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryDelayParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"retry-after-ms wins", headerRetryAfter(h("Retry-After-Ms", "1500", "Retry-After", "9"), now), 1500 * time.Millisecond},
		{"retry-after seconds", headerRetryAfter(h("Retry-After", "32"), now), 32 * time.Second},
		{"retry-after date", headerRetryAfter(h("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), now), 90 * time.Second},
		{"retry-after in the past", headerRetryAfter(h("Retry-After", now.Add(-time.Minute).Format(http.TimeFormat)), now), 0},
		{"no headers", headerRetryAfter(h(), now), 0},
		{"openai message", messageRetryAfter("Limit 5, Used 5, Requested 1. Please try again in 12s. Visit …"), 12 * time.Second},
		{"openai message ms", messageRetryAfter("Please try again in 20ms."), 20 * time.Millisecond},
		{"openai message minutes", messageRetryAfter("Please try again in 6m0s."), 6 * time.Minute},
		{"gemini message", messageRetryAfter("Please retry in 22.990233s."), 22990233 * time.Microsecond},
		{"no delay in message", messageRetryAfter("You exceeded your current quota"), 0},
		{"openai exhausted tokens", openAIRetryAfter(h("X-Ratelimit-Remaining-Requests", "3", "X-Ratelimit-Reset-Requests", "1s",
			"X-Ratelimit-Remaining-Tokens", "0", "X-Ratelimit-Reset-Tokens", "6m0s"), "Rate limit reached", now), 6 * time.Minute},
		{"openai header before message", openAIRetryAfter(h("Retry-After", "3"), "Please try again in 12s.", now), 3 * time.Second},
		{"removebg reset epoch", removeBGRetryAfter(h("X-Ratelimit-Reset", "1795870840"), time.Unix(1795870800, 0)), 40 * time.Second},
		{"removebg retry-after", removeBGRetryAfter(h("Retry-After", "32", "X-Ratelimit-Reset", "1795870840"), time.Unix(1795870800, 0)), 32 * time.Second},
		{"proto duration", parseProtoDuration("22s"), 22 * time.Second},
		{"proto fraction", parseProtoDuration("0.5s"), 500 * time.Millisecond},
		{"proto garbage", parseProtoDuration("soon"), 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}
