package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || !strings.HasSuffix(c.DataDir, ".packshot") || c.LogFormat != "text" ||
		c.Workers != 16 || c.MaxUploadBytes != 25<<20 || c.AITimeout != 180*time.Second || !c.AutoMigrate {
		t.Fatalf("defaults = %+v", c)
	}
	if !c.Embedded() || !c.DevMode() {
		t.Fatal("no DATABASE_URL and no secret must mean embedded dev mode")
	}
}

func TestLoadSupabaseSecretAlias(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"SUPABASE_JWT_SECRET": "s3cret", "DATABASE_URL": "postgres://x/y"}))
	if err != nil || c.JWTSecret != "s3cret" || c.DevMode() || c.Embedded() {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"PACKSHOT_LOG_FORMAT":       "xml",
		"PACKSHOT_POLL_INTERVAL":    "soon",
		"PACKSHOT_WORKERS":          "0",
		"PACKSHOT_MAX_UPLOAD_BYTES": "-1",
		"PACKSHOT_AUTO_MIGRATE":     "maybe",
	} {
		_, err := Load(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v; want an error naming the variable", name, value, err)
		}
	}
}

func TestLoadBlobCollector(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil || c.BlobGCInterval != 10*time.Minute || c.BlobGCGrace != time.Hour || c.BlobGCBatch != 1000 {
		t.Fatalf("blob collector defaults: %v, %v, %d (%v)", c.BlobGCInterval, c.BlobGCGrace, c.BlobGCBatch, err)
	}
	c, err = Load(env(map[string]string{"PACKSHOT_BLOB_GC_INTERVAL": "0", "PACKSHOT_BLOB_GC_GRACE": "24h", "PACKSHOT_BLOB_GC_BATCH": "50"}))
	if err != nil || c.BlobGCInterval != 0 || c.BlobGCGrace != 24*time.Hour || c.BlobGCBatch != 50 {
		t.Fatalf("blob collector set: %v, %v, %d (%v)", c.BlobGCInterval, c.BlobGCGrace, c.BlobGCBatch, err)
	}
	for name, value := range map[string]string{"PACKSHOT_BLOB_GC_GRACE": "10s", "PACKSHOT_BLOB_GC_BATCH": "0"} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v; want an error naming the variable", name, value, err)
		}
	}
}
