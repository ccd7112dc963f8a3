package auth

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/packshot/packshot/internal/config"
)

func TestDevSecretIsCreatedOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	// Several first callers at once agree on one secret.
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = DevSecret(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("callers disagree: %q and %q", got[0], got[i])
		}
	}
	if len(got[0]) != 64 {
		t.Errorf("secret %d characters; want 64 hex", len(got[0]))
	}

	fi, err := os.Stat(filepath.Join(dir, DevSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("secret file mode %v; want 0600", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("data dir holds %d files; want only the secret (no temp files left)", len(entries))
	}

	again, err := DevSecret(dir)
	if err != nil || again != got[0] {
		t.Fatalf("later call: %q, %v; want the same secret", again, err)
	}

	// Tokens signed with it verify with it, as in `packshot token` then `packshot serve`.
	tok, err := Issue(again, "alice", RoleAuthenticated, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestDevSecretDamagedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DevSecretFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := DevSecret(dir); err == nil {
		t.Fatalf("damaged secret file accepted: %q", s)
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func(env map[string]string) config.Config {
		env["PACKSHOT_DATA_DIR"] = dir
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	configured := "configured-secret-0123456789abcdef0123"
	if s, err := Secret(load(map[string]string{"AUTH_JWT_SECRET": configured})); err != nil || s != configured {
		t.Errorf("AUTH_JWT_SECRET: %q, %v", s, err)
	}
	fromSupabase := "from-supabase-0123456789abcdef0123456789"
	if s, err := Secret(load(map[string]string{"SUPABASE_JWT_SECRET": fromSupabase})); err != nil || s != fromSupabase {
		t.Errorf("SUPABASE_JWT_SECRET: %q, %v", s, err)
	}
	dev, err := Secret(load(map[string]string{}))
	if err != nil {
		t.Fatalf("dev mode: %v", err)
	}
	if kept, err := DevSecret(dir); err != nil || kept != dev {
		t.Errorf("dev mode secret %q is not the data dir's %q (%v)", dev, kept, err)
	}
	if s, err := Secret(load(map[string]string{"DATABASE_URL": "postgres://db/x"})); err == nil {
		t.Errorf("external database without a secret: got %q, want an error", s)
	}
}
