package ai_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
)

// The queue maps classes to actions with these methods; the table is the
// contract.
func TestErrorQueueMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		class         ai.Class
		retryable     bool
		spendsAttempt bool
	}{
		{ai.RateLimited, true, false},
		{ai.Transient, true, true},
		{ai.Permanent, false, true},
		{ai.Auth, false, true},
	}
	for _, tt := range tests {
		e := &ai.Error{Class: tt.class, Provider: "openai", Message: "m"}
		if e.Retryable() != tt.retryable || e.SpendsAttempt() != tt.spendsAttempt {
			t.Errorf("%s: Retryable %v SpendsAttempt %v, want %v %v", tt.class, e.Retryable(), e.SpendsAttempt(),
				tt.retryable, tt.spendsAttempt)
		}
	}
}

func TestClassOfAndRetryAfterOfSeeThroughWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("render lifestyle: %w", &ai.Error{Class: ai.RateLimited, Provider: "gemini",
		Message: "gemini is rate limiting requests", RetryAfter: 22 * time.Second})
	if c, ok := ai.ClassOf(err); !ok || c != ai.RateLimited {
		t.Errorf("ClassOf = %s, %v", c, ok)
	}
	if d := ai.RetryAfterOf(err); d != 22*time.Second {
		t.Errorf("RetryAfterOf = %s", d)
	}
	if c, ok := ai.ClassOf(errors.New("boom")); ok || c != ai.Transient {
		t.Errorf("ClassOf(plain error) = %s, %v; want Transient, false", c, ok)
	}
	if d := ai.RetryAfterOf(errors.New("boom")); d != 0 {
		t.Errorf("RetryAfterOf(plain error) = %s", d)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	e := &ai.Error{Class: ai.RateLimited, Provider: "openai", Status: 429, Code: "rate_limit_exceeded",
		Message: "openai is rate limiting requests", RetryAfter: 12 * time.Second}
	want := "openai is rate limiting requests (openai, HTTP 429, rate_limit_exceeded, retry in 12s)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if ai.Permanent.String() != "permanent" || ai.Auth.String() != "auth" {
		t.Errorf("class names: %s %s", ai.Permanent, ai.Auth)
	}
}
