// Package config reads packshot's configuration from the environment, in one place. Every
// field states its variable, unit and default; the README's configuration table mirrors
// this file.
package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything packshot can be told from the outside.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL (DATABASE_URL). Empty means: start a
	// private cluster under DataDir/pg from the machine's PostgreSQL binaries.
	DatabaseURL string
	// Addr is the HTTP listen address (PACKSHOT_ADDR). Defaults to 127.0.0.1:8080.
	Addr string
	// DataDir holds the embedded cluster, stored images and the dev-mode secret
	// (PACKSHOT_DATA_DIR). Defaults to ./.packshot.
	DataDir string
	// LogFormat is text or json (PACKSHOT_LOG_FORMAT). Defaults to text.
	LogFormat string
	// LogLevel is debug, info, warn or error (PACKSHOT_LOG_LEVEL). Defaults to info.
	LogLevel string
	// AutoMigrate applies pending migrations at serve/worker start
	// (PACKSHOT_AUTO_MIGRATE, true|false). Defaults to true.
	AutoMigrate bool
	// ShutdownGrace is how long running jobs and requests may take to finish after
	// SIGTERM before jobs are released back to pending (PACKSHOT_SHUTDOWN_GRACE,
	// duration). Defaults to 25s.
	ShutdownGrace time.Duration
	// PublicURL is the externally visible base URL, used in absolute links
	// (PACKSHOT_PUBLIC_URL). Defaults to empty: links are relative.
	PublicURL string

	// JWTSecret verifies HS256 bearer tokens (AUTH_JWT_SECRET, alias SUPABASE_JWT_SECRET).
	// Empty with the embedded database means dev mode: a secret is generated once and
	// kept in DataDir, and POST /api/dev/token exists.
	JWTSecret string
	// AllowedOrigins lists the browser origins allowed to open WebSockets and make CORS
	// requests (PACKSHOT_ALLOWED_ORIGINS, comma-separated; "*" allows any). Defaults to
	// empty: same-origin only.
	AllowedOrigins []string
	// TRPCTransformer is json or superjson (PACKSHOT_TRPC_TRANSFORMER). Defaults to json.
	TRPCTransformer string
	// MaxUploadBytes caps an uploaded photo (PACKSHOT_MAX_UPLOAD_BYTES, bytes). Defaults
	// to 25 MiB.
	MaxUploadBytes int64
	// MaxBodyBytes caps any other request body (PACKSHOT_MAX_BODY_BYTES, bytes). Defaults
	// to 1 MiB.
	MaxBodyBytes int64

	// Workers is how many jobs one instance runs at once (PACKSHOT_WORKERS). Defaults
	// to 16.
	Workers int
	// PollInterval is the dispatcher's safety-net poll; wake-ups normally come at once
	// (PACKSHOT_POLL_INTERVAL, duration). Defaults to 1s.
	PollInterval time.Duration
	// JobLease is how long a claimed job stays locked without a heartbeat before another
	// instance may rescue and rerun it; heartbeats come every third of it
	// (PACKSHOT_JOB_LEASE, duration). Defaults to 30s.
	JobLease time.Duration
	// JobRetention is how long finished jobs are kept before pruning
	// (PACKSHOT_JOB_RETENTION, duration). Defaults to 168h (7 days).
	JobRetention time.Duration

	// Storage is fs (files under DataDir/blobs) or s3 (PACKSHOT_STORAGE). Defaults to fs.
	Storage string
	// S3Endpoint, S3Bucket, S3Region, S3AccessKeyID, S3SecretAccessKey configure the
	// S3-compatible store when Storage is s3 (S3_ENDPOINT, S3_BUCKET, S3_REGION,
	// S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY). S3Region defaults to us-east-1.
	S3Endpoint, S3Bucket, S3Region, S3AccessKeyID, S3SecretAccessKey string
	// FileURLTTL is how long a signed /files URL stays valid (PACKSHOT_FILE_URL_TTL,
	// duration). Defaults to 1h.
	FileURLTTL time.Duration

	// OpenAIKey, GeminiKey, RemoveBGKey enable the AI providers (OPENAI_API_KEY,
	// GEMINI_API_KEY, REMOVEBG_API_KEY). Without any, the local engine does all work.
	OpenAIKey, GeminiKey, RemoveBGKey string
	// OpenAIBaseURL, GeminiBaseURL, RemoveBGBaseURL override the providers' endpoints
	// (OPENAI_BASE_URL, GEMINI_BASE_URL, REMOVEBG_BASE_URL). Default to the public APIs.
	OpenAIBaseURL, GeminiBaseURL, RemoveBGBaseURL string
	// AITimeout bounds one provider request (PACKSHOT_AI_TIMEOUT, duration). Image
	// generation can take minutes. Defaults to 180s.
	AITimeout time.Duration

	// RateLimitPerMinute caps enqueue calls per user (PACKSHOT_RATE_LIMIT_PER_MINUTE).
	// Defaults to 120; 0 disables.
	RateLimitPerMinute int
	// MaxPacksInFlight caps packs generating at once per user (PACKSHOT_MAX_PACKS_IN_FLIGHT).
	// Defaults to 5; 0 disables.
	MaxPacksInFlight int

	// --- request reading and batch limits (issue 13: items 1, 4 (batches) and 5) ---

	// ReadTimeout bounds reading one request, headers and body
	// (PACKSHOT_READ_TIMEOUT, duration). Uploads get UploadReadTimeout instead; SSE and
	// WebSocket streams are not cut by it once their request is read. Defaults to 30s.
	ReadTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its next request
	// (PACKSHOT_IDLE_TIMEOUT, duration). Defaults to 120s.
	IdleTimeout time.Duration
	// UploadReadTimeout bounds reading one upload body, from when the server starts
	// reading it (PACKSHOT_UPLOAD_READ_TIMEOUT, duration). Defaults to 120s.
	UploadReadTimeout time.Duration
	// MaxUploadsInFlight caps the uploads this process reads and processes at once
	// (PACKSHOT_MAX_UPLOADS_IN_FLIGHT). Over it: 503 with Retry-After. Defaults to 8;
	// 0 disables.
	MaxUploadsInFlight int
	// MaxBatchConcurrency is how many calls of one HTTP batch run at once
	// (PACKSHOT_MAX_BATCH_CONCURRENCY). Defaults to 4.
	MaxBatchConcurrency int
}

