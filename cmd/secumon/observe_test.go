package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

// otlpReceiver is a loopback OTLP/HTTP collector: it decodes what POST /v1/traces receives.
type otlpReceiver struct {
	URL      string
	mu       sync.Mutex
	requests int
	spans    []*tracepb.Span
	services []string // service.name of each resource received
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return serveOTLP(t, l)
}

func serveOTLP(t *testing.T, l net.Listener) *otlpReceiver {
	t.Helper()
	rcv := &otlpReceiver{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rcv.mu.Lock()
		rcv.requests++
		rcv.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					rcv.services = append(rcv.services, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				rcv.spans = append(rcv.spans, ss.Spans...)
			}
		}
		rcv.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	rcv.URL = srv.URL
	return rcv
}

func (r *otlpReceiver) snapshot() (requests int, spans []*tracepb.Span, services []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]*tracepb.Span(nil), r.spans...), append([]string(nil), r.services...)
}

func attr(s *tracepb.Span, key string) (string, int64, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.GetValue().GetStringValue(), kv.GetValue().GetIntValue(), true
		}
	}
	return "", 0, false
}

// jsonServe is `secumon serve --log-format json` with its output, every line of which is
// kept for the test to check.
type jsonServe struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	lines   []string // stdout and stderr, in arrival order per stream
	done    sync.WaitGroup
	dataDir string
	url     string
}

func (s *jsonServe) output() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

var listeningURL = regexp.MustCompile(`"msg":"listening","url":"(http://[^"]+)"`)

// startJSONServe runs the binary with env (OTEL_* and SECUMON_* variables of the test's own
// environment removed) plus extra, and waits for its "listening" line.
func startJSONServe(t *testing.T, bin, dsn string, extra ...string) *jsonServe {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "SECUMON_") {
			env = append(env, kv)
		}
	}
	s := &jsonServe{dataDir: t.TempDir()}
	env = append(env, "DATABASE_URL="+dsn, "SECUMON_DATA_DIR="+s.dataDir, "SECUMON_LOG_FORMAT=json")
	s.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	s.cmd.Env = append(env, extra...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := s.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	urls := make(chan string, 1)
	for _, r := range []io.Reader{stdout, stderr} {
		s.done.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				s.mu.Lock()
				s.lines = append(s.lines, sc.Text())
				s.mu.Unlock()
				if m := listeningURL.FindStringSubmatch(sc.Text()); m != nil {
					urls <- m[1]
				}
			}
		})
	}
	select {
	case s.url = <-urls:
	case <-time.After(60 * time.Second):
		t.Fatalf("secumon serve did not start:\n%s", strings.Join(s.output(), "\n"))
	}
	return s
}

// stop interrupts the process, waits for a clean exit and for its last lines.
func (s *jsonServe) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGINT))
	exited := make(chan error, 1)
	go func() { s.done.Wait(); exited <- s.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "secumon serve should exit 0:\n%s", strings.Join(s.output(), "\n"))
	case <-time.After(60 * time.Second):
		t.Fatal("secumon serve did not stop on SIGINT")
	}
}

// get sends GET path with the owner token and a traceparent naming traceID and parentID.
func (s *jsonServe) get(t *testing.T, path, traceID, parentID string) *http.Response {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(s.dataDir, admin.OwnerTokenFile))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res
}

