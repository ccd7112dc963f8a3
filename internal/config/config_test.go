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

func TestLoadConnectionLimits(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.WSAuthTimeout != 10*time.Second || c.MaxConnsPerIP != 128 || c.MaxConnsPerUser != 32 ||
		c.WSMaxCallsInFlight != 32 || c.WSMaxSubscriptions != 64 || len(c.TrustedProxies) != 0 ||
		c.SSEReconnectAfterInactivity != 30*time.Second {
		t.Fatalf("connection limit defaults = %+v", c)
	}
	c, err = Load(env(map[string]string{"PACKSHOT_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1"}))
	if err != nil || len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.168.1.7/32" || c.TrustedProxies[2].String() != "::1/128" {
		t.Fatalf("trusted proxies: %v, %v", c.TrustedProxies, err)
	}
	if _, err := Load(env(map[string]string{"PACKSHOT_TRUSTED_PROXIES": "proxy.internal"})); err == nil || !strings.Contains(err.Error(), "PACKSHOT_TRUSTED_PROXIES") {
		t.Fatalf("a host name in PACKSHOT_TRUSTED_PROXIES: %v; want an error naming it", err)
	}
}

// The tRPC transformer defaults to superjson, what T3-stack clients and the README's
// examples pass; json is still available.
func TestLoadTRPCTransformer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "superjson", "json": "json", "superjson": "superjson"} {
		c, err := Load(env(map[string]string{"PACKSHOT_TRPC_TRANSFORMER": in}))
		if err != nil || c.TRPCTransformer != want {
			t.Errorf("PACKSHOT_TRPC_TRANSFORMER=%q: got %q, %v; want %q", in, c.TRPCTransformer, err, want)
		}
	}
}

func TestLoadAISpendLimits(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil || c.MaxAIJobsInFlight != 10 || c.AIDailyBudgetUSD != 5 || c.AIGlobalDailyBudgetUSD != 50 {
		t.Fatalf("defaults: %d, %v, %v (%v); want 10, 5, 50", c.MaxAIJobsInFlight, c.AIDailyBudgetUSD, c.AIGlobalDailyBudgetUSD, err)
	}
	c, err = Load(env(map[string]string{"PACKSHOT_AI_DAILY_BUDGET_USD": "2.50", "PACKSHOT_AI_GLOBAL_DAILY_BUDGET_USD": "0", "PACKSHOT_MAX_AI_JOBS_IN_FLIGHT": "0"}))
	if err != nil || c.AIDailyBudgetUSD != 2.5 || c.AIGlobalDailyBudgetUSD != 0 || c.MaxAIJobsInFlight != 0 {
		t.Fatalf("set: %+v, %v", c, err)
	}
	for _, v := range []string{"-1", "five", "NaN", "Inf"} {
		if _, err := Load(env(map[string]string{"PACKSHOT_AI_DAILY_BUDGET_USD": v})); err == nil || !strings.Contains(err.Error(), "PACKSHOT_AI_DAILY_BUDGET_USD") {
			t.Errorf("budget %q: %v; want an error naming the variable", v, err)
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
	if c.BlobGCDeleteTimeout != 30*time.Second {
		t.Errorf("PACKSHOT_BLOB_GC_DELETE_TIMEOUT default %v; want 30s", c.BlobGCDeleteTimeout)
	}
	for _, tc := range [][2]string{
		{"PACKSHOT_BLOB_GC_GRACE", "10s"},
		{"PACKSHOT_BLOB_GC_BATCH", "0"},
		{"PACKSHOT_BLOB_GC_BATCH", "100000"}, // more keys than one run may lock and ask about
		{"PACKSHOT_BLOB_GC_DELETE_TIMEOUT", "10ms"},
	} {
		name, value := tc[0], tc[1]
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v; want an error naming the variable", name, value, err)
		}
	}
}

// PACKSHOT_TRPC_MAX_INPUT_DEPTH defaults to 100 and is read; 0 and depths that
// encoding/json could not decode anyway are refused by name.
func TestLoadTRPCMaxInputDepth(t *testing.T) {
	t.Parallel()
	if c, err := Load(env(nil)); err != nil || c.TRPCMaxInputDepth != 100 {
		t.Fatalf("default: %d, %v", c.TRPCMaxInputDepth, err)
	}
	if c, err := Load(env(map[string]string{"PACKSHOT_TRPC_MAX_INPUT_DEPTH": "32"})); err != nil || c.TRPCMaxInputDepth != 32 {
		t.Fatalf("32: %d, %v", c.TRPCMaxInputDepth, err)
	}
	for _, bad := range []string{"0", "10001"} {
		if _, err := Load(env(map[string]string{"PACKSHOT_TRPC_MAX_INPUT_DEPTH": bad})); err == nil || !strings.Contains(err.Error(), "PACKSHOT_TRPC_MAX_INPUT_DEPTH") {
			t.Errorf("%s: %v; want an error naming the variable", bad, err)
		}
	}
}
