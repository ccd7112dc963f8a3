// Package config reads packshot's configuration from the environment, in one place. Every
// field states its variable, unit and default; the README's configuration table mirrors
// this file.
package config

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxUploadBytes is the default cap on an uploaded photo (PACKSHOT_MAX_UPLOAD_BYTES):
// 25 MiB. It is the one home of that number: the pack service and the HTTP server fall
// back to it too.
const DefaultMaxUploadBytes = 25 << 20

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
	// TRPCTransformer is json or superjson (PACKSHOT_TRPC_TRANSFORMER). Defaults to
	// superjson, what T3-stack clients (and every README example) pass as transformer.
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
	// S3Prefix is the "folder" of the bucket the blobs live in (S3_PREFIX, e.g.
	// "staging"); the store lists and deletes nothing outside it. Deployments sharing a
	// bucket need one each. Defaults to empty: the bucket's top level.
	S3Prefix string
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

	// --- WebSocket and SSE connection limits ---

	// WSAuthTimeout is how long a WebSocket opened with connectionParams=1 may take to
	// send them before it is closed, and how long a socket whose token expired stays
	// open for its client to reconnect (PACKSHOT_WS_AUTH_TIMEOUT, duration). Defaults to
	// 10s.
	WSAuthTimeout time.Duration
	// MaxConnsPerIP caps the WebSocket and SSE connections open at once from one client
	// address (PACKSHOT_MAX_CONNS_PER_IP). The address is the TCP peer's, unless that is
	// one of TrustedProxies. Defaults to 128; 0 disables.
	MaxConnsPerIP int
	// MaxConnsPerUser caps the WebSocket and SSE connections open at once for one user
	// (PACKSHOT_MAX_CONNS_PER_USER). Defaults to 32; 0 disables.
	MaxConnsPerUser int
	// WSMaxCallsInFlight caps the queries and mutations one WebSocket runs at once
	// (PACKSHOT_WS_MAX_CALLS_IN_FLIGHT). Defaults to 32; 0 disables.
	WSMaxCallsInFlight int
	// WSMaxSubscriptions caps the subscriptions open on one WebSocket
	// (PACKSHOT_WS_MAX_SUBSCRIPTIONS). Defaults to 64; 0 disables.
	WSMaxSubscriptions int
	// TrustedProxies lists the reverse proxies (PACKSHOT_TRUSTED_PROXIES, comma-separated
	// IP addresses or CIDR prefixes) whose X-Forwarded-For is believed: for a request
	// from one of them, the client address is the right-most X-Forwarded-For entry that
	// is not itself a trusted proxy. Defaults to empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// SSEReconnectAfterInactivity is sent to SSE clients as reconnectAfterInactivityMs:
	// a stream silent for this long (pings come every 10s) is reconnected by the client
	// (PACKSHOT_SSE_RECONNECT_AFTER_INACTIVITY, duration). Defaults to 30s; 0 sends none.
	SSEReconnectAfterInactivity time.Duration

	// DecodeBudgetBytes is the memory all image decodes running at once may take, as
	// estimated from each file's header (PACKSHOT_DECODE_BUDGET_BYTES, bytes). A decode
	// waits for its share; one larger than the whole budget is refused. Defaults to
	// 805306368 (768 MiB): with the collector's headroom the process then stays under
	// about 1.8 GiB however many photos arrive at once.
	DecodeBudgetBytes int64
	// MaxCostlyMegapixels caps the pixels of a progressive or CMYK JPEG, whose decode
	// takes up to 32 bytes per pixel (PACKSHOT_MAX_PROGRESSIVE_CMYK_MEGAPIXELS,
	// megapixels). Defaults to 24.
	MaxCostlyMegapixels int

	// MaxAIJobsInFlight caps one user's unfinished jobs that call an AI image generator,
	// across instances (PACKSHOT_MAX_AI_JOBS_IN_FLIGHT). Defaults to 10; 0 disables.
	MaxAIJobsInFlight int
	// AIDailyBudgetUSD caps one user's AI spend per UTC day, in US dollars, across
	// instances (PACKSHOT_AI_DAILY_BUDGET_USD). Defaults to 5; 0 disables.
	AIDailyBudgetUSD float64
	// AIGlobalDailyBudgetUSD caps the whole service's AI spend per UTC day, in US dollars
	// (PACKSHOT_AI_GLOBAL_DAILY_BUDGET_USD). Defaults to 50; 0 disables.
	AIGlobalDailyBudgetUSD float64

	// BlobGCInterval is the time between two runs of the blob garbage collector, which
	// deletes stored photos and images that no row references any more (a deleted
	// project's, a replaced photo). It runs where the job dispatcher runs, on one instance
	// at a time (PACKSHOT_BLOB_GC_INTERVAL, duration). Defaults to 10m; 0 disables.
	BlobGCInterval time.Duration
	// BlobGCGrace is how old an unreferenced blob (and the last upload of its content)
	// must be before it is deleted (PACKSHOT_BLOB_GC_GRACE, duration, at least 1m).
	// Defaults to 1h.
	BlobGCGrace time.Duration
	// BlobGCBatch is how many blobs one run looks at, and so at most deletes
	// (PACKSHOT_BLOB_GC_BATCH, count, 1 to 1000). Defaults to 1000.
	BlobGCBatch int
	// BlobGCDeleteTimeout bounds each storage deletion of the blob collector; one that
	// takes longer counts as an error and is retried on a later pass
	// (PACKSHOT_BLOB_GC_DELETE_TIMEOUT, duration, at least 1s). Defaults to 30s.
	BlobGCDeleteTimeout time.Duration

	// --- tokens, SSE tickets and the metrics address ---

	// JWTAudience, when set, must be among a bearer token's `aud` values
	// (AUTH_JWT_AUDIENCE; Supabase's access tokens carry "authenticated"). Defaults to
	// empty: `aud` is not checked.
	JWTAudience string
	// MetricsAddr, when set, serves /metrics on this address alone and not on the public
	// one (PACKSHOT_METRICS_ADDR, host:port). Defaults to empty: /metrics on Addr.
	MetricsAddr string
	// SSETicketTTL is how long a ticket from POST /api/sse-ticket stays redeemable for one
	// SSE connect (PACKSHOT_SSE_TICKET_TTL, duration). Defaults to 30s.
	SSETicketTTL time.Duration

	// --- reading requests and uploads; HTTP batches ---

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

	// --- superjson inputs ---

	// TRPCMaxInputDepth caps how deep a superjson input with referentialEqualities may
	// nest, before and after they are restored (PACKSHOT_TRPC_MAX_INPUT_DEPTH, levels,
	// at most 10000). Defaults to 100. The bytes they may add are capped at the input's own size.
	TRPCMaxInputDepth int

	// --- connections per instance, IPv6 addresses, SSE tickets per user ---

	// SSETicketsPerUser caps the unexpired, unredeemed tickets one user holds
	// (PACKSHOT_SSE_TICKETS_PER_USER, count); more are refused with 429 until one
	// expires. Defaults to 32.
	SSETicketsPerUser int
	// MaxConns caps the WebSocket and SSE connections open at once on this instance,
	// whoever opens them (PACKSHOT_MAX_CONNS, count); more are refused with 503.
	// Defaults to 10000; 0 disables.
	MaxConns int
	// ConnsIPv6PrefixBits is the prefix under which IPv6 client addresses count as one
	// for PACKSHOT_MAX_CONNS_PER_IP (PACKSHOT_CONNS_IPV6_PREFIX, bits, 1 to 128): a host
	// usually holds a whole /64. Defaults to 64.
	ConnsIPv6PrefixBits int
}