func buildSecumon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "secumon")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// With an OTLP endpoint, a request carrying a traceparent is exported as a server span that
// is a child of the caller's, named after its route template, with database spans under it
// named after their sqlc queries; and with --log-format json, every line the process writes
// from start (migrations included) to exit is JSON, the access line naming the route, the
// workspace, the request id and the trace.
func TestServeTracesAndLogsJSON(t *testing.T) {
	_, dsn := dbtest.New(t)
	bin := buildSecumon(t)
	rcv := newOTLPReceiver(t)
	// A short batch delay so that spans arrive while the test waits, not only at exit.
	s := startJSONServe(t, bin, dsn, "SECUMON_OTLP_ENDPOINT="+rcv.URL, "OTEL_BSP_SCHEDULE_DELAY=100")

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	res := s.get(t, "/api/v2/hosts", traceID, parentID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	requestID := res.Header.Get("X-Request-ID")
	require.NotEmpty(t, requestID)

	var server *tracepb.Span
	var queries []*tracepb.Span
	require.Eventually(t, func() bool {
		_, spans, _ := rcv.snapshot()
		server, queries = nil, nil
		for _, sp := range spans {
			if hex.EncodeToString(sp.TraceId) != traceID {
				continue
			}
			if sp.Kind == tracepb.Span_SPAN_KIND_SERVER {
				server = sp
			}
		}
		for _, sp := range spans {
			if server != nil && bytes.Equal(sp.ParentSpanId, server.SpanId) {
				if v, _, _ := attr(sp, "db.system"); v == "postgresql" {
					queries = append(queries, sp)
				}
			}
		}
		return server != nil && len(queries) > 0
	}, 15*time.Second, 50*time.Millisecond, "a server span of trace %s with database spans under it", traceID)

	assert.Equal(t, "GET /api/v2/hosts", server.Name)
	assert.Equal(t, parentID, hex.EncodeToString(server.ParentSpanId), "the caller's span is the parent")
	route, _, _ := attr(server, "http.route")
	assert.Equal(t, "/api/v2/hosts", route)
	_, status, _ := attr(server, "http.response.status_code")
	assert.EqualValues(t, http.StatusOK, status)
	method, _, _ := attr(server, "http.request.method")
	assert.Equal(t, "GET", method)
	ws, _, _ := attr(server, "secumon.workspace_id")
	assert.NotEmpty(t, ws)
	rid, _, _ := attr(server, "secumon.request_id")
	assert.Equal(t, requestID, rid)
	var names []string
	for _, q := range queries {
		names = append(names, q.Name)
		for _, kv := range q.Attributes {
			assert.NotContains(t, kv.Key, "db.query.parameter", "no parameter values")
			assert.NotEqual(t, "db.query.text", kv.Key, "no SQL text")
		}
	}
	assert.Contains(t, names, "ListHosts", "the sqlc query name: %v", names)
	_, _, services := rcv.snapshot()
	assert.Contains(t, services, "secumon")

	s.stop(t)
	var access map[string]any
	lines := s.output()
	require.NotEmpty(t, lines)
	var migrations int
	for _, line := range lines {
		var m map[string]any
		if !assert.NoError(t, json.Unmarshal([]byte(line), &m), "every line is JSON: %q", line) {
			continue
		}
		if m["msg"] == "http" && m["path"] == "/api/v2/hosts" {
			access = m
		}
		if m["msg"] == "migration applied" || m["msg"] == "database schema up to date" {
			migrations++
		}
	}
	assert.Positive(t, migrations, "the migration lines are among the checked lines")
	require.NotNil(t, access, "an access line for the request:\n%s", strings.Join(lines, "\n"))
	assert.Equal(t, "/api/v2/hosts", access["route"])
	assert.Equal(t, ws, access["workspace_id"])
	assert.Equal(t, requestID, access["request_id"])
	assert.Equal(t, traceID, access["trace_id"])
	assert.Equal(t, hex.EncodeToString(server.SpanId), access["span_id"])
}

// With no endpoint configured (no --otlp-endpoint, SECUMON_OTLP_ENDPOINT or OTEL_EXPORTER_*),
// tracing is off: nothing is sent anywhere, even at exit, and the access line names no trace.
func TestServeWithoutEndpointDoesNotTrace(t *testing.T) {
	_, dsn := dbtest.New(t)
	bin := buildSecumon(t)
	// The receiver listens where an exporter with no endpoint would send (the OTLP/HTTP
	// default, localhost:4318), so an exporter made by mistake would be seen.
	l, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		t.Skipf("the OTLP default port is taken here: %v", err)
	}
	rcv := serveOTLP(t, l)
	s := startJSONServe(t, bin, dsn, "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_SERVICE_NAME=should-not-matter")
	res := s.get(t, "/api/v2/hosts", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	require.Equal(t, http.StatusOK, res.StatusCode)
	time.Sleep(500 * time.Millisecond) // five batch delays
	s.stop(t)
	requests, _, _ := rcv.snapshot()
	assert.Zero(t, requests, "no request reaches a collector when tracing is off")
	var seen bool
	for _, line := range s.output() {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "every line is JSON: %q", line)
		if m["msg"] == "http" && m["path"] == "/api/v2/hosts" {
			seen = true
			assert.NotContains(t, m, "trace_id")
			assert.NotEmpty(t, m["request_id"])
			assert.Equal(t, "/api/v2/hosts", m["route"])
		}
		assert.NotEqual(t, "tracing on", m["msg"])
	}
	assert.True(t, seen, "the access line was written")
}
