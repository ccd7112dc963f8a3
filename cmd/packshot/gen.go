package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/packshot/packshot/api"
)

// cmdGen generates source code from the Go definitions. `gen ts` writes the TypeScript
// AppRouter type of the tRPC API and the server's vocabulary beside it (statuses, image
// types, marketplaces, input limits; see api.WriteTypeScript), run by `make generate`
// for the web app.
func cmdGen(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "ts" {
		return errors.New("usage: packshot gen ts [-transformer json|superjson] [-o FILE]")
	}
	fs := newFlagSet(e, "gen ts")
	// The default is the server's: PACKSHOT_TRPC_TRANSFORMER, else superjson.
	def := e.getenv("PACKSHOT_TRPC_TRANSFORMER")
	if def == "" {
		def = "superjson"
	}
	transformer := fs.String("transformer", def, "the transformer the server runs with: json or superjson (defaults to PACKSHOT_TRPC_TRANSFORMER, else superjson)")
	out := fs.String("o", "", "write to FILE instead of standard output")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *transformer != "json" && *transformer != "superjson" {
		return fmt.Errorf("-transformer %q: want json or superjson", *transformer)
	}
	var buf bytes.Buffer
	if err := api.WriteTypeScript(&buf, *transformer); err != nil {
		return fmt.Errorf("generate TypeScript: %w", err)
	}
	if *out == "" {
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	return nil
}
