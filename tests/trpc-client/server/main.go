// Command server is the Go tRPC test server the Node compatibility suite in
// tests/trpc-client drives: a small router that exercises every feature of
// internal/trpc. It prints "listening ADDR" once it accepts connections and
// shuts down gracefully on SIGTERM or SIGINT; SIGUSR1 drains the router's
// streams and sockets while it keeps accepting connections.
//
// With -gen-ts FILE it writes the router's TypeScript AppRouter to FILE and
// exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/packshot/packshot/internal/trpc"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	transformer := fs.String("transformer", "json", "json or superjson")
	genTS := fs.String("gen-ts", "", "write the AppRouter TypeScript to this file and exit")
	drain := fs.Duration("drain", 500*time.Millisecond, "how long a graceful shutdown waits for clients to leave")
	briefTTL := fs.Duration("brief-token-ttl", 0, "if set, the token \"brief\" authenticates alice for this long")
	authTimeout := fs.Duration("ws-auth-timeout", 0, "the router's AuthTimeout (0: its default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := newRouter(trpc.Transformer(*transformer), *briefTTL, *authTimeout)
	if *genTS != "" {
		f, err := os.Create(*genTS)
		if err != nil {
			return err
		}
		if err := trpc.WriteTypeScript(f, r); err != nil {
			return err
		}
		return f.Close()
	}
	mux := http.NewServeMux()
	mux.Handle("/trpc/", r.HTTPHandler())
	mux.Handle("/ws", r.WebSocketHandler())
	srv := &http.Server{Handler: trpc.CORS(trpc.NewOrigins([]string{"*"}), mux), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// SIGUSR1 drains the router but keeps the listener open, as an instance
	// does while a load balancer still sends it requests: new SSE and
	// WebSocket requests reach a draining router.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	drainCtx, stopDrain := context.WithCancel(context.Background())
	defer stopDrain()
	go func() {
		select {
		case <-usr1:
			_ = r.Shutdown(drainCtx) // SIGTERM's Shutdown bounds it
		case <-drainCtx.Done():
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Closed here rather than by srv.Shutdown, so that the line below tells
	// the tests the address is free while the sockets drain.
	_ = ln.Close()
	fmt.Fprintln(stdout, "stopped listening")
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	done := make(chan struct{})
	go func() { _ = srv.Shutdown(sctx); close(done) }()
	_ = r.Shutdown(sctx)
	<-done
	return nil
}

type user struct {
	name    string
	expires time.Time // zero: never
}

type userKey struct{}

// GreetInput is the input of greet.
type GreetInput struct {
	Name string `json:"name"`
}

// Greeting is the output of greet.
type Greeting struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// PostByIDInput is the input of post.byId.
type PostByIDInput struct {
	ID int `json:"id"`
}

// Post is a post.
type Post struct {
	ID    int      `json:"id"`
	Title string   `json:"title"`
	Tags  []string `json:"tags"`
	Note  *string  `json:"note"`
}

// PostAddInput is the input of post.add.
type PostAddInput struct {
	Title string   `json:"title"`
	Tags  []string `json:"tags,omitempty"`
}

// Validate checks the title.
func (in PostAddInput) Validate() error {
	fe := trpc.FieldErrors{}
	if strings.TrimSpace(in.Title) == "" {
		fe["title"] = "must not be empty"
	}
	if len(in.Title) > 20 {
		fe["title"] = "must be at most 20 characters"
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

// TypesInput carries the values superjson has special encodings for.
type TypesInput struct {
	At    time.Time             `json:"at"`
	Big   *big.Int              `json:"big"`
	Map   trpc.Map[string, int] `json:"map"`
	Set   trpc.Set[string]      `json:"set"`
	Maybe *string               `json:"maybe,omitempty"`
}

// TypesOutput echoes TypesInput and adds values JSON cannot carry.
type TypesOutput struct {
	At       time.Time                   `json:"at"`
	Big      *big.Int                    `json:"big"`
	Map      trpc.Map[string, int]       `json:"map"`
	Set      trpc.Set[string]            `json:"set"`
	Dates    []time.Time                 `json:"dates"`
	Nested   trpc.Map[string, time.Time] `json:"nested"`
	Inf      float64                     `json:"inf"`
	MaybeSet bool                        `json:"maybeSet"`
}

// CounterInput is the input of counter.
type CounterInput struct {
	// To ends the subscription after this event; 0 runs until stopped.
	To int `json:"to,omitempty"`
	// EveryMs is the time between events. Defaults to 10 ms.
	EveryMs int `json:"everyMs,omitempty"`
}

// Count is one counter event.
type Count struct {
	N int `json:"n"`
}

// TicksInput is the input of ticks.
type TicksInput struct {
	// To is how many values to yield; 0 yields until the client leaves.
	To int `json:"to,omitempty"`
	// Fail ends the stream with CONFLICT after the values.
	Fail bool `json:"fail,omitempty"`
}

// Tick is a value of ticks.
type Tick struct {
	N  int       `json:"n"`
	At time.Time `json:"at"`
}

// WaitInput is the input of wait.
type WaitInput struct {
	Ms    int    `json:"ms"`
	Value string `json:"value"`
}

// Uploaded describes an upload.
type Uploaded struct {
	ProjectID string `json:"projectId"`
	FileName  string `json:"fileName"`
	Size      int64  `json:"size"`
	Type      string `json:"type,omitempty"`
}

// Stamp is a value a superjson client with dedupe sends once and refers to.
type Stamp struct {
	At   time.Time        `json:"at"`
	Tags trpc.Set[string] `json:"tags"`
}

// RefsInput repeats one Stamp: the input and output of refs.echo. ByName,
// optional, holds it in a Map, whose references superjson writes as paths
// into the Map's entries ("byName.1.1").
type RefsInput struct {
	First  Stamp                   `json:"first"`
	Second Stamp                   `json:"second"`
	List   []Stamp                 `json:"list"`
	ByName trpc.Map[string, Stamp] `json:"byName,omitempty"`
}

// WhoAmI is the output of auth.whoami.
type WhoAmI struct {
	User string `json:"user"`
}

var errSecret = errors.New("database password is hunter2")

func newRouter(t trpc.Transformer, briefTTL, authTimeout time.Duration) *trpc.Router {
	r := trpc.NewRouter(trpc.Config{
		Transformer:     t,
		AuthTimeout:     authTimeout,
		MaxBodyBytes:    64 << 10,
		MaxUploadBytes:  1 << 20,
		SSEPingInterval: time.Second,
		SSERetry:        100 * time.Millisecond,
		AllowedOrigins:  []string{"allowed.example"},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		AuthFunc:        authenticate(briefTTL),
		SessionFunc: func(ctx context.Context) trpc.Session {
			u, _ := ctx.Value(userKey{}).(user)
			return trpc.Session{Expires: u.expires}
		},
		MapErrorFunc: func(err error) *trpc.Error {
			if errors.Is(err, errConflict) {
				return &trpc.Error{Code: trpc.CodeConflict, Message: "Already exists", Err: err}
			}
			return nil
		},
	})
	addCalls(r)
	addUploads(r)
	addAuthProcedures(r)
	trpc.Subscription(r, "counter", counter, trpc.Public())
	trpc.Stream(r, "ticks", ticks, trpc.Public())
	return r
}

// authenticate takes the token from connectionParams or the Authorization
// header: "secret" is alice, "brief" (when briefTTL is set) is alice with
// credentials that run out after briefTTL.
func authenticate(briefTTL time.Duration) func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
	return func(ctx context.Context, req trpc.AuthRequest) (context.Context, error) {
		token := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		if t := req.ConnectionParams["token"]; t != "" {
			token = t
		}
		if token == "brief" && briefTTL > 0 {
			return context.WithValue(ctx, userKey{}, user{name: "alice", expires: time.Now().Add(briefTTL)}), nil
		}
		if token != "secret" {
			return nil, errors.New("no valid token")
		}
		return context.WithValue(ctx, userKey{}, user{name: "alice"}), nil
	}
}

// addCalls registers the public queries and mutations: values, types, errors
// and timing.
func addCalls(r *trpc.Router) {
	trpc.Query(r, "greet", func(ctx context.Context, in GreetInput) (Greeting, error) {
		return Greeting{Text: "hello " + in.Name, At: time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)}, nil
	}, trpc.Public())
	trpc.Query(r, "post.byId", func(ctx context.Context, in PostByIDInput) (Post, error) {
		if in.ID != 1 {
			return Post{}, trpc.Errorf(trpc.CodeNotFound, "Post %d not found", in.ID)
		}
		return Post{ID: 1, Title: "first"}, nil
	}, trpc.Public())
	trpc.Mutation(r, "post.add", func(ctx context.Context, in PostAddInput) (Post, error) {
		if in.Title == "taken" {
			return Post{}, fmt.Errorf("insert post: %w", errConflict)
		}
		return Post{ID: 2, Title: in.Title, Tags: in.Tags}, nil
	}, trpc.Public())
	trpc.Query(r, "types.echo", func(ctx context.Context, in TypesInput) (TypesOutput, error) {
		return TypesOutput{
			At: in.At, Big: in.Big, Map: in.Map, Set: in.Set,
			Dates:    []time.Time{in.At, in.At.Add(time.Hour)},
			Nested:   trpc.Map[string, time.Time]{"a.b": in.At},
			Inf:      math.Inf(1),
			MaybeSet: in.Maybe != nil,
		}, nil
	}, trpc.Public())
	trpc.Query(r, "fail", func(ctx context.Context, in trpc.Void) (trpc.Void, error) {
		return trpc.Void{}, fmt.Errorf("load: %w", errSecret)
	}, trpc.Public())
	trpc.Mutation(r, "nothing", func(ctx context.Context, in trpc.Void) (trpc.Void, error) {
		return trpc.Void{}, nil
	}, trpc.Public())
	trpc.Query(r, "wait", func(ctx context.Context, in WaitInput) (string, error) {
		select {
		case <-time.After(time.Duration(in.Ms) * time.Millisecond):
			return in.Value, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, trpc.Public())
	trpc.Query(r, "limited", func(ctx context.Context, in trpc.Void) (trpc.Void, error) {
		return trpc.Void{}, &trpc.Error{Code: trpc.CodeTooManyRequests, Message: "Slow down", RetryAfter: 3 * time.Second}
	}, trpc.Public())
	trpc.Mutation(r, "refs.echo", func(ctx context.Context, in RefsInput) (RefsInput, error) {
		return in, nil
	}, trpc.Public())
}

// addUploads registers the mutations that take FormData and a Blob.
func addUploads(r *trpc.Router) {
	trpc.Mutation(r, "upload", func(ctx context.Context, in trpc.FormData) (Uploaded, error) {
		fh := in.File("file")
		if fh == nil {
			return Uploaded{}, &trpc.Error{Code: trpc.CodeBadRequest, Message: "file is required", FieldErrors: map[string]string{"file": "required"}}
		}
		return Uploaded{ProjectID: in.Value("projectId"), FileName: fh.Filename, Size: fh.Size}, nil
	}, trpc.Public())
	trpc.Mutation(r, "uploadBlob", func(ctx context.Context, in trpc.Blob) (Uploaded, error) {
		return Uploaded{Size: int64(len(in.Data)), Type: in.Type}, nil
	}, trpc.Public())
}

// addAuthProcedures registers the procedures that need a caller: they answer
// who it is.
func addAuthProcedures(r *trpc.Router) {
	trpc.Query(r, "auth.whoami", func(ctx context.Context, in trpc.Void) (WhoAmI, error) {
		u, _ := ctx.Value(userKey{}).(user)
		return WhoAmI{User: u.name}, nil
	})
	trpc.Subscription(r, "auth.events", func(ctx context.Context, in trpc.Void, lastEventID string, send func(trpc.Event[WhoAmI]) error) error {
		u, _ := ctx.Value(userKey{}).(user)
		return send(trpc.Event[WhoAmI]{ID: "1", Data: WhoAmI{User: u.name}})
	})
}

var errConflict = errors.New("conflict")

// counter sends 1, 2, 3, … as tracked events with the number as id,
// resuming after lastEventID, so a client that reconnects sees every
// number exactly once.
func counter(ctx context.Context, in CounterInput, lastEventID string, send func(trpc.Event[Count]) error) error {
	n := 0
	if lastEventID != "" {
		v, err := strconv.Atoi(lastEventID)
		if err != nil {
			return trpc.Errorf(trpc.CodeBadRequest, "bad lastEventId %q", lastEventID)
		}
		n = v
	}
	every := time.Duration(in.EveryMs) * time.Millisecond
	if every <= 0 {
		every = 10 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for in.To == 0 || n < in.To {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		n++
		if err := send(trpc.Event[Count]{ID: strconv.Itoa(n), Data: Count{N: n}}); err != nil {
			return err
		}
	}
	return nil
}

// ticks is a streaming query: it yields {n: 1…To, at} (at is a Date under
// superjson) and returns, or fails with CONFLICT when asked to.
func ticks(ctx context.Context, in TicksInput, yield func(Tick) error) error {
	for n := 1; in.To == 0 || n <= in.To; n++ {
		if err := yield(Tick{N: n, At: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}); err != nil {
			return err
		}
		if in.To == 0 {
			select { // an endless stream paces itself; it ends when the client leaves
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	if in.Fail {
		return trpc.Errorf(trpc.CodeConflict, "Ticks ran out")
	}
	return nil
}
