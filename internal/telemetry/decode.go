package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/packshot/packshot/internal/imaging"
)

// Decode returns the image decode guard's observer, and registers its metrics: the
// budget's size and the bytes in use, decodes that waited for budget, and decodes
// refused before decoding by reason (the reasons are imaging's own constants).
func (m *Metrics) Decode(budgetBytes int64) imaging.DecodeObserver {
	size := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "packshot_decode_budget_bytes", Help: "Size of the image decode budget (PACKSHOT_DECODE_BUDGET_BYTES).",
	})
	inUse := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "packshot_decode_budget_in_use_bytes", Help: "Estimated memory of the image decodes running now.",
	})
	waits := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_decode_waits_total", Help: "Image decodes that waited for the decode budget.",
	})
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_decode_refusals_total",
		Help: "Images refused before decoding, by reason (costly_pixels: a progressive or CMYK JPEG over its pixel limit; " +
			"over_budget: a decode larger than the whole budget; wait: the caller gave up waiting for budget).",
	}, []string{"reason"})
	for _, r := range []string{imaging.RefusedPixels, imaging.RefusedBudget, imaging.RefusedWait} {
		refused.WithLabelValues(r)
	}
	size.Set(float64(budgetBytes))
	m.Registry.MustRegister(size, inUse, waits, refused)
	return imaging.DecodeObserver{
		InUseFunc:   func(n int64) { inUse.Set(float64(n)) },
		WaitFunc:    waits.Inc,
		RefusedFunc: func(reason string) { refused.WithLabelValues(reason).Inc() },
	}
}
