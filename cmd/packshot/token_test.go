package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/auth"
)

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	token := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"packshot", "token"}, args...), mapEnv(env), &out, io.Discard)
		return strings.TrimSpace(out.String()), err
	}

	// With a configured secret, the token verifies with that secret.
	env := map[string]string{"AUTH_JWT_SECRET": "s3cret-for-the-token-test-0123456789abcdef", "DATABASE_URL": "postgres://db/x"}
	tok, err := token(env, "-user", "ops", "-role", "service_role", "-ttl", "5m")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier("s3cret-for-the-token-test-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := v.Verify(tok); err != nil || u != (auth.User{ID: "ops", Role: auth.RoleService}) {
		t.Fatalf("configured secret: got %+v, %v", u, err)
	}

	// In dev mode, it is signed with the data dir's dev secret.
	dir := t.TempDir()
	tok, err = token(map[string]string{"PACKSHOT_DATA_DIR": dir}, "-user", "alice")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := auth.DevSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = auth.NewVerifier(dev); err != nil {
		t.Fatal(err)
	}
	if u, err := v.Verify(tok); err != nil || u != (auth.User{ID: "alice", Role: auth.RoleAuthenticated}) {
		t.Fatalf("dev mode: got %+v, %v", u, err)
	}

	for name, args := range map[string][]string{
		"no user":  nil,
		"bad role": {"-user", "x", "-role", "admin"},
		"bad ttl":  {"-user", "x", "-ttl", "0s"},
	} {
		if tok, err := token(env, args...); err == nil {
			t.Errorf("%s: printed %q, want an error", name, tok)
		}
	}
	if tok, err := token(map[string]string{"DATABASE_URL": "postgres://db/x"}, "-user", "x"); err == nil {
		t.Errorf("external database without a secret: printed %q, want an error", tok)
	}
}
