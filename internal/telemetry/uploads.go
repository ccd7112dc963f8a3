package telemetry

import "github.com/prometheus/client_golang/prometheus"

// UploadMetrics counts the uploads the API reads and processes (every upload holds one of a capped number of slots).
type UploadMetrics struct {
	// InFlight is the number of uploads being read or processed now.
	InFlight prometheus.Gauge
	// Refused counts uploads refused because the in-flight cap was reached.
	Refused prometheus.Counter
}

// Uploads registers the upload metrics. Call it once per registry.
func (m *Metrics) Uploads() UploadMetrics {
	u := UploadMetrics{
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "packshot_uploads_in_flight", Help: "Uploads being read or processed now.",
		}),
		Refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "packshot_uploads_refused_total", Help: "Uploads refused because PACKSHOT_MAX_UPLOADS_IN_FLIGHT were in flight.",
		}),
	}
	m.Registry.MustRegister(u.InFlight, u.Refused)
	return u
}
