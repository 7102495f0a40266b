package public

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
)

// TestComponentSlugsAreBadgeKeys: every component's slug reaches its badge. A name without
// ASCII letters or digits, or one that slugifies to "overall" (the page's own badge), takes
// the component's id, as a name already taken does.
func TestComponentSlugsAreBadgeKeys(t *testing.T) {
	host := uuid.New()
	rows := []db.StatusPageComponentStatesRow{
		{ID: uuid.New(), Name: "Site web", HostID: &host, TargetHostID: host},
		{ID: uuid.New(), Name: "日本", HostID: &host, TargetHostID: host},
		{ID: uuid.New(), Name: "Overall", HostID: &host, TargetHostID: host},
		{ID: uuid.New(), Name: "Site  web!", HostID: &host, TargetHostID: host},
	}
	since := time.Now().UTC().Truncate(24 * time.Hour)
	cs := components(rows, nil, nil, since, 1)
	require.Len(t, cs, 4)
	assert.Equal(t, "site-web", cs[0].Slug)
	for _, c := range cs[1:] {
		assert.Equal(t, c.Id.String(), c.Slug, c.Name)
	}
	v := view{snapshot: &snapshot{}}
	v.status.Components = cs
	for _, c := range cs {
		got, ok := v.component(c.Slug)
		require.True(t, ok, c.Name)
		assert.Equal(t, c.Id, got.Id, c.Name)
	}
}
