// Package metrics implements extproc.Metrics with Prometheus, on a registry
// of its own (no global state), and serves it over HTTP. It lives beside
// extproc so that the gateway's core depends only on its small interface.
//
// Label values are bounded: methods outside the MCP specification count as
// "other", and backend and tool names (tools are chosen by whoever sends
// the request) keep their own label only for the first maxBackends and
// maxTools distinct values seen, after which they count as "_other".
package metrics

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Caps on attacker-influenced label values.
const (
	maxBackends = 64
	maxTools    = 256 // over all backends
	maxLabelLen = 64
	otherLabel  = "_other"
)

// Prometheus counts the gateway's work. The zero value is not usable; call New.
type Prometheus struct {
	reg       *prometheus.Registry
	streams   *prometheus.CounterVec
	messages  *prometheus.CounterVec
	toolCalls *prometheus.CounterVec
	findings  *prometheus.CounterVec
	decisions *prometheus.CounterVec
	drift     *prometheus.CounterVec
	phase     *prometheus.HistogramVec
	scanned   *prometheus.CounterVec
	errors    *prometheus.CounterVec
	score     *prometheus.GaugeVec

	backends capped
	tools    capped

	mu     sync.Mutex
	scores map[string]float64        // as set, for the admin page
	source func() map[string]float64 // read before each scrape; nil: SetScore only
}

// New returns metrics registered on a fresh registry, with the Go runtime
// and process collectors.
func New() *Prometheus {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "mcpgate", Name: name, Help: help}, labels)
	}
	p := &Prometheus{
		reg:       prometheus.NewRegistry(),
		streams:   counter("streams_total", "ext_proc streams (HTTP exchanges) by backend.", "backend"),
		messages:  counter("messages_total", "JSON-RPC requests and notifications from clients, by backend and method (non-spec methods count as other).", "backend", "method"),
		toolCalls: counter("tool_calls_total", "tools/call requests by backend and tool (capped: later distinct tools count as _other).", "backend", "tool"),
		findings:  counter("findings_total", "Detector findings by backend, rule, category, severity and whether a suppression matched.", "backend", "rule", "category", "severity", "suppressed"),
		decisions: counter("decisions_total", "Audit decisions by backend and event: the action taken and the one active mode takes.", "backend", "event", "action", "would_action"),
		drift:     counter("drift_total", "Pin changes (tool, prompt, template, instructions drift) by backend and kind.", "backend", "kind"),
		phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "mcpgate", Name: "phase_duration_seconds",
			Help:    "Time to judge one ext_proc message, by phase.",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 16)}, []string{"phase"}),
		scanned: counter("scanned_bytes_total", "Bytes of JSON-RPC bodies judged, by backend and direction.", "backend", "direction"),
		errors:  counter("errors_total", "Failures that are not policy decisions, by kind.", "kind"),
		score: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "mcpgate", Name: "backend_score",
			Help: "Latest security score of a backend (0-100)."}, []string{"backend"}),
		backends: capped{max: maxBackends},
		tools:    capped{max: maxTools},
	}
	p.reg.MustRegister(p.streams, p.messages, p.toolCalls, p.findings, p.decisions, p.drift, p.phase, p.scanned,
		p.errors, p.score, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p
}

// Handler serves the registry in the Prometheus exposition formats.
func (p *Prometheus) Handler() http.Handler {
	h := promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.refreshScores()
		h.ServeHTTP(w, r)
	})
}

// ScoresFrom makes each scrape (and Scores) read the backends' latest
// scores from f, such as the gateway's in-band MCP Score, so nothing has
// to push them.
func (p *Prometheus) ScoresFrom(f func() map[string]float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.source = f
}

func (p *Prometheus) refreshScores() {
	p.mu.Lock()
	f := p.source
	p.mu.Unlock()
	if f == nil {
		return
	}
	for b, s := range f() {
		p.SetScore(b, s)
	}
}

// Registry is where the metrics live, for tests and extra collectors.
func (p *Prometheus) Registry() *prometheus.Registry { return p.reg }

// SetScore records a backend's latest score.
func (p *Prometheus) SetScore(backend string, score float64) {
	p.score.WithLabelValues(p.backend(backend)).Set(score)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scores == nil {
		p.scores = map[string]float64{}
	}
	if _, ok := p.scores[backend]; ok || len(p.scores) < maxBackends {
		p.scores[backend] = score
	}
}

// Scores returns the scores set so far, by backend.
func (p *Prometheus) Scores() map[string]float64 {
	p.refreshScores()
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.scores)
}

// StreamStarted implements extproc.Metrics.
func (p *Prometheus) StreamStarted(backend string) {
	p.streams.WithLabelValues(p.backend(backend)).Inc()
}

// Message implements extproc.Metrics.
func (p *Prometheus) Message(backend, method, tool string) {
	b := p.backend(backend)
	p.messages.WithLabelValues(b, methodLabel(method)).Inc()
	if method == "tools/call" {
		t := trim(tool)
		if !p.tools.keep(b + "\x00" + t) {
			t = otherLabel
		}
		p.toolCalls.WithLabelValues(b, t).Inc()
	}
}

// Finding implements extproc.Metrics.
func (p *Prometheus) Finding(backend, rule, category, severity string, suppressed bool) {
	p.findings.WithLabelValues(p.backend(backend), trim(rule), trim(category), trim(severity), strconv.FormatBool(suppressed)).Inc()
}

// Decision implements extproc.Metrics.
func (p *Prometheus) Decision(backend, event, action, wouldAction string) {
	p.decisions.WithLabelValues(p.backend(backend), trim(event), trim(action), trim(wouldAction)).Inc()
}

// Drift implements extproc.Metrics.
func (p *Prometheus) Drift(backend, kind string) {
	p.drift.WithLabelValues(p.backend(backend), trim(kind)).Inc()
}

// Phase implements extproc.Metrics.
func (p *Prometheus) Phase(phase string, d time.Duration) {
	p.phase.WithLabelValues(phase).Observe(d.Seconds())
}

// Scanned implements extproc.Metrics.
func (p *Prometheus) Scanned(backend, direction string, n int) {
	p.scanned.WithLabelValues(p.backend(backend), direction).Add(float64(n))
}

// Error implements extproc.Metrics.
func (p *Prometheus) Error(kind string) { p.errors.WithLabelValues(trim(kind)).Inc() }

func (p *Prometheus) backend(name string) string {
	if b := trim(name); p.backends.keep(b) {
		return b
	}
	return otherLabel
}

// capped keeps the first max distinct keys it is asked about.
type capped struct {
	max  int
	mu   sync.Mutex
	seen map[string]bool
}

// keep reports whether key has, or now gets, a label of its own.
func (c *capped) keep(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[key] {
		return true
	}
	if len(c.seen) >= c.max {
		return false
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[key] = true
	return true
}

// trim bounds a label value's length at a rune boundary; Prometheus
// refuses invalid UTF-8.
func trim(s string) string {
	if len(s) > maxLabelLen {
		n := maxLabelLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\ufffd")
}
