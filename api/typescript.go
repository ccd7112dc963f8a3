package api

import (
	"io"
	"log/slog"

	"github.com/packshot/packshot/internal/trpc"
)

// WriteTypeScript writes the TypeScript `AppRouter` type of packshot's whole tRPC API
// (every procedure and subscription) for the given transformer ("json" or "superjson"),
// so a frontend gets typed inputs and outputs from createTRPCClient<AppRouter>. No
// procedure runs: registration only records the Go types.
func WriteTypeScript(w io.Writer, transformer string) error {
	r := newRouter(Deps{Transformer: transformer, Logger: slog.New(slog.DiscardHandler)})
	registerSubscriptions(r, nil)
	registerJobWatch(r, nil, nil)
	return trpc.WriteTypeScript(w, r)
}
