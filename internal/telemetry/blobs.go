package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/packshot/packshot/internal/pack"
)

// BlobCollector returns the blob garbage collector's metric hooks, and registers its
// metrics.
func (m *Metrics) BlobCollector() pack.BlobMetrics {
	deleted := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_blobs_collected_total", Help: "Blobs deleted by the garbage collector because no row referenced them.",
	})
	bytes := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_blobs_collected_bytes_total", Help: "Bytes of the blobs the garbage collector deleted.",
	})
	errs := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_blob_collector_errors_total", Help: "Blob deletions and collector runs that failed (retried on a later run).",
	})
	m.Registry.MustRegister(deleted, bytes, errs)
	return pack.BlobMetrics{
		DeletedFunc: func(n int, b int64) { deleted.Add(float64(n)); bytes.Add(float64(b)) },
		ErrorsFunc:  func(n int) { errs.Add(float64(n)) },
	}
}
