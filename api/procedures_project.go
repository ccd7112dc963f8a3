package api

import (
	"context"

	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/trpc"
)

// idInput is the input of procedures that name one object.
type idInput struct {
	ID string `json:"id"`
}

// projectListInput is the input of project.list.
type projectListInput struct {
	Cursor *string `json:"cursor,omitempty"`
	Limit  *int    `json:"limit,omitempty"`
}

// okOutput answers mutations that return nothing else.
type okOutput struct {
	OK bool `json:"ok"`
}

// registerProjectProcedures registers project.create, project.get, project.list,
// project.update and project.delete.
func registerProjectProcedures(r *trpc.Router, svc *pack.Service) {
	trpc.Mutation(r, "project.create", func(ctx context.Context, in pack.CreateInput) (pack.Snapshot, error) {
		return svc.Create(ctx, callerFrom(ctx), in)
	})
	trpc.Query(r, "project.get", func(ctx context.Context, in idInput) (pack.Snapshot, error) {
		return svc.Get(ctx, callerFrom(ctx), in.ID)
	})
	trpc.Query(r, "project.list", func(ctx context.Context, in projectListInput) (pack.Page, error) {
		cursor, limit := "", 0
		if in.Cursor != nil {
			cursor = *in.Cursor
		}
		if in.Limit != nil {
			limit = *in.Limit
			if limit == 0 {
				limit = -1 // an explicit 0 is out of range, not "the default"
			}
		}
		return svc.List(ctx, callerFrom(ctx), cursor, limit)
	})
	trpc.Mutation(r, "project.update", func(ctx context.Context, in pack.UpdateInput) (pack.Snapshot, error) {
		return svc.Update(ctx, callerFrom(ctx), in)
	})
	trpc.Mutation(r, "project.delete", func(ctx context.Context, in idInput) (okOutput, error) {
		if err := svc.Delete(ctx, callerFrom(ctx), in.ID); err != nil {
			return okOutput{}, err
		}
		return okOutput{OK: true}, nil
	})
}