// Load reads the configuration through getenv and validates it.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := r.config()
	c.check(&r)
	if r.err != nil {
		return Config{}, r.err
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c, nil
}

// config reads every variable, its default when unset; a value that does not
// parse is reported through r.
func (r *reader) config() Config {
	return Config{
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
		TRPCTransformer:    r.oneOf("PACKSHOT_TRPC_TRANSFORMER", "superjson", "json", "superjson"),
		MaxUploadBytes:     r.int64("PACKSHOT_MAX_UPLOAD_BYTES", DefaultMaxUploadBytes),
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
		S3Prefix:           r.str("S3_PREFIX", ""),
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

		WSAuthTimeout:               r.duration("PACKSHOT_WS_AUTH_TIMEOUT", 10*time.Second),
		MaxConnsPerIP:               int(r.int64("PACKSHOT_MAX_CONNS_PER_IP", 128)),
		MaxConnsPerUser:             int(r.int64("PACKSHOT_MAX_CONNS_PER_USER", 32)),
		WSMaxCallsInFlight:          int(r.int64("PACKSHOT_WS_MAX_CALLS_IN_FLIGHT", 32)),
		WSMaxSubscriptions:          int(r.int64("PACKSHOT_WS_MAX_SUBSCRIPTIONS", 64)),
		TrustedProxies:              r.prefixes("PACKSHOT_TRUSTED_PROXIES"),
		SSEReconnectAfterInactivity: r.duration("PACKSHOT_SSE_RECONNECT_AFTER_INACTIVITY", 30*time.Second),

		DecodeBudgetBytes:   r.int64("PACKSHOT_DECODE_BUDGET_BYTES", 768<<20),
		MaxCostlyMegapixels: int(r.int64("PACKSHOT_MAX_PROGRESSIVE_CMYK_MEGAPIXELS", 24)),

		MaxAIJobsInFlight:      int(r.int64("PACKSHOT_MAX_AI_JOBS_IN_FLIGHT", 10)),
		AIDailyBudgetUSD:       r.float("PACKSHOT_AI_DAILY_BUDGET_USD", 5),
		AIGlobalDailyBudgetUSD: r.float("PACKSHOT_AI_GLOBAL_DAILY_BUDGET_USD", 50),

		BlobGCInterval:      r.duration("PACKSHOT_BLOB_GC_INTERVAL", 10*time.Minute),
		BlobGCGrace:         r.duration("PACKSHOT_BLOB_GC_GRACE", time.Hour),
		BlobGCBatch:         int(r.int64("PACKSHOT_BLOB_GC_BATCH", 1000)),
		BlobGCDeleteTimeout: r.duration("PACKSHOT_BLOB_GC_DELETE_TIMEOUT", 30*time.Second),

		JWTAudience:  r.str("AUTH_JWT_AUDIENCE", ""),
		MetricsAddr:  r.str("PACKSHOT_METRICS_ADDR", ""),
		SSETicketTTL: r.duration("PACKSHOT_SSE_TICKET_TTL", 30*time.Second),

		ReadTimeout:         r.duration("PACKSHOT_READ_TIMEOUT", 30*time.Second),
		IdleTimeout:         r.duration("PACKSHOT_IDLE_TIMEOUT", 120*time.Second),
		UploadReadTimeout:   r.duration("PACKSHOT_UPLOAD_READ_TIMEOUT", 120*time.Second),
		MaxUploadsInFlight:  int(r.int64("PACKSHOT_MAX_UPLOADS_IN_FLIGHT", 8)),
		MaxBatchConcurrency: int(r.int64("PACKSHOT_MAX_BATCH_CONCURRENCY", 4)),

		TRPCMaxInputDepth: int(r.int64("PACKSHOT_TRPC_MAX_INPUT_DEPTH", 100)),

		SSETicketsPerUser:   int(r.int64("PACKSHOT_SSE_TICKETS_PER_USER", 32)),
		MaxConns:            int(r.int64("PACKSHOT_MAX_CONNS", 10000)),
		ConnsIPv6PrefixBits: int(r.int64("PACKSHOT_CONNS_IPV6_PREFIX", 64)),
	}
}

