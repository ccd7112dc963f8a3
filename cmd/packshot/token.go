package main

import (
	"context"
	"fmt"
	"time"

	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/config"
)

// cmdToken prints a bearer token for a user, signed with the configured secret (or, in dev
// mode, the data dir's dev secret), so scripts and curl can call the API.
func cmdToken(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "token")
	user := fs.String("user", "", "the user id the token names (its `sub`); required")
	role := fs.String("role", auth.RoleAuthenticated, "authenticated, or service_role for the operator")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token stays valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	}
	if *user == "" {
		return fmt.Errorf("token: -user is required")
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	secret, err := auth.Secret(cfg)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tok, err := auth.Issue(secret, *user, *role, *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(e.stdout, tok)
	return err
}
