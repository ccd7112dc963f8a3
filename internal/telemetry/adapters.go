package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/trpc"
)

// durationBuckets spans a no-op job (sub-millisecond) to an image generation (minutes).
var durationBuckets = []float64{.001, .005, .01, .05, .1, .5, 1, 5, 15, 60, 180, 600}

// Queue returns the queue's metric hooks, and registers the job metrics.
func (m *Metrics) Queue() queue.Metrics {
	wait := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "packshot_job_wait_seconds", Help: "Time from a job becoming runnable to its run starting, by kind.",
		Buckets: durationBuckets,
	}, []string{"kind"})
	run := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "packshot_job_run_seconds", Help: "Handler run time by kind and outcome.",
		Buckets: durationBuckets,
	}, []string{"kind", "outcome"})
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_jobs_finished_total",
		Help: "Job runs by kind and outcome (completed, retried, snoozed, released, failed, cancelled).",
	}, []string{"kind", "outcome"})
	rescued := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_jobs_rescued_total", Help: "Jobs whose lease expired (their worker died) and that were returned to pending.",
	})
	m.Registry.MustRegister(wait, run, outcomes, rescued)
	return queue.Metrics{
		JobStartedFunc: func(kind string, d time.Duration) { wait.WithLabelValues(kind).Observe(d.Seconds()) },
		JobFinishedFunc: func(kind, outcome string, d time.Duration) {
			run.WithLabelValues(kind, outcome).Observe(d.Seconds())
			outcomes.WithLabelValues(kind, outcome).Inc()
		},
		RescuedFunc: func(n int) { rescued.Add(float64(n)) },
	}
}

// QueueDepth registers gauges read from the database at scrape time: jobs by status and
// kind, and the age of the oldest runnable pending job per kind. depth is typically
// (*queue.Client).Depth.
func (m *Metrics) QueueDepth(depth func(ctx context.Context) ([]queue.DepthStat, error)) {
	m.Registry.MustRegister(&depthCollector{
		depth: depth,
		count: prometheus.NewDesc("packshot_jobs", "Jobs in job_queue by status and kind.", []string{"status", "kind"}, nil),
		age: prometheus.NewDesc("packshot_job_oldest_pending_seconds",
			"Age of the oldest runnable pending job by kind: how far behind the workers are.", []string{"kind"}, nil),
		up: prometheus.NewDesc("packshot_jobs_scrape_ok", "1 if the queue depth could be read at this scrape.", nil, nil),
	})
}

type depthCollector struct {
	depth          func(ctx context.Context) ([]queue.DepthStat, error)
	count, age, up *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.age; ch <- c.up }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stats, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(s.Count), string(s.Status), s.Kind)
		if s.Status == queue.StatusPending {
			ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, s.OldestPendingAge.Seconds(), s.Kind)
		}
	}
}

// Notifier returns the notifier's metrics, and registers them. Call it once per
// process: one notifier serves the queue and realtime.
func (m *Metrics) Notifier() notifier.Metrics {
	n := &notifierMetrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "packshot_notifier_up", Help: "1 while this instance's LISTEN connection is up.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "packshot_notifier_reconnects_total", Help: "Attempts to replace the LISTEN connection (each success resyncs every subscriber and wakes the dispatcher).",
		}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "packshot_notifier_received_total", Help: "Notifications the LISTEN connection received, by topic (packshot_queue, packshot_realtime).",
		}, []string{"topic"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "packshot_notifier_send_failures_total", Help: "Payloads that could not be sent through NOTIFY, by topic (the queue's are dropped and found by polling; realtime retries its doorbells).",
		}, []string{"topic"}),
		missed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "packshot_notifier_heartbeats_missed_total", Help: "Heartbeats the LISTEN connection did not deliver in time (each replaces the connection).",
		}),
		rtt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "packshot_notifier_heartbeat_rtt_seconds", Help: "Time from sending a heartbeat NOTIFY to receiving it on the LISTEN connection.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
	}
	m.Registry.MustRegister(n.up, n.reconnects, n.received, n.failed, n.missed, n.rtt)
	return n
}

type notifierMetrics struct {
	up                 prometheus.Gauge
	reconnects, missed prometheus.Counter
	received, failed   *prometheus.CounterVec
	rtt                prometheus.Histogram
}

func (n *notifierMetrics) ConnectionUp(up bool) {
	if up {
		n.up.Set(1)
	} else {
		n.up.Set(0)
	}
}
func (n *notifierMetrics) Reconnect()            { n.reconnects.Inc() }
func (n *notifierMetrics) Received(topic string) { n.received.WithLabelValues(topic).Inc() }
func (n *notifierMetrics) SendFailed(topic string, payloads int) {
	n.failed.WithLabelValues(topic).Add(float64(payloads))
}
func (n *notifierMetrics) HeartbeatMissed()                   { n.missed.Inc() }
func (n *notifierMetrics) HeartbeatRoundTrip(d time.Duration) { n.rtt.Observe(d.Seconds()) }

