package main

import (
	"context"
	"github.com/packshot/packshot/internal/app"

	"github.com/packshot/packshot/internal/config"
)

// cmdMigrate applies pending migrations to DATABASE_URL (or the embedded cluster) and exits.
func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	d, err := app.OpenDatabase(ctx, cfg, app.NewLogger(cfg, e.stderr), false)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Migrate(ctx, e.stdout)
}
