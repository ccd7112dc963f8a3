package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/packshot/packshot/internal/trpc"
)

// TRPCLimits returns the tRPC router's LimitRefusedFunc, and registers the counter of
// connection-limit refusals. Its label values are the router's own trpc.Limit names.
func (m *Metrics) TRPCLimits() func(trpc.Limit) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_trpc_limit_refusals_total",
		Help: "WebSocket and SSE requests refused by a connection limit, by limit (conns_per_ip, conns_per_user, conns_total, ws_auth_timeout, ws_unauthenticated, ws_calls_in_flight, ws_subscriptions, ws_message_bytes, sse_tickets_per_user), and tRPC inputs refused by a superjson input limit (superjson_input_expansion, superjson_input_depth).",
	}, []string{"limit"})
	m.Registry.MustRegister(refused)
	return func(l trpc.Limit) { refused.WithLabelValues(string(l)).Inc() }
}
