package api

import (
	"context"
	"fmt"
	"io"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/trpc"
)

// projectIDInput is the input of procedures that name a project as projectId.
type projectIDInput struct {
	ProjectID string `json:"projectId"`
}

// registerImageProcedures registers image.upload, image.generate,
// image.generateCompletePack and image.list.
func registerImageProcedures(r *trpc.Router, svc *pack.Service, maxUpload int64, lim *limits) {
	trpc.Mutation(r, "image.upload", func(ctx context.Context, in trpc.FormData) (pack.Snapshot, error) {
		fh := in.File("file")
		if fh == nil {
			return pack.Snapshot{}, apperr.Invalid("Invalid input: file: is required", map[string]string{"file": "is required"})
		}
		if err := pack.CheckUploadSize(fh.Size, maxUpload); err != nil {
			return pack.Snapshot{}, err
		}
		f, err := fh.Open()
		if err != nil {
			return pack.Snapshot{}, fmt.Errorf("open upload: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
		if err != nil {
			return pack.Snapshot{}, fmt.Errorf("read upload: %w", err)
		}
		return svc.Upload(ctx, callerFrom(ctx), in.Value("projectId"), data)
	})
	trpc.Mutation(r, "image.generate", func(ctx context.Context, in pack.GenerateInput) (pack.Jobs, error) {
		if err := lim.enqueue(callerFrom(ctx)); err != nil {
			return pack.Jobs{}, err
		}
		return svc.Generate(ctx, callerFrom(ctx), in)
	})
	trpc.Mutation(r, "image.generateCompletePack", func(ctx context.Context, in pack.PackInput) (pack.Jobs, error) {
		if err := lim.pack(ctx, callerFrom(ctx), in); err != nil {
			return pack.Jobs{}, err
		}
		return svc.GeneratePack(ctx, callerFrom(ctx), in)
	})
	trpc.Query(r, "image.list", func(ctx context.Context, in projectIDInput) ([]pack.GeneratedImage, error) {
		return svc.Images(ctx, callerFrom(ctx), in.ProjectID)
	})
}
