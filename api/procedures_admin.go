package api

import (
	"context"

	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/trpc"
)

// failedJobsInput is the input of admin.failedJobs.
type failedJobsInput struct {
	Limit *int `json:"limit,omitempty"`
}

// registerAdminProcedures registers the operator's procedures, admin.jobStats and
// admin.failedJobs; callers without the service_role get FORBIDDEN.
func registerAdminProcedures(r *trpc.Router, svc *pack.Service) {
	trpc.Query(r, "admin.jobStats", func(ctx context.Context, _ trpc.Void) (pack.JobStats, error) {
		return svc.AdminJobStats(ctx, callerFrom(ctx))
	})
	trpc.Query(r, "admin.failedJobs", func(ctx context.Context, in failedJobsInput) ([]pack.Job, error) {
		limit := 0
		if in.Limit != nil {
			limit = *in.Limit
			if limit == 0 {
				limit = -1
			}
		}
		return svc.AdminFailedJobs(ctx, callerFrom(ctx), limit)
	})
}
