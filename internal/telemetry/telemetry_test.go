package telemetry

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/trpc"
)

// TestEveryDocumentedMetricIsExported drives each adapter once and checks that the
// operator-facing names appear on the scrape page, with the labels the README documents.
func TestEveryDocumentedMetricIsExported(t *testing.T) {
	t.Parallel()
	m := New()
	q := m.Queue()
	q.JobStartedFunc("image.main", 3*time.Millisecond)
	q.JobFinishedFunc("image.main", "completed", time.Second)
	q.RescuedFunc(2)
	m.QueueDepth(func(context.Context) ([]queue.DepthStat, error) {
		return []queue.DepthStat{{Status: queue.StatusPending, Kind: "image.main", Count: 7, OldestPendingAge: 4 * time.Second}}, nil
	})
	n := m.Notifier()
	n.ConnectionUp(true)
	n.Reconnect()
	n.Received("packshot_queue")
	n.SendFailed("packshot_realtime", 2)
	n.HeartbeatMissed()
	n.HeartbeatRoundTrip(time.Millisecond)
	rt := m.Realtime()
	rt.SubscribersFunc(3)
	rt.DoorbellsSentFunc(5)
	rt.DoorbellsReceivedFunc(5)
	rt.FanoutLagFunc(2 * time.Millisecond)
	p := m.Providers()
	p.CallFunc("openai", "rate_limited", time.Second)
	p.RejectFunc("openai", time.Second)
	p.PauseFunc("openai", "rate_limited", time.Second)
	o := m.TRPC()
	o.ConnOpened(trpc.TransportWebSocket)
	o.CallDone("project.get", trpc.TransportHTTP, "", time.Millisecond)
	m.ObserveHTTP("/api/projects/:id", "GET", "200", time.Millisecond, false)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	page := string(body)
	for _, want := range []string{
		`packshot_jobs{kind="image.main",status="pending"} 7`,
		`packshot_job_oldest_pending_seconds{kind="image.main"} 4`,
		`packshot_jobs_finished_total{kind="image.main",outcome="completed"} 1`,
		`packshot_jobs_rescued_total 2`,
		`packshot_job_wait_seconds_count{kind="image.main"} 1`,
		`packshot_notifier_up 1`,
		`packshot_notifier_reconnects_total 1`,
		`packshot_notifier_received_total{topic="packshot_queue"} 1`,
		`packshot_notifier_send_failures_total{topic="packshot_realtime"} 2`,
		`packshot_notifier_heartbeats_missed_total 1`,
		`packshot_notifier_heartbeat_rtt_seconds_count 1`,
		`packshot_realtime_doorbells_received_total 5`,
		`packshot_realtime_subscribers 3`,
		`packshot_realtime_fanout_lag_seconds_count 1`,
		`packshot_provider_calls_total{outcome="rate_limited",provider="openai"} 1`,
		`packshot_provider_pauses_total{provider="openai",reason="rate_limited"} 1`,
		`packshot_trpc_connections{transport="ws"} 1`,
		`packshot_http_requests_total{code="200",method="GET",route="/api/projects/:id"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
