package openai

import (
	"testing"

	"github.com/secuaas/secumon/server/domain/ai"
)

func TestEndpoint(t *testing.T) {
	for base, want := range map[string]string{
		"":                                 "https://api.openai.com/v1/chat/completions",
		"https://proxy.example/openai/v1":  "https://proxy.example/openai/v1/chat/completions",
		"https://proxy.example/openai/v1/": "https://proxy.example/openai/v1/chat/completions",
	} {
		if got := New(ai.Remote{APIKey: "k", BaseURL: base}, 1, 0).endpoint; got != want {
			t.Errorf("base URL %q: endpoint %q, want %q", base, got, want)
		}
	}
}
