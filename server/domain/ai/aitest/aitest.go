// Package aitest runs loopback HTTP servers that speak the wire formats of the remote AI
// providers (Anthropic's Messages API, OpenAI's Chat Completions API), so that tests drive the
// real provider clients through their base-URL setting and nothing leaves the machine; and the
// River worker of incident analysis, as `secumon serve` runs it.
package aitest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/analysis"
	"github.com/secuaas/secumon/server/domain/ai/providers"
)

// Answer is what the fake provider answers to one request.
type Answer struct {
	// JSON is the structured answer ({"tags":[…]} or {"findings":[…]}): the forced tool call's
	// input for Anthropic, the message content for OpenAI.
	JSON any
	// Text replaces JSON with a plain text answer (no tool call; non-JSON content).
	Text  string
	Usage ai.Usage
	// Status, when not 0, answers an API error with this HTTP status instead.
	Status int
	// Header is added to the answer's headers (Retry-After, x-should-retry…).
	Header http.Header
}

// Request is one request the fake provider received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   map[string]any
}

// Server is a fake provider. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to configure (SECUMON_AI_*_BASE_URL).
	URL string

	mu       sync.Mutex
	requests []Request
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls is how many requests the server received.
func (s *Server) Calls() int { return len(s.Requests()) }

// AnswerFunc decides the answer to the n-th request (from 1).
type AnswerFunc func(n int, r Request) Answer

// ErrorMessage is the message of the fakes' API errors.
const ErrorMessage = "fake failure"

// Anthropic starts a fake Messages API (POST /v1/messages) for the duration of t. Its API
// errors are of type api_error.
func Anthropic(t testing.TB, answer AnswerFunc) *Server {
	s := &Server{}
	s.URL = start(t, s, "/v1/messages", answer, func(r Request, a Answer) (int, any) {
		if a.Status != 0 {
			return a.Status, map[string]any{"type": "error", "error": map[string]any{"type": "api_error", "message": ErrorMessage}}
		}
		tool, _ := r.Body["tool_choice"].(map[string]any)["name"].(string)
		content := []any{map[string]any{"type": "tool_use", "id": "toolu_fake", "name": tool, "input": a.JSON}}
		stop := "tool_use"
		if a.Text != "" {
			content, stop = []any{map[string]any{"type": "text", "text": a.Text}}, "end_turn"
		}
		return http.StatusOK, map[string]any{
			"id": "msg_fake", "type": "message", "role": "assistant", "model": r.Body["model"], "content": content,
			"stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": a.Usage.InputTokens, "output_tokens": a.Usage.OutputTokens,
				"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
		}
	})
	return s
}

// OpenAI starts a fake Chat Completions API (POST /v1/chat/completions) for the duration of
// t; its URL ends in /v1/ as OpenAI's base URL does. Its API errors are of type
// server_error.
func OpenAI(t testing.TB, answer AnswerFunc) *Server {
	s := &Server{}
	base := start(t, s, "/v1/chat/completions", answer, func(r Request, a Answer) (int, any) {
		if a.Status != 0 {
			return a.Status, map[string]any{"error": map[string]any{"message": ErrorMessage, "type": "server_error", "param": nil, "code": nil}}
		}
		content := a.Text
		if content == "" {
			b, err := json.Marshal(a.JSON)
			if err != nil {
				panic(err)
			}
			content = string(b)
		}
		return http.StatusOK, map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": 1750000000, "model": r.Body["model"],
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
				"message": map[string]any{"role": "assistant", "content": content, "refusal": nil}}},
			"usage": map[string]any{"prompt_tokens": a.Usage.InputTokens, "completion_tokens": a.Usage.OutputTokens,
				"total_tokens": a.Usage.InputTokens + a.Usage.OutputTokens},
		}
	})
	s.URL = base + "/v1/"
	return s
}

func start(t testing.TB, s *Server, path string, answer AnswerFunc, reply func(Request, Answer) (int, any)) string {
	t.Helper()
	mux := http.NewServeMux()
	// Every method is recorded, so that a test sees a request of the wrong method; only POST
	// is answered.
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: map[string]any{}}
		if err := json.Unmarshal(raw, &req.Body); err != nil && len(raw) > 0 {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		n := len(s.requests)
		s.mu.Unlock()
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a := answer(n, req)
		status, body := reply(req, a)
		for k, vs := range a.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
	srv := httptest.NewServer(mux) // loopback only
	t.Cleanup(srv.Close)
	return srv.URL
}

// RunAnalysis works the analysis queue with the providers of set until the test ends, as
// `secumon serve` does, polling often so that steps follow each other quickly.
func RunAnalysis(t testing.TB, pool *pgxpool.Pool, set *providers.Set) {
	t.Helper()
	workers, queue := river.NewWorkers(), analysis.QueueOf(set)
	if err := queue.Register(workers); err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:        map[string]river.QueueConfig{analysis.Queue: {MaxWorkers: 4}},
		Workers:       workers,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Stop(context.Background()) })
}
