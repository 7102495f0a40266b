package tagging_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/tagging"
)

func TestMergeNeverOverwritesUserTags(t *testing.T) {
	current := map[string]string{
		"env":         "prod",        // a user's tag
		"role":        "frontend",    // a user's tag that AI also has an opinion about
		"ai:role":     "web-server",  // AI's from last time, untouched: AI's to replace
		"ai:os":       "windows-fix", // AI wrote "windows", a user corrected it: the user's now
		"ai:vendor":   "cisco",       // AI's from last time, no longer found: dropped
		"ai:location": "paris",       // set by a user under ai:, never written by AI
	}
	prev := map[string]string{"ai:role": "web-server", "ai:os": "windows", "ai:vendor": "cisco"}
	found := []ai.Tag{{Key: "role", Value: "load-balancer"}, {Key: "os", Value: "linux"}, {Key: "environment", Value: "production"}}

	tags, written := tagging.Merge(current, prev, found)
	assert.Equal(t, map[string]string{
		"env": "prod", "role": "frontend", "ai:role": "load-balancer", "ai:os": "windows-fix",
		"ai:location": "paris", "ai:environment": "production",
	}, tags)
	assert.Equal(t, map[string]string{"ai:role": "load-balancer", "ai:environment": "production"}, written)
	assert.Equal(t, "windows-fix", current["ai:os"], "the input map is not modified")
}

func TestMergeKeepsTheTagLimit(t *testing.T) {
	current := map[string]string{}
	for i := range 63 {
		current[fmt.Sprintf("k%d", i)] = "v"
	}
	tags, written := tagging.Merge(current, nil, []ai.Tag{{Key: "role", Value: "database"}, {Key: "os", Value: "linux"}})
	assert.Len(t, tags, 64)
	assert.Equal(t, map[string]string{"ai:role": "database"}, written)
}
