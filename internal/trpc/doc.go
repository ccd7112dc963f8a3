// Package trpc speaks the tRPC v11 wire protocol, so the published
// @trpc/client talks to Go procedures with no adapter: httpLink,
// httpBatchLink, httpBatchStreamLink (JSONL), httpSubscriptionLink (SSE) and
// wsLink, with plain JSON or the superjson transformer.
//
// Register typed procedures on a Router, then serve its two handlers:
//
//	r := trpc.NewRouter(trpc.Config{Transformer: trpc.TransformerSuperJSON})
//	trpc.Query(r, "project.get", func(ctx context.Context, in GetInput) (Project, error) { … })
//	trpc.Subscription(r, "project.onUpdate", func(ctx context.Context, in GetInput, lastEventID string, send func(trpc.Event[Project]) error) error { … })
//	mux.Handle("/trpc/", r.HTTPHandler())
//	mux.Handle("/ws", r.WebSocketHandler())
//
// Inputs are decoded with encoding/json (after superjson's meta values and
// referentialEqualities are applied, adding at most the input's own size in
// bytes and nesting at most Config.MaxInputDepth) and validated by their
// Validate method if they have one. An input in the other transformer's shape is refused with
// a BAD_REQUEST that names PACKSHOT_TRPC_TRANSFORMER, sent in the client's
// transformer so that it can read it. Errors reach the client as tRPC error
// envelopes: an *Error as is, anything else through Config.MapErrorFunc or as
// a generic INTERNAL_SERVER_ERROR. Input validation errors also carry
// data.zodError, zod's error.flatten() as create-t3-app's errorFormatter sends
// it (null on other errors).
//
// Long-lived connections are bounded (limits.go): connections per client
// address and per user, calls and subscriptions per WebSocket, a deadline for
// connectionParams, the message size. A refusal is a tRPC error whose message
// names the Limit; Config.LimitRefusedFunc counts it. A WebSocket whose
// credentials expire (Config.SessionFunc) refuses new calls and asks its client
// to reconnect. A panic in caller work becomes INTERNAL_SERVER_ERROR for that
// call; the connection and the process carry on.
//
// Outputs are encoded like encoding/json (tags, omitempty, MarshalJSON),
// except that nil slices and maps are sent as [] and {}, and under superjson
// time.Time becomes a Date, big.Int a bigint, Map a Map, Set a Set and
// NaN/±Inf numbers stay numbers. WriteTypeScript emits the matching
// AppRouter type for createTRPCClient and, given options, the application's
// vocabulary (string unions, their value lists, constants) beside it.
//
// The package depends on the standard library and github.com/coder/websocket
// only; the README section "Using packshot from a tRPC client" shows the client side.
package trpc
