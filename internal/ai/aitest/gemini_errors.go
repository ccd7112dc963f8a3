package aitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// GeminiRateLimited is the 429 RESOURCE_EXHAUSTED answer, with the delay
// in a google.rpc.RetryInfo detail (retryDelay) and in the message, as the
// real API sends it: no Retry-After header.
func GeminiRateLimited(retryIn time.Duration) Response {
	secs := strconv.FormatFloat(retryIn.Seconds(), 'f', -1, 64)
	msg := "You exceeded your current quota, please check your plan and billing details. For more information " +
		"on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, " +
		"head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/" +
		"generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash-image\nPlease retry in " + secs + "s."
	details := []any{
		map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
			"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
			"quotaId":     "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
			"quotaDimensions": map[string]string{
				"location": "global", "model": "gemini-2.5-flash-image",
			},
			"quotaValue": "10",
		}}},
		map[string]any{"@type": "type.googleapis.com/google.rpc.Help", "links": []any{map[string]string{
			"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
		}}},
		map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": secs + "s"},
	}
	return Response{Status: http.StatusTooManyRequests, Body: geminiErrorBody(http.StatusTooManyRequests,
		"RESOURCE_EXHAUSTED", msg, details)}
}

// GeminiInvalidKey is the 400 INVALID_ARGUMENT / API_KEY_INVALID answer
// (the fake also sends it on its own when the key does not match).
func GeminiInvalidKey() Response {
	return Response{Status: http.StatusBadRequest, Body: geminiErrorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
		"API key not valid. Please pass a valid API key.", []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
			"domain": "googleapis.com", "metadata": map[string]string{"service": "generativelanguage.googleapis.com"},
		}})}
}

// GeminiPermissionDenied is the 403 PERMISSION_DENIED answer.
func GeminiPermissionDenied() Response {
	return Response{Status: http.StatusForbidden, Body: geminiErrorBody(http.StatusForbidden, "PERMISSION_DENIED",
		"Permission denied: Consumer does not have access to this model.", nil)}
}

// GeminiFailedPrecondition is the 400 FAILED_PRECONDITION answer for a
// region without the free tier.
func GeminiFailedPrecondition() Response {
	return Response{Status: http.StatusBadRequest, Body: geminiErrorBody(http.StatusBadRequest, "FAILED_PRECONDITION",
		"User location is not supported for the API use without a billing account linked.", nil)}
}

// GeminiServerError is a 500 INTERNAL, 503 UNAVAILABLE or 504
// DEADLINE_EXCEEDED answer, by status.
func GeminiServerError(status int) Response {
	rpc, msg := "INTERNAL", "An internal error has occurred. Please retry or report in "+
		"https://developers.generativeai.google/guide/troubleshooting"
	switch status {
	case http.StatusServiceUnavailable:
		rpc, msg = "UNAVAILABLE", "The model is overloaded. Please try again later."
	case http.StatusGatewayTimeout:
		rpc, msg = "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."
	}
	return Response{Status: status, Body: geminiErrorBody(status, rpc, msg, nil)}
}

// GeminiPromptBlocked is the HTTP 200 answer for a blocked prompt: no
// candidates, promptFeedback.blockReason set (e.g. "PROHIBITED_CONTENT",
// "SAFETY", "IMAGE_SAFETY").
func GeminiPromptBlocked(reason string) Response {
	return geminiOK(map[string]any{
		"promptFeedback": map[string]any{"blockReason": reason},
		"usageMetadata":  map[string]any{"promptTokenCount": 570, "totalTokenCount": 570},
		"modelVersion":   "gemini-2.5-flash-image",
	})
}

// GeminiImageBlocked is the HTTP 200 answer for a withheld output: a
// candidate with no parts and an image finishReason (e.g. "IMAGE_SAFETY",
// "IMAGE_PROHIBITED_CONTENT", "NO_IMAGE").
func GeminiImageBlocked(finishReason string) Response {
	return geminiOK(map[string]any{
		"candidates": []any{map[string]any{
			"content":       map[string]any{"role": "model"},
			"finishReason":  finishReason,
			"finishMessage": fmt.Sprintf("The model output could not be generated (%s). Try rephrasing the prompt.", finishReason),
			"index":         0,
		}},
		"usageMetadata": map[string]any{"promptTokenCount": 570, "totalTokenCount": 570},
		"modelVersion":  "gemini-2.5-flash-image",
	})
}

// GeminiTextOnly is an HTTP 200 answer with finishReason STOP and text but
// no image, which a caller must treat as a failure.
func GeminiTextOnly(text string) Response {
	return geminiOK(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": []any{map[string]any{"text": text}}},
			"finishReason": "STOP",
			"index":        0,
		}},
		"usageMetadata": map[string]any{"promptTokenCount": 570, "candidatesTokenCount": 12, "totalTokenCount": 582},
		"modelVersion":  "gemini-2.5-flash-image",
	})
}

func geminiOK(v map[string]any) Response {
	v["responseId"] = randomHex(12)
	b, _ := json.Marshal(v)
	return Response{Status: http.StatusOK, Body: b}
}

// GeminiError is any Google API error answer: status with the body
// {"error":{"code":status,"message","status":rpcStatus}}.
func GeminiError(status int, rpcStatus, message string) Response {
	return Response{Status: status, Body: geminiErrorBody(status, rpcStatus, message, nil)}
}
