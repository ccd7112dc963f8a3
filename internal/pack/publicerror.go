package pack

import (
	"regexp"
	"strings"
)

// A job's last_error is whatever its last failure said, and some failures are the
// server's business: a database error names tables and hosts, a storage error a path on
// disk, a panic a stack. Users see PublicError's text instead; the operator (the
// service role) sees last_error itself, and the server log has it too.
//
// The rule is a whitelist. A failure meant for the user ends with a parenthesised source:
// "(packshot)" for packshot's own (errPermanent), or the AI service's
// "(openai, HTTP 400, moderation_blocked)" (ai.Error's format, whose message never holds
// a key). Anything else is replaced by a fixed sentence for its kind.

// userMessage matches a failure written for users, and captures who wrote it.
var userMessage = regexp.MustCompile(`\((packshot|openai|gemini|removebg)(, [^()]*)?\)$`)

// The fixed sentences users see for failures not written for them.
const (
	publicTimedOut = "Making this image took too long and was stopped. Retry it."
	publicWorker   = "The worker making this image stopped. Retry it."
	publicInternal = "Something went wrong on the server while making this image. Retry it; if it fails again, the operator can see the details in the server log."
)

// PublicError returns the text a user may see for a job failure whose stored message is
// lastError ("" stays ""). See the comment above for the rule.
func PublicError(lastError string) string {
	switch m := userMessage.FindStringSubmatch(lastError); {
	case lastError == "":
		return ""
	case m != nil && m[1] == "packshot":
		return strings.TrimSuffix(lastError, " "+m[0])
	case m != nil:
		return strings.TrimPrefix(lastError, "timed out: ")
	case strings.HasPrefix(lastError, "timed out"):
		return publicTimedOut
	case strings.HasPrefix(lastError, "lease expired"):
		return publicWorker
	default:
		return publicInternal
	}
}

// publicErrorFor returns lastError as caller may see it: in full for the operator, else
// PublicError's text.
func publicErrorFor(c Caller, lastError string) string {
	if c.Admin {
		return lastError
	}
	return PublicError(lastError)
}
