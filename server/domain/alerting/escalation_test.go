package alerting_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/alerting"
)

// Time slots are local to the target's zone, on the days they start; a slot ending before it
// starts runs past midnight into the next day.
func TestTargetTimeSlots(t *testing.T) {
	office := alerting.EscalationTarget{Timezone: "Europe/Paris", TimeSlots: []alerting.TimeSlot{
		{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"},
		{Days: []string{"sat"}, Start: "22:00", End: "02:00"},
	}}
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 12, 2, 9, 0, 0, 0, paris), true},    // Wednesday morning
		{time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), true}, // 09:00 in Paris
		{time.Date(2026, 12, 2, 18, 0, 0, 0, paris), false},  // the end is excluded
		{time.Date(2026, 12, 2, 7, 59, 0, 0, paris), false},
		{time.Date(2026, 12, 5, 12, 0, 0, 0, paris), false}, // Saturday noon
		{time.Date(2026, 12, 5, 23, 0, 0, 0, paris), true},  // Saturday night
		{time.Date(2026, 12, 6, 1, 30, 0, 0, paris), true},  // …past midnight into Sunday
		{time.Date(2026, 12, 6, 2, 0, 0, 0, paris), false},
		{time.Date(2026, 12, 6, 23, 0, 0, 0, paris), false}, // Sunday night has no slot
	} {
		got, err := office.InSlots(tc.at)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.at.In(paris).Format(time.RFC1123))
	}
	always, err := alerting.EscalationTarget{}.InSlots(time.Now())
	require.NoError(t, err)
	assert.True(t, always, "no slots: always")
	allDay, err := alerting.EscalationTarget{TimeSlots: []alerting.TimeSlot{{Days: []string{"wed"}, Start: "00:00", End: "00:00"}}}.InSlots(time.Date(2026, 12, 2, 23, 59, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.True(t, allDay, "start = end: the whole day")
}
