package api

import (
	"log/slog"
	"testing"

	"github.com/packshot/packshot/internal/trpc"
)

// The API speaks superjson unless told otherwise, like the T3-stack clients it serves.
func TestTRPCDefaultsToSuperJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]trpc.Transformer{"": trpc.TransformerSuperJSON, "json": trpc.TransformerJSON, "superjson": trpc.TransformerSuperJSON} {
		if got := newRouter(Deps{Transformer: in, Logger: slog.New(slog.DiscardHandler)}).Transformer(); got != want {
			t.Errorf("Deps.Transformer %q: router speaks %q, want %q", in, got, want)
		}
	}
}
