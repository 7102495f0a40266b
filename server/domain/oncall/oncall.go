// Package oncall answers "who is on call at instant t, since when and until when" for an
// on-call schedule: members take turns in order from the rotation start, hand-offs follow the
// calendar of the schedule's time zone (09:00 local stays 09:00 local across DST changes), and
// overrides let someone cover a time range. The rotation math (rotation.go) is pure; store.go
// reads schedules from the database for callers such as the notifier.
package oncall

import (
	"errors"
	"fmt"
	"time"

	// The IANA zone database, embedded: schedules name zones such as America/Toronto and must
	// resolve them on hosts (containers) without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Rotation is how often the on-call member changes.
type Rotation string

// The rotations. The calendar ones hand off at the schedule's hand-off time of day in its time
// zone; Custom hands off every Schedule.Length, counted in exact hours from the start.
const (
	Daily    Rotation = "daily"
	Weekly   Rotation = "weekly"
	Biweekly Rotation = "biweekly"
	Monthly  Rotation = "monthly"
	Custom   Rotation = "custom"
)

// Valid reports whether r is one of the rotations above.
func (r Rotation) Valid() bool {
	switch r {
	case Daily, Weekly, Biweekly, Monthly, Custom:
		return true
	}
	return false
}

// Defaults of a new schedule.
const (
	DefaultTimezone = "America/Toronto"
	DefaultRotation = Weekly
)

// DefaultHandoff is the hand-off time of day of a new schedule: 09:00.
var DefaultHandoff = Clock{Hour: 9}

// MaxLengthHours bounds a custom rotation's turn (one year).
const MaxLengthHours = 8760

// Member is a person who can be on call.
type Member struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

// Override is a person covering [Start, End), whoever the rotation says.
type Override struct {
	Member
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Clock is a time of day, minute precision.
type Clock struct{ Hour, Minute int }

// ParseClock reads "HH:MM" (24-hour, two digits each).
func ParseClock(s string) (Clock, error) {
	var c Clock
	if len(s) != 5 || s[2] != ':' {
		return c, fmt.Errorf("%q is not HH:MM", s)
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return c, fmt.Errorf("%q is not HH:MM", s)
	}
	return Clock{Hour: t.Hour(), Minute: t.Minute()}, nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// on is the instant at clock c on the civil date (y, m, d) in loc; out-of-range days
// normalize as in time.Date. A time skipped by a DST jump resolves as time.Date does (after
// the jump), so hand-offs stay in order.
func (c Clock) on(y int, m time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, m, d, c.Hour, c.Minute, 0, 0, loc)
}

// ErrUnknownZone is returned by LoadLocation for names that are not IANA zones.
var ErrUnknownZone = errors.New("not an IANA time zone")

// LoadLocation resolves an IANA zone name. Unlike time.LoadLocation it refuses "" and
// "Local", which would make a schedule depend on the server's own zone.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q: %w", name, ErrUnknownZone)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, ErrUnknownZone)
	}
	return loc, nil
}

// LatestHandoff is the last instant at or before t whose local time in loc is c: today's
// hand-off once it has passed, yesterday's before. New schedules start their rotation there.
func LatestHandoff(t time.Time, loc *time.Location, c Clock) time.Time {
	y, m, d := handoffDate(t, loc, c)
	return c.on(y, m, d, loc)
}

// handoffDate is the civil date of LatestHandoff(t, loc, c).
func handoffDate(t time.Time, loc *time.Location, c Clock) (int, time.Month, int) {
	y, m, d := t.In(loc).Date()
	if c.on(y, m, d, loc).After(t) {
		y, m, d = time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC).Date()
	}
	return y, m, d
}
