package anthropic

import (
	"testing"

	"github.com/secuaas/secumon/server/domain/ai"
)

func TestEndpoint(t *testing.T) {
	for base, want := range map[string]string{
		"":                                 "https://api.anthropic.com/v1/messages",
		"https://proxy.example/anthropic/": "https://proxy.example/anthropic/v1/messages",
		"https://proxy.example/anthropic":  "https://proxy.example/anthropic/v1/messages",
	} {
		if got := New(ai.Remote{APIKey: "k", BaseURL: base}, 1, 0).endpoint; got != want {
			t.Errorf("base URL %q: endpoint %q, want %q", base, got, want)
		}
	}
}
