package worker

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/openapi"
)

// A worker's location is what a check's locations may list: the contract's LocationName.
func TestValidLocationIsTheContracts(t *testing.T) {
	doc, err := openapi.Load(context.Background(), openapi.MainYAML)
	require.NoError(t, err)
	s := doc.Components.Schemas["LocationName"].Value
	require.NotNil(t, s)
	assert.Equal(t, s.Pattern, locationPattern.String())
	require.NotNil(t, s.MaxLength)
	for _, name := range []string{"local", "eu-west", "OVH BHS", "zone.1_a", "é-paris", "x"} {
		assert.True(t, ValidLocation(name), name)
		assert.NoError(t, s.VisitJSON(name), name)
	}
	for _, name := range []string{"", " lead", "trail ", "tab\tin", "nul\x00", string(make([]byte, 65))} {
		assert.False(t, ValidLocation(name), "%q", name)
		assert.Error(t, s.VisitJSON(name), "%q", name)
	}
	long := ""
	for range *s.MaxLength {
		long += "a"
	}
	assert.True(t, ValidLocation(long))
	assert.False(t, ValidLocation(long+"a"))
}
