package oncall

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	alice = Member{Name: "Alice", Email: "alice@example.com"}
	bob   = Member{Name: "Bob", Email: "bob@example.com", Phone: "+15145550100"}
	carol = Member{Name: "Carol", Email: "carol@example.com"}
	dave  = Member{Name: "Dave", Email: "dave@example.com"}
)

func toronto(t *testing.T) *time.Location {
	t.Helper()
	loc, err := LoadLocation("America/Toronto")
	require.NoError(t, err)
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// assertShift checks who is on call at instant at and the bounds of the shift.
func assertShift(t *testing.T, s Schedule, at string, want *Member, since, until string) {
	t.Helper()
	sh := s.At(utc(at))
	assert.Equal(t, want, sh.Member, "member at %s", at)
	assert.Equal(t, since, format(sh.Since), "since, at %s", at)
	assert.Equal(t, until, format(sh.Until), "until, at %s", at)
}

func format(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func TestWeeklyHandsOffAt0900TorontoAcrossDST(t *testing.T) {
	loc := toronto(t)
	// Monday 2026-03-02 09:00 EST = 14:00Z. Clocks spring forward on 2026-03-08 and fall back
	// on 2026-11-01, so the 09:00 hand-off moves to 13:00Z and back to 14:00Z.
	s := Schedule{Location: loc, Rotation: Weekly, Handoff: DefaultHandoff,
		Start: time.Date(2026, 3, 2, 9, 0, 0, 0, loc), Members: []Member{alice, bob, carol}}

	assertShift(t, s, "2026-03-02T14:00:00Z", &alice, "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z")
	// 167 hours after the start, not 168: still 09:00 local.
	assertShift(t, s, "2026-03-09T12:59:59Z", &alice, "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z")
	assertShift(t, s, "2026-03-09T13:00:00Z", &bob, "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z")
	// Turn 34 (2026-10-26, EDT) is Bob's; turn 35 starts 2026-11-02 09:00 EST = 14:00Z, 169 h later.
	assertShift(t, s, "2026-11-02T13:30:00Z", &bob, "2026-10-26T13:00:00Z", "2026-11-02T14:00:00Z")
	assertShift(t, s, "2026-11-02T14:00:00Z", &carol, "2026-11-02T14:00:00Z", "2026-11-09T14:00:00Z")
	for _, at := range []string{"2026-03-09T13:00:00Z", "2026-11-02T14:00:00Z", "2027-07-05T13:00:00Z"} {
		assert.Equal(t, "09:00", s.At(utc(at)).Since.In(loc).Format("15:04"), at)
	}
}

func TestDailyAcrossSpringForward(t *testing.T) {
	loc := toronto(t)
	s := Schedule{Location: loc, Rotation: Daily, Handoff: DefaultHandoff,
		Start: time.Date(2026, 3, 7, 9, 0, 0, 0, loc), Members: []Member{alice, bob}}
	// 2026-03-07 09:00 EST → 2026-03-08 09:00 EDT is a 23-hour turn.
	assertShift(t, s, "2026-03-08T12:59:00Z", &alice, "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z")
	assertShift(t, s, "2026-03-08T13:00:00Z", &bob, "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z")
	assertShift(t, s, "2026-03-09T13:00:00Z", &alice, "2026-03-09T13:00:00Z", "2026-03-10T13:00:00Z")
}

func TestHandoffTimeOfDay(t *testing.T) {
	loc := toronto(t)
	s := Schedule{Location: loc, Rotation: Daily, Handoff: Clock{Hour: 18, Minute: 30},
		Start: time.Date(2026, 6, 1, 18, 30, 0, 0, loc), Members: []Member{alice, bob}}
	assertShift(t, s, "2026-06-02T12:00:00Z", &alice, "2026-06-01T22:30:00Z", "2026-06-02T22:30:00Z")
}

func TestBiweekly(t *testing.T) {
	loc := toronto(t)
	s := Schedule{Location: loc, Rotation: Biweekly, Handoff: DefaultHandoff,
		Start: time.Date(2026, 1, 5, 9, 0, 0, 0, loc), Members: []Member{alice, bob}}
	assertShift(t, s, "2026-01-18T23:00:00Z", &alice, "2026-01-05T14:00:00Z", "2026-01-19T14:00:00Z")
	assertShift(t, s, "2026-01-19T14:00:00Z", &bob, "2026-01-19T14:00:00Z", "2026-02-02T14:00:00Z")
	assertShift(t, s, "2026-02-02T14:00:00Z", &alice, "2026-02-02T14:00:00Z", "2026-02-16T14:00:00Z")
}

func TestMonthlyAnchoredOnThe31st(t *testing.T) {
	loc := toronto(t)
	s := Schedule{Location: loc, Rotation: Monthly, Handoff: DefaultHandoff,
		Start: time.Date(2026, 1, 31, 9, 0, 0, 0, loc), Members: []Member{alice, bob, carol}}
	// Short months hand off on their last day; the 31st comes back afterwards (no drift to the 28th).
	assertShift(t, s, "2026-02-28T13:59:00Z", &alice, "2026-01-31T14:00:00Z", "2026-02-28T14:00:00Z")
	assertShift(t, s, "2026-02-28T14:00:00Z", &bob, "2026-02-28T14:00:00Z", "2026-03-31T13:00:00Z")
	assertShift(t, s, "2026-03-31T13:00:00Z", &carol, "2026-03-31T13:00:00Z", "2026-04-30T13:00:00Z")
	assertShift(t, s, "2026-04-30T13:00:00Z", &alice, "2026-04-30T13:00:00Z", "2026-05-31T13:00:00Z")
	assertShift(t, s, "2026-12-31T15:00:00Z", &carol, "2026-12-31T14:00:00Z", "2027-01-31T14:00:00Z")
}

func TestCustomLengthIsExactHours(t *testing.T) {
	loc := toronto(t)
	// Starts 2026-03-07 21:00 EST = 2026-03-08T02:00Z; 12-hour turns ignore the DST change.
	s := Schedule{Location: loc, Rotation: Custom, Handoff: DefaultHandoff, Length: 12 * time.Hour,
		Start: time.Date(2026, 3, 7, 21, 0, 0, 0, loc), Members: []Member{alice, bob}}
	assertShift(t, s, "2026-03-08T02:00:00Z", &alice, "2026-03-08T02:00:00Z", "2026-03-08T14:00:00Z")
	assertShift(t, s, "2026-03-08T14:00:00Z", &bob, "2026-03-08T14:00:00Z", "2026-03-09T02:00:00Z")
	assertShift(t, s, "2026-03-09T02:00:00Z", &alice, "2026-03-09T02:00:00Z", "2026-03-09T14:00:00Z")
}

func TestStartInsideATurn(t *testing.T) {
	loc := toronto(t)
	// Created on a Wednesday at 14:00: Alice's first turn is short, hand-offs stay on Wednesdays 09:00.
	s := Schedule{Location: loc, Rotation: Weekly, Handoff: DefaultHandoff,
		Start: time.Date(2026, 6, 3, 14, 0, 0, 0, loc), Members: []Member{alice, bob}}
	assertShift(t, s, "2026-06-03T18:00:00Z", &alice, "2026-06-03T18:00:00Z", "2026-06-10T13:00:00Z")
	assertShift(t, s, "2026-06-10T13:00:00Z", &bob, "2026-06-10T13:00:00Z", "2026-06-17T13:00:00Z")
	// Before the start nobody is on call, until the start.
	assertShift(t, s, "2026-06-03T13:30:00Z", nil, "", "2026-06-03T18:00:00Z")
}

func TestOverrides(t *testing.T) {
	loc := toronto(t)
	s := Schedule{Location: loc, Rotation: Weekly, Handoff: DefaultHandoff,
		Start: time.Date(2026, 6, 1, 9, 0, 0, 0, loc), Members: []Member{alice, bob},
		Overrides: []Override{
			{Member: carol, Start: utc("2026-06-02T00:00:00Z"), End: utc("2026-06-05T00:00:00Z")},
			// Inside Carol's cover: the later-starting one wins.
			{Member: dave, Start: utc("2026-06-03T00:00:00Z"), End: utc("2026-06-04T00:00:00Z")},
			// Across Alice's hand-off to Bob.
			{Member: dave, Start: utc("2026-06-08T00:00:00Z"), End: utc("2026-06-09T00:00:00Z")},
		}}
	assertShift(t, s, "2026-06-01T20:00:00Z", &alice, "2026-06-01T13:00:00Z", "2026-06-02T00:00:00Z")
	assertShift(t, s, "2026-06-02T12:00:00Z", &carol, "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z")
	assertShift(t, s, "2026-06-03T12:00:00Z", &dave, "2026-06-03T00:00:00Z", "2026-06-04T00:00:00Z")
	assertShift(t, s, "2026-06-04T00:00:00Z", &carol, "2026-06-04T00:00:00Z", "2026-06-05T00:00:00Z")
	assertShift(t, s, "2026-06-05T00:00:00Z", &alice, "2026-06-05T00:00:00Z", "2026-06-08T00:00:00Z")
	assertShift(t, s, "2026-06-08T13:30:00Z", &dave, "2026-06-08T00:00:00Z", "2026-06-09T00:00:00Z")
	assertShift(t, s, "2026-06-09T00:00:00Z", &bob, "2026-06-09T00:00:00Z", "2026-06-15T13:00:00Z")
	assert.True(t, s.At(utc("2026-06-03T12:00:00Z")).Override)
	assert.False(t, s.At(utc("2026-06-05T00:00:00Z")).Override)
}

func TestNoMembersMeansNobody(t *testing.T) {
	loc := toronto(t)
	s := Schedule{Location: loc, Rotation: Weekly, Handoff: DefaultHandoff, Start: time.Date(2026, 6, 1, 9, 0, 0, 0, loc)}
	assertShift(t, s, "2026-06-10T00:00:00Z", nil, "", "")
	// An override still puts someone on call for its range.
	s.Overrides = []Override{{Member: carol, Start: utc("2026-06-12T00:00:00Z"), End: utc("2026-06-13T00:00:00Z")}}
	assertShift(t, s, "2026-06-10T00:00:00Z", nil, "", "2026-06-12T00:00:00Z")
	assertShift(t, s, "2026-06-12T06:00:00Z", &carol, "2026-06-12T00:00:00Z", "2026-06-13T00:00:00Z")
	assertShift(t, s, "2026-06-14T00:00:00Z", nil, "2026-06-13T00:00:00Z", "")
	// A custom rotation without a length cannot rotate either.
	s = Schedule{Location: loc, Rotation: Custom, Start: s.Start, Members: []Member{alice}}
	assertShift(t, s, "2026-06-10T00:00:00Z", nil, "", "")
}

// TestShiftsTileTheTimeline checks, on random schedules and instants, that a shift contains
// its instant, that the instants just before Since and at Until belong to other shifts, and
// that the shift is the same seen from its own start.
func TestShiftsTileTheTimeline(t *testing.T) {
	loc := toronto(t)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rotations := []Rotation{Daily, Weekly, Biweekly, Monthly, Custom}
	for i := 0; i < 300; i++ {
		s := Schedule{Location: loc, Rotation: rotations[i%len(rotations)],
			Handoff: Clock{Hour: rng.IntN(24), Minute: rng.IntN(60)},
			Start:   base.Add(time.Duration(rng.IntN(60*24)) * time.Hour),
			Length:  time.Duration(1+rng.IntN(72)) * time.Hour,
			Members: []Member{alice, bob, carol}[:rng.IntN(4)]}
		for j := rng.IntN(4); j > 0; j-- {
			start := base.Add(time.Duration(rng.IntN(400*24)) * time.Hour)
			s.Overrides = append(s.Overrides, Override{Member: dave, Start: start, End: start.Add(time.Duration(1+rng.IntN(24*20)) * time.Hour)})
		}
		at := base.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
		sh := s.At(at)
		if !sh.Since.IsZero() {
			require.False(t, sh.Since.After(at), "schedule %d: since %s after %s", i, sh.Since, at)
			require.Equal(t, sh, s.At(sh.Since), "schedule %d: the shift seen from its start", i)
			require.NotEqual(t, s.sourceAt(at), s.sourceAt(sh.Since.Add(-time.Nanosecond)), "schedule %d: before since", i)
		}
		if !sh.Until.IsZero() {
			require.True(t, sh.Until.After(at), "schedule %d: until %s not after %s", i, sh.Until, at)
			require.NotEqual(t, s.sourceAt(at), s.sourceAt(sh.Until), "schedule %d: at until", i)
			require.Equal(t, sh.Until, s.At(sh.Until.Add(-time.Nanosecond)).Until, "schedule %d", i)
		}
	}
}

func TestParseClockAndZones(t *testing.T) {
	c, err := ParseClock("07:05")
	require.NoError(t, err)
	assert.Equal(t, Clock{Hour: 7, Minute: 5}, c)
	assert.Equal(t, "07:05", c.String())
	for _, bad := range []string{"", "7:05", "24:00", "12:60", "12-00", "12:000"} {
		_, err := ParseClock(bad)
		assert.Error(t, err, bad)
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus_Mons", "../etc/passwd"} {
		_, err := LoadLocation(bad)
		assert.ErrorIs(t, err, ErrUnknownZone, bad)
	}
	loc, err := LoadLocation("Europe/Paris")
	require.NoError(t, err)
	// Before 09:00 local the latest hand-off is yesterday's.
	assert.Equal(t, "2026-06-09T07:00:00Z", format(LatestHandoff(utc("2026-06-10T06:00:00Z"), loc, DefaultHandoff)))
	assert.Equal(t, "2026-06-10T07:00:00Z", format(LatestHandoff(utc("2026-06-10T07:00:00Z"), loc, DefaultHandoff)))
}
