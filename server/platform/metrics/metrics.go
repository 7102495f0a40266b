// Package metrics defines every Prometheus metric SecuMon exposes, once, on a registry of
// the process's own (never the global default one), and serves them for scraping.
//
// The parts of a process record through the methods of *Metrics; each method is a no-op on
// a nil *Metrics, so a part built without metrics (a test, a process with no metrics
// listener) needs no special case. Label values are bounded by construction: routes are
// mux patterns, check types and statuses and channel names are closed lists.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Notification delivery outcomes (the outcome label of secumon_notification_deliveries_total).
const (
	DeliverySent   = "sent"   // the receiver took it
	DeliveryRetry  = "retry"  // this attempt failed; another is scheduled
	DeliveryFailed = "failed" // the last attempt failed, or the failure is permanent
)

// lagBuckets suit delays measured against a schedule: from 10 ms to 5 min.
var lagBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// Metrics is one process's metrics.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	checkRuns      *prometheus.CounterVec
	schedulerLag   prometheus.Histogram
	resultsWritten prometheus.Counter
	digestLag      prometheus.Histogram
	deliveries     *prometheus.CounterVec
	eventStreams   prometheus.Gauge
	rateLimited    *prometheus.CounterVec
}

// New returns the metrics of a process, with the Go runtime's and the process's own.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) prometheus.Collector { reg.MustRegister(c); return c }
	m := &Metrics{reg: reg}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.httpRequests = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secumon_http_requests_total",
		Help: "HTTP requests answered, by route (the mux pattern, e.g. \"GET /api/v2/hosts/{id}\") and status code.",
	}, []string{"route", "code"})).(*prometheus.CounterVec)
	m.httpDuration = f(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "secumon_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route. Event streams count their whole life.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})).(*prometheus.HistogramVec)
	m.checkRuns = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secumon_check_runs_total",
		Help: "Checks run by this process's probe worker, by check type and result status.",
	}, []string{"type", "status"})).(*prometheus.CounterVec)
	m.schedulerLag = f(prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "secumon_scheduler_lag_seconds",
		Help:    "How late a scheduled check run was claimed after its due time.",
		Buckets: lagBuckets,
	})).(prometheus.Histogram)
	m.resultsWritten = f(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "secumon_results_written_total",
		Help: "Check results committed to the database by the batched results writer.",
	})).(prometheus.Counter)
	m.digestLag = f(prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "secumon_digest_lag_seconds",
		Help:    "Time from the oldest result of a result batch to the commit of its digest (latest results, rollups, incident evaluation).",
		Buckets: lagBuckets,
	})).(prometheus.Histogram)
	m.deliveries = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secumon_notification_deliveries_total",
		Help: "Notification delivery attempts, by channel type and outcome (sent, retry, failed).",
	}, []string{"channel", "outcome"})).(*prometheus.CounterVec)
	m.eventStreams = f(prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "secumon_event_streams_open",
		Help: "GET /events server-sent event streams open now.",
	})).(prometheus.Gauge)
	m.rateLimited = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secumon_rate_limited_requests_total",
		Help: "Requests refused with 429 by the rate limits, by reason (token, address, failed-auth).",
	}, []string{"reason"})).(*prometheus.CounterVec)
	return m
}

// Handler serves the metrics in the Prometheus exposition formats. A collector that fails
// (the queue-depth query timing out) drops its own series, not the whole scrape.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slogErrors{log},
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
	})
}

type slogErrors struct{ log *slog.Logger }

func (s slogErrors) Println(v ...any) { s.log.Warn("metrics", "err", v) }

// HTTPRequest records an answered request.
func (m *Metrics) HTTPRequest(route string, code int, took time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

// CheckRun records a run of a check of type checkType that ended with status (probes.Status's
// name: OK, WARNING, CRITICAL, UNKNOWN).
func (m *Metrics) CheckRun(checkType, status string) {
	if m == nil {
		return
	}
	m.checkRuns.WithLabelValues(checkType, status).Inc()
}

// SchedulerLag records how late a scheduled run was claimed.
func (m *Metrics) SchedulerLag(late time.Duration) {
	if m == nil {
		return
	}
	m.schedulerLag.Observe(max(late, 0).Seconds())
}

// ResultsWritten records n results committed.
func (m *Metrics) ResultsWritten(n int) {
	if m == nil {
		return
	}
	m.resultsWritten.Add(float64(n))
}

// DigestLag records how long after its oldest result a batch was digested.
func (m *Metrics) DigestLag(d time.Duration) {
	if m == nil {
		return
	}
	m.digestLag.Observe(max(d, 0).Seconds())
}

// Delivery records a notification delivery attempt on channel (notify's channel names)
// with outcome (DeliverySent, DeliveryRetry or DeliveryFailed).
func (m *Metrics) Delivery(channel, outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(channel, outcome).Inc()
}

// EventStreams adds delta (+1 opened, -1 closed) to the open event streams.
func (m *Metrics) EventStreams(delta int) {
	if m == nil {
		return
	}
	m.eventStreams.Add(float64(delta))
}

// RateLimited records a request refused by the rate limit named reason.
func (m *Metrics) RateLimited(reason string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(reason).Inc()
}

// DatabaseRestarts exposes restarts (the embedded PostgreSQL's restart count, kept by its
// supervisor) as secumon_embedded_postgres_restarts_total.
func (m *Metrics) DatabaseRestarts(restarts func() int64) {
	if m == nil || restarts == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "secumon_embedded_postgres_restarts_total",
		Help: "Times the supervisor restarted the embedded PostgreSQL after it stopped.",
	}, func() float64 { return float64(restarts()) }))
}

// QueueDepth is the number of jobs of one queue in one state.
type QueueDepth struct {
	Queue, State string
	Jobs         int64
}

// queueDepthTimeout bounds the query a scrape runs: a slow database must not hold scrapes.
const queueDepthTimeout = time.Second

// QueueDepths exposes the job queues' depths as secumon_queue_jobs, read by depths at each
// scrape (within a second; on failure the series are missing from that scrape).
func (m *Metrics) QueueDepths(depths func(context.Context) ([]QueueDepth, error)) {
	if m == nil || depths == nil {
		return
	}
	m.reg.MustRegister(queueCollector{depths})
}

var queueDesc = prometheus.NewDesc("secumon_queue_jobs",
	"Jobs waiting in a River queue, by queue and state (available, scheduled, retryable).", []string{"queue", "state"}, nil)

type queueCollector struct {
	depths func(context.Context) ([]QueueDepth, error)
}

func (q queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (q queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueDepthTimeout)
	defer cancel()
	rows, err := q.depths(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(r.Jobs), r.Queue, r.State)
	}
}
