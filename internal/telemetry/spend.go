package telemetry

import "github.com/prometheus/client_golang/prometheus"

// SpendRefusals returns the pack service's spend-limit observer (pack.SpendLimits.RefusedFunc),
// and registers its counter. limit is one of the pack package's LimitAI… names, never
// caller input.
func (m *Metrics) SpendRefusals() func(limit string) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_ai_spend_refusals_total",
		Help: "Requests refused by an AI spend limit (ai_jobs_in_flight, ai_user_daily_budget, ai_global_daily_budget).",
	}, []string{"limit"})
	m.Registry.MustRegister(refused)
	return func(limit string) { refused.WithLabelValues(limit).Inc() }
}