// Load reads the configuration through getenv and validates it.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		DatabaseURL:        r.str("DATABASE_URL", ""),
		Addr:               r.str("PACKSHOT_ADDR", "127.0.0.1:8080"),
		DataDir:            r.str("PACKSHOT_DATA_DIR", ".packshot"),
		LogFormat:          r.oneOf("PACKSHOT_LOG_FORMAT", "text", "text", "json"),
		LogLevel:           r.oneOf("PACKSHOT_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		AutoMigrate:        r.boolean("PACKSHOT_AUTO_MIGRATE", true),
		ShutdownGrace:      r.duration("PACKSHOT_SHUTDOWN_GRACE", 25*time.Second),
		PublicURL:          strings.TrimRight(r.str("PACKSHOT_PUBLIC_URL", ""), "/"),
		JWTSecret:          r.str("AUTH_JWT_SECRET", r.str("SUPABASE_JWT_SECRET", "")),
		AllowedOrigins:     r.list("PACKSHOT_ALLOWED_ORIGINS"),
		TRPCTransformer:    r.oneOf("PACKSHOT_TRPC_TRANSFORMER", "json", "json", "superjson"),
		MaxUploadBytes:     r.int64("PACKSHOT_MAX_UPLOAD_BYTES", 25<<20),
		MaxBodyBytes:       r.int64("PACKSHOT_MAX_BODY_BYTES", 1<<20),
		Workers:            int(r.int64("PACKSHOT_WORKERS", 16)),
		PollInterval:       r.duration("PACKSHOT_POLL_INTERVAL", time.Second),
		JobRetention:       r.duration("PACKSHOT_JOB_RETENTION", 7*24*time.Hour),
		JobLease:           r.duration("PACKSHOT_JOB_LEASE", 30*time.Second),
		Storage:            r.oneOf("PACKSHOT_STORAGE", "fs", "fs", "s3"),
		S3Endpoint:         r.str("S3_ENDPOINT", ""),
		S3Bucket:           r.str("S3_BUCKET", ""),
		S3Region:           r.str("S3_REGION", "us-east-1"),
		S3AccessKeyID:      r.str("S3_ACCESS_KEY_ID", ""),
		S3SecretAccessKey:  r.str("S3_SECRET_ACCESS_KEY", ""),
		FileURLTTL:         r.duration("PACKSHOT_FILE_URL_TTL", time.Hour),
		OpenAIKey:          r.str("OPENAI_API_KEY", ""),
		GeminiKey:          r.str("GEMINI_API_KEY", ""),
		RemoveBGKey:        r.str("REMOVEBG_API_KEY", ""),
		OpenAIBaseURL:      r.str("OPENAI_BASE_URL", ""),
		GeminiBaseURL:      r.str("GEMINI_BASE_URL", ""),
		RemoveBGBaseURL:    r.str("REMOVEBG_BASE_URL", ""),
		AITimeout:          r.duration("PACKSHOT_AI_TIMEOUT", 180*time.Second),
		RateLimitPerMinute: int(r.int64("PACKSHOT_RATE_LIMIT_PER_MINUTE", 120)),
		MaxPacksInFlight:   int(r.int64("PACKSHOT_MAX_PACKS_IN_FLIGHT", 5)),

		ReadTimeout:         r.duration("PACKSHOT_READ_TIMEOUT", 30*time.Second),
		IdleTimeout:         r.duration("PACKSHOT_IDLE_TIMEOUT", 120*time.Second),
		UploadReadTimeout:   r.duration("PACKSHOT_UPLOAD_READ_TIMEOUT", 120*time.Second),
		MaxUploadsInFlight:  int(r.int64("PACKSHOT_MAX_UPLOADS_IN_FLIGHT", 8)),
		MaxBatchConcurrency: int(r.int64("PACKSHOT_MAX_BATCH_CONCURRENCY", 4)),
	}
	if c.MaxBatchConcurrency < 1 {
		r.fail("PACKSHOT_MAX_BATCH_CONCURRENCY", "must be at least 1")
	}
	if c.Workers < 1 {
		r.fail("PACKSHOT_WORKERS", "must be at least 1")
	}
	if c.Storage == "s3" && c.S3Bucket == "" {
		r.fail("S3_BUCKET", "is required when PACKSHOT_STORAGE=s3")
	}
	if r.err != nil {
		return Config{}, r.err
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c, nil
}

// Embedded reports whether packshot runs its own PostgreSQL cluster.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// DevMode reports whether packshot issues its own tokens: the embedded database and no
// configured secret.
func (c Config) DevMode() bool { return c.Embedded() && c.JWTSecret == "" }

// reader collects the first error so Load reports a bad variable by name.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name, msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("config: %s %s", name, msg)
	}
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("is %q; want one of %s", v, strings.Join(allowed, ", ")))
	return def
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("is %q; want true or false", v))
		return def
	}
	return b
}

func (r *reader) int64(name string, def int64) int64 {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		r.fail(name, fmt.Sprintf("is %q; want a non-negative whole number", v))
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, fmt.Sprintf("is %q; want a duration such as 500ms, 30s or 2h", v))
		return def
	}
	return d
}

func (r *reader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
