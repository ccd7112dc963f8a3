package aitest

import (
	"fmt"
	"net/http"
	"time"
)

// OpenAIRateLimited is a 429 for images per minute, with the message's
// "Please try again in …" and the x-ratelimit headers showing the request
// budget exhausted until retryIn. Like the real API it sends no
// Retry-After; add one with WithHeader to test that path.
func OpenAIRateLimited(retryIn time.Duration) Response {
	msg := fmt.Sprintf("Rate limit reached for gpt-image-1 in organization org-aitest on images per min (IPM): "+
		"Limit 5, Used 5, Requested 1. Please try again in %s. Visit https://platform.openai.com/account/rate-limits "+
		"to learn more.", retryIn)
	return Response{
		Status: http.StatusTooManyRequests,
		Body:   openAIErrorBody(msg, "requests", "", "rate_limit_exceeded"),
		Header: http.Header{
			"X-Ratelimit-Limit-Requests":     {"5"},
			"X-Ratelimit-Remaining-Requests": {"0"},
			"X-Ratelimit-Reset-Requests":     {retryIn.String()},
			"X-Should-Retry":                 {"true"},
		},
	}
}

// OpenAIQuotaExceeded is the 429 for an account out of credit, which must
// not be retried.
func OpenAIQuotaExceeded() Response {
	return Response{Status: http.StatusTooManyRequests, Body: openAIErrorBody("You exceeded your current quota, "+
		"please check your plan and billing details. For more information on this error, read the docs: "+
		"https://platform.openai.com/docs/guides/error-codes/api-errors.", "insufficient_quota", "", "insufficient_quota")}
}

// OpenAIModerationBlocked is the 400 a GPT image model answers when its
// safety system rejects the request.
func OpenAIModerationBlocked() Response {
	return Response{Status: http.StatusBadRequest, Header: http.Header{"X-Should-Retry": {"false"}},
		Body: openAIErrorBody("Your request was rejected by the safety system. If you believe this is an error, "+
			"contact us at help.openai.com and include the request ID req_aitest. safety_violations=[violence].",
			"image_generation_user_error", "", "moderation_blocked")}
}

// OpenAIContentPolicyViolation is the legacy (dall-e) safety rejection.
func OpenAIContentPolicyViolation() Response {
	return Response{Status: http.StatusBadRequest, Body: openAIErrorBody("Your request was rejected as a result "+
		"of our safety system. Your prompt may contain text that is not allowed by our safety system.",
		"invalid_request_error", "", "content_policy_violation")}
}

// OpenAIInvalidValue is the 400 for a field with a value the model does not
// take.
func OpenAIInvalidValue() Response {
	return Response{Status: http.StatusBadRequest, Body: openAIErrorBody("Invalid value: 'standard'. Supported "+
		"values are: 'low', 'medium', 'high', and 'auto'.", "invalid_request_error", "quality", "invalid_value")}
}

// OpenAIInvalidKey is the 401 for a wrong key (the fake also sends it on
// its own when the key does not match).
func OpenAIInvalidKey() Response {
	return Response{Status: http.StatusUnauthorized, Body: openAIErrorBody("Incorrect API key provided: "+
		maskKey(OpenAIKey)+". You can find your API key at https://platform.openai.com/account/api-keys.",
		"invalid_request_error", "", "invalid_api_key")}
}

// OpenAIServerError is the 500 "The server had an error".
func OpenAIServerError() Response {
	return Response{Status: http.StatusInternalServerError, Body: openAIErrorBody("The server had an error while "+
		"processing your request. Sorry about that!", "server_error", "", "")}
}

// OpenAIOverloaded is the 503 "The engine is currently overloaded".
func OpenAIOverloaded() Response {
	return Response{Status: http.StatusServiceUnavailable, Body: openAIErrorBody("The engine is currently "+
		"overloaded, please try again later.", "server_error", "", "")}
}

// OpenAIError is any OpenAI error answer: status with the ErrorResponse
// body {"error":{"message","type","param":null,"code"}} (code null when
// empty).
func OpenAIError(status int, message, typ, code string) Response {
	return Response{Status: status, Body: openAIErrorBody(message, typ, "", code)}
}
