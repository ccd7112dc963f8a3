package pack

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/ai"
)

// TestPublicError: what the server's own failures say (SQL, paths, hosts, stacks) never
// reaches a user; failures written for users reach them as written.
func TestPublicError(t *testing.T) {
	t.Parallel()
	blocked := &ai.Error{Class: ai.Permanent, Provider: "openai", Status: 400, Code: "moderation_blocked",
		Message: "the image was blocked by the safety system"}
	for _, tc := range []struct {
		name, stored, want string
	}{
		{"empty", "", ""},
		{"packshot's own", permanent("no product could be found in the photo").Error(), "no product could be found in the photo"},
		{"AI service", fmt.Errorf("render lifestyle: %w", blocked).Error(), "render lifestyle: " + blocked.Error()},
		{"AI timeout", "timed out: " + blocked.Error(), blocked.Error()},
		{"database", `record image: ERROR: duplicate key value violates unique constraint "generated_images_pkey" (SQLSTATE 23505)`, publicInternal},
		{"storage path", "load photo: open /srv/packshot/blobs/ab/cd: permission denied", publicInternal},
		{"network", "load project: failed to connect to `host=db.internal user=packshot`: dial tcp 10.0.0.5:5432: connect: connection refused", publicInternal},
		{"panic", "panic: runtime error: index out of range\ngoroutine 7 [running]:\n…", publicInternal},
		{"timeout", "timed out: load photo: context deadline exceeded", publicTimedOut},
		{"rescue", "lease expired: the worker stopped heartbeating (crash or network loss)", publicWorker},
		{"fake mark mid-text", "load photo (packshot) from /srv/x: broken", publicInternal},
	} {
		got := PublicError(tc.stored)
		if got != tc.want {
			t.Errorf("%s: PublicError(%q) = %q; want %q", tc.name, tc.stored, got, tc.want)
		}
		for _, secret := range []string{"SQLSTATE", "/srv/", "10.0.0.5", "goroutine", "host="} {
			if strings.Contains(got, secret) {
				t.Errorf("%s: the public text %q shows %q", tc.name, got, secret)
			}
		}
	}
	// The operator sees the stored text in full.
	internal := "load photo: open /srv/packshot/blobs/ab/cd: permission denied"
	if got := publicErrorFor(Caller{Admin: true}, internal); got != internal {
		t.Errorf("service role sees %q; want the full error", got)
	}
	if got := publicErrorFor(Caller{UserID: "alice"}, internal); got != publicInternal {
		t.Errorf("user sees %q; want the safe sentence", got)
	}
	if !errors.As(permanent("x"), new(*errPermanent)) {
		t.Fatal("permanent() is not an errPermanent")
	}
}