// check reports through r the first value out of its range, or a combination
// that cannot work.
func (c *Config) check(r *reader) {
	if c.ConnsIPv6PrefixBits < 1 || c.ConnsIPv6PrefixBits > 128 {
		r.fail("PACKSHOT_CONNS_IPV6_PREFIX", "must be between 1 and 128")
	}
	if c.SSETicketsPerUser < 1 {
		r.fail("PACKSHOT_SSE_TICKETS_PER_USER", "must be at least 1")
	}
	if c.MaxBatchConcurrency < 1 {
		r.fail("PACKSHOT_MAX_BATCH_CONCURRENCY", "must be at least 1")
	}
	if c.TRPCMaxInputDepth < 1 || c.TRPCMaxInputDepth > 10000 {
		// encoding/json decodes nothing deeper than 10000 levels anyway.
		r.fail("PACKSHOT_TRPC_MAX_INPUT_DEPTH", "must be between 1 and 10000")
	}
	if c.DecodeBudgetBytes < 64<<20 {
		r.fail("PACKSHOT_DECODE_BUDGET_BYTES", "must be at least 67108864 (64 MiB)")
	}
	if c.MaxCostlyMegapixels < 1 {
		r.fail("PACKSHOT_MAX_PROGRESSIVE_CMYK_MEGAPIXELS", "must be at least 1")
	}
	if c.Workers < 1 {
		r.fail("PACKSHOT_WORKERS", "must be at least 1")
	}
	if c.BlobGCGrace < time.Minute {
		r.fail("PACKSHOT_BLOB_GC_GRACE", "must be at least 1m: it protects uploads between storing a blob and recording it")
	}
	if c.BlobGCBatch < 1 || c.BlobGCBatch > 1000 {
		r.fail("PACKSHOT_BLOB_GC_BATCH", "must be between 1 and 1000")
	}
	if c.BlobGCDeleteTimeout < time.Second {
		r.fail("PACKSHOT_BLOB_GC_DELETE_TIMEOUT", "must be at least 1s: a deletion cut short may still be carried out by the store")
	}
	if c.Storage == "s3" && c.S3Bucket == "" {
		r.fail("S3_BUCKET", "is required when PACKSHOT_STORAGE=s3")
	}
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

func (r *reader) float(name string, def float64) float64 {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		r.fail(name, fmt.Sprintf("is %q; want a non-negative number such as 2.50", v))
		return def
	}
	return f
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

// prefixes reads a comma-separated list of IP addresses and CIDR prefixes.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range r.list(name) {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(v); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else {
			r.fail(name, fmt.Sprintf("has %q; want IP addresses or CIDR prefixes such as 10.0.0.0/8", v))
		}
	}
	return out
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