// Realtime returns the realtime package's metric hooks, and registers its metrics.
func (m *Metrics) Realtime() *realtime.Metrics {
	subs := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "packshot_realtime_subscribers", Help: "Open realtime subscriptions on this instance.",
	})
	sent := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_realtime_doorbells_sent_total", Help: "Doorbells and progress messages this instance sent through NOTIFY.",
	})
	received := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_realtime_doorbells_received_total", Help: "Doorbells and progress messages this instance heard through its notifier.",
	})
	loads := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_realtime_snapshot_loads_total", Help: "Project snapshots loaded, each serving every subscriber of the project.",
	})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "packshot_realtime_fanout_lag_seconds", Help: "Time from a doorbell's publication to its snapshot reaching every subscriber's mailbox.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	userLoads := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_realtime_user_loads_total", Help: "Loads of a user's recent projects for list subscribers, each serving every list subscriber of the user.",
	})
	jobsLoads := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_realtime_jobs_loads_total", Help: "Loads of the job queue's state for the operators' job feed (admin.onJobsUpdate), each serving every job subscriber.",
	})
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "packshot_realtime_loads_dropped_total", Help: "Queued snapshot loads dropped because every subscriber that wanted them had left.",
	})
	m.Registry.MustRegister(subs, sent, received, loads, lag, userLoads, jobsLoads, dropped)
	return &realtime.Metrics{
		SubscribersFunc:       func(n int) { subs.Set(float64(n)) },
		DoorbellsSentFunc:     func(n int) { sent.Add(float64(n)) },
		DoorbellsReceivedFunc: func(n int) { received.Add(float64(n)) },
		SnapshotLoadsFunc:     loads.Inc,
		UserLoadsFunc:         userLoads.Inc,
		JobsLoadsFunc:         jobsLoads.Inc,
		LoadsDroppedFunc:      dropped.Inc,
		FanoutLagFunc:         func(d time.Duration) { lag.Observe(d.Seconds()) },
	}
}

// Providers returns the AI guard's observer, and registers the provider metrics.
func (m *Metrics) Providers() ai.GuardObserver {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_provider_calls_total",
		Help: "AI provider calls by provider and outcome (ok, transient, rate_limited, permanent, auth, canceled).",
	}, []string{"provider", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "packshot_provider_call_seconds", Help: "AI provider call latency by provider.",
		Buckets: durationBuckets,
	}, []string{"provider"})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_provider_rejected_total", Help: "Calls refused without a request because the provider was paused (the job was snoozed).",
	}, []string{"provider"})
	pauses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_provider_pauses_total", Help: "Provider pauses by reason (rate_limited: a 429; breaker: repeated 5xx or timeouts).",
	}, []string{"provider", "reason"})
	busy := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "packshot_provider_busy_total", Help: "Calls sent back because every one of the provider's slots in this instance was taken, or its probe was running (the job was snoozed, its worker freed).",
	}, []string{"provider"})
	waiting := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "packshot_provider_waiting_workers", Help: "Calls (each holding a worker) waiting for a provider slot or probe in this instance; 0 when busy calls are snoozed.",
	}, []string{"provider"})
	m.Registry.MustRegister(calls, latency, rejected, pauses, busy, waiting)
	return ai.GuardObserver{
		CallFunc: func(provider, outcome string, d time.Duration) {
			calls.WithLabelValues(provider, outcome).Inc()
			latency.WithLabelValues(provider).Observe(d.Seconds())
		},
		RejectFunc: func(provider string, _ time.Duration) { rejected.WithLabelValues(provider).Inc() },
		PauseFunc:  func(provider, reason string, _ time.Duration) { pauses.WithLabelValues(provider, reason).Inc() },
		BusyFunc:   func(provider string) { busy.WithLabelValues(provider).Inc() },
		WaitingFunc: func(provider string, delta int) {
			waiting.WithLabelValues(provider).Add(float64(delta))
		},
	}
}

// TRPC returns an observer of tRPC connections and calls, and registers its metrics.
func (m *Metrics) TRPC() trpc.Observer {
	o := &trpcObserver{
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "packshot_trpc_connections", Help: "Open WebSocket (ws) and SSE (sse) connections.",
		}, []string{"transport"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "packshot_trpc_calls_total", Help: "tRPC calls by procedure, transport and error code (empty on success).",
		}, []string{"path", "transport", "code"}),
	}
	m.Registry.MustRegister(o.conns, o.calls)
	return o
}

type trpcObserver struct {
	conns *prometheus.GaugeVec
	calls *prometheus.CounterVec
}

func (o *trpcObserver) ConnOpened(t trpc.Transport) { o.conns.WithLabelValues(string(t)).Inc() }
func (o *trpcObserver) ConnClosed(t trpc.Transport) { o.conns.WithLabelValues(string(t)).Dec() }
func (o *trpcObserver) CallDone(path string, t trpc.Transport, code trpc.Code, _ time.Duration) {
	o.calls.WithLabelValues(path, string(t), string(code)).Inc()
}
