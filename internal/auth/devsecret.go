package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/packshot/packshot/internal/config"
)

// DevSecretFile is the name of the dev-mode secret's file inside the data dir.
const DevSecretFile = "dev-jwt-secret"

// devSecretBytes is the dev secret's entropy: 256 bits, as HS256 wants.
const devSecretBytes = 32

// DevSecret returns the dev-mode signing secret kept in dataDir, creating it (mode 0600,
// 256 random bits, hex) on first use. Concurrent first calls, also from different
// processes, agree on one secret: the file appears whole or not at all.
func DevSecret(dataDir string) (string, error) {
	path := filepath.Join(dataDir, DevSecretFile)
	if s, err := readDevSecret(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("dev secret: create data dir: %w", err)
	}
	buf := make([]byte, devSecretBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("dev secret: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, DevSecretFile+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("dev secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(buf) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("dev secret: write: %w", err)
	}
	// CreateTemp makes the file 0600. Link, unlike rename, fails when the target exists,
	// so a process that lost the race reads the winner's secret instead of replacing it.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("dev secret: %w", err)
	}
	return readDevSecret(path)
}

// readDevSecret reads the secret file at path.
func readDevSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("dev secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 2*devSecretBytes {
		return "", fmt.Errorf("dev secret: %s is damaged (too short); delete it to make a new one", path)
	}
	return s, nil
}

// MinSecretBytes is the shortest configured secret accepted: HS256 wants 256 bits, and a
// short secret can be brute-forced from any token it signed. Supabase's are longer.
const MinSecretBytes = 32

// Secret returns the secret tokens are signed and verified with under cfg: the configured
// one (AUTH_JWT_SECRET or SUPABASE_JWT_SECRET, at least MinSecretBytes long), else in dev
// mode the data dir's dev secret. With an external database and no secret it is an error,
// because the tokens of such a deployment come from an identity provider whose secret
// packshot must be told.
func Secret(cfg config.Config) (string, error) {
	switch {
	case cfg.JWTSecret != "" && len(cfg.JWTSecret) < MinSecretBytes:
		return "", fmt.Errorf("AUTH_JWT_SECRET is %d bytes; it must be at least %d (a short secret can be guessed from any token it signed)", len(cfg.JWTSecret), MinSecretBytes)
	case cfg.JWTSecret != "":
		return cfg.JWTSecret, nil
	case cfg.DevMode():
		return DevSecret(cfg.DataDir)
	default:
		return "", errors.New("AUTH_JWT_SECRET (or SUPABASE_JWT_SECRET) is required when DATABASE_URL is set")
	}
}
