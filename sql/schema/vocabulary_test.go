package schema_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/sql/schema"
)

// TestMigrationsSpeakTheGoVocabulary ties the names the migrations spell out (applied
// migrations cannot take them from Go) to their one definition in Go: the check types to
// probes.Types, the notification channels to notify's constants, and the channel the triggers
// notify on to incidents.EventsChannel.
func TestMigrationsSpeakTheGoVocabulary(t *testing.T) {
	var all strings.Builder
	files, err := fs.Glob(schema.FS, "*.sql")
	require.NoError(t, err)
	for _, f := range files {
		b, err := fs.ReadFile(schema.FS, f)
		require.NoError(t, err)
		up, _, _ := strings.Cut(string(b), "-- +goose Down") // what a database has after every Up
		all.WriteString(up)
	}
	sql := all.String()

	// The list a column's CHECK allows: the newest migration's (a later one replaces the
	// constraint when a name is added).
	inList := func(column string) []string {
		m := regexp.MustCompile(`CHECK \(`+column+` IN \(([^)]*)\)\)`).FindAllStringSubmatch(sql, -1)
		require.NotEmpty(t, m, "a CHECK on %s", column)
		// A later migration replaces the constraint (new check types): the last one is in effect.
		var names []string
		for _, v := range strings.Split(m[len(m)-1][1], ",") {
			names = append(names, strings.Trim(strings.TrimSpace(v), "'"))
		}
		return names
	}
	assert.ElementsMatch(t, probes.Types(), inList("check_type"))
	assert.ElementsMatch(t, []string{notify.ChannelEmail, notify.ChannelWebhook, notify.ChannelSlack, notify.ChannelSMS, notify.ChannelVoice}, inList("channel"))

	notified := regexp.MustCompile(`pg_notify\('([^']*)'`).FindAllStringSubmatch(sql, -1)
	require.NotEmpty(t, notified)
	for _, m := range notified {
		assert.Equal(t, incidents.EventsChannel, m[1])
	}
}
