package telemetry

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/imaging"
)

// TestDecodeMetrics drives the decode guard's observer once and checks the names and
// labels the README documents.
func TestDecodeMetrics(t *testing.T) {
	t.Parallel()
	m := New()
	o := m.Decode(768 << 20)
	o.InUseFunc(123)
	o.WaitFunc()
	o.RefusedFunc(imaging.RefusedPixels)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"packshot_decode_budget_bytes 8.05306368e+08",
		"packshot_decode_budget_in_use_bytes 123",
		"packshot_decode_waits_total 1",
		`packshot_decode_refusals_total{reason="costly_pixels"} 1`,
		`packshot_decode_refusals_total{reason="over_budget"} 0`,
		`packshot_decode_refusals_total{reason="wait"} 0`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("the scrape page lacks %q", want)
		}
	}
}
