package pack

import (
	"context"
	"fmt"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
)

// CheckPacksInFlight admits a complete-pack request for projectID unless the caller
// already has max packs generating, counted in the database so that every instance sees
// the same number. The project the request is for does not count: a repeated click on a
// pack that is already generating is GeneratePack's to answer (same idempotency key, same
// jobs). The service role and a max of 0 are not limited; a malformed id passes (the
// request's own validation answers it). Errors: ERATELIMITED, with a retry in 30 s.
func CheckPacksInFlight(ctx context.Context, q db.Querier, c Caller, projectID string, max int) error {
	if max <= 0 || c.Admin {
		return nil
	}
	id, err := ParseID(projectID)
	if err != nil {
		return nil
	}
	n, err := q.ProjectCountGenerating(ctx, db.ProjectCountGeneratingParams{UserID: c.UserID, ExceptID: id})
	if err != nil {
		return fmt.Errorf("count packs in flight: %w", err)
	}
	if n >= int64(max) {
		return &apperr.Error{Code: apperr.ERATELIMITED, RetryAfter: 30 * time.Second,
			Message: fmt.Sprintf("%d packs are already generating, the most one account may run at once; try again when one finishes", n)}
	}
	return nil
}
