package oncall

import "time"

// Schedule is a rotation with its overrides, ready for At.
type Schedule struct {
	// Location is the time zone of the hand-offs (UTC when nil).
	Location *time.Location
	Rotation Rotation
	// Start is when the first member's turn begins. For the calendar rotations the turns are
	// aligned on the hand-offs: the first turn runs from Start to the first hand-off that
	// follows the last one at or before Start. Before Start nobody is on call by rotation.
	Start time.Time
	// Handoff is the local time of day of the calendar rotations' hand-offs.
	Handoff Clock
	// Length is a Custom rotation's turn, counted from Start in exact hours.
	Length    time.Duration
	Members   []Member
	Overrides []Override
}

// Shift is who is on call at an instant and for how long the answer holds.
type Shift struct {
	// Member is who is on call; nil when nobody is (no members, before the rotation starts).
	Member *Member
	// Override is true when Member covers through an override rather than their turn.
	Override bool
	// Since is when this shift began; zero when nothing came before it.
	Since time.Time
	// Until is when the next shift begins; zero when nothing changes after it.
	Until time.Time
}

// At resolves the schedule at t. An override active at t wins over the rotation; among several
// active ones the latest-starting wins (the later in the list on a tie), since it is the most
// specific arrangement.
func (s Schedule) At(t time.Time) Shift {
	t = t.Round(0) // wall clock only: comparisons with stored times must not use monotonic readings
	if s.Location == nil {
		s.Location = time.UTC
	}
	cur := s.sourceAt(t)
	sh := Shift{Since: s.prevChange(t, cur), Until: s.nextChange(t, cur)}
	switch cur.kind {
	case fromOverride:
		m := s.Overrides[cur.n].Member
		sh.Member, sh.Override = &m, true
	case fromTurn:
		m := s.Members[cur.n%len(s.Members)]
		sh.Member = &m
	}
	return sh
}

// source identifies what decides who is on call: nobody, turn n of the rotation, or
// override n. Two instants with the same source are in the same shift.
type source struct {
	kind sourceKind
	n    int
}

type sourceKind uint8

const (
	fromNobody sourceKind = iota
	fromTurn
	fromOverride
)

func (s Schedule) sourceAt(t time.Time) source {
	best := -1
	for i, o := range s.Overrides {
		if !t.Before(o.Start) && t.Before(o.End) && (best < 0 || !o.Start.Before(s.Overrides[best].Start)) {
			best = i
		}
	}
	if best >= 0 {
		return source{fromOverride, best}
	}
	if !s.rotates() || t.Before(s.Start) {
		return source{fromNobody, 0}
	}
	return source{fromTurn, s.turn(t)}
}

// rotates reports whether the rotation puts anyone on call at all.
func (s Schedule) rotates() bool {
	if len(s.Members) == 0 {
		return false
	}
	switch s.Rotation {
	case Daily, Weekly, Biweekly, Monthly:
		return true
	case Custom:
		return s.Length > 0
	}
	return false
}

// nextChange is the first instant after t whose source differs from cur (zero if none). While
// an override is active only override boundaries can change the answer; otherwise the next
// hand-off or the next override start can.
func (s Schedule) nextChange(t time.Time, cur source) time.Time {
	e := t
	for {
		var next time.Time
		consider := func(x time.Time) {
			if x.After(e) && (next.IsZero() || x.Before(next)) {
				next = x
			}
		}
		for _, o := range s.Overrides {
			consider(o.Start)
			if cur.kind == fromOverride {
				consider(o.End)
			}
		}
		if cur.kind != fromOverride && s.rotates() {
			if e.Before(s.Start) {
				consider(s.Start)
			} else {
				consider(s.boundary(s.turn(e) + 1))
			}
		}
		if next.IsZero() || s.sourceAt(next) != cur {
			return next
		}
		e = next
	}
}

// prevChange is the last instant at or before t since which the source has been cur (zero if
// it always was): the mirror of nextChange.
func (s Schedule) prevChange(t time.Time, cur source) time.Time {
	e := t
	for {
		var prev time.Time
		consider := func(x time.Time) {
			if !x.After(e) && (prev.IsZero() || x.After(prev)) {
				prev = x
			}
		}
		for _, o := range s.Overrides {
			consider(o.End)
			if cur.kind == fromOverride {
				consider(o.Start)
			}
		}
		if cur.kind == fromTurn {
			start := s.boundary(cur.n)
			if start.Before(s.Start) {
				start = s.Start
			}
			consider(start)
		}
		if prev.IsZero() {
			return prev
		}
		before := prev.Add(-time.Nanosecond)
		if s.sourceAt(before) != cur {
			return prev
		}
		e = before
	}
}

// turn is the index of the turn running at t (t at or after Start): the n such that
// boundary(n) <= t < boundary(n+1). It is estimated from the calendar, then corrected by the
// few hand-offs a DST change or a short month can shift.
func (s Schedule) turn(t time.Time) int {
	var n int
	switch s.Rotation {
	case Custom:
		return int(t.Sub(s.Start) / s.Length)
	case Monthly:
		y0, m0, _ := s.anchor()
		y, m, _ := t.In(s.Location).Date()
		n = (y-y0)*12 + int(m-m0)
	default:
		y0, m0, d0 := s.anchor()
		y, m, d := t.In(s.Location).Date()
		n = floorDiv(civilDay(y, m, d)-civilDay(y0, m0, d0), s.days())
	}
	for n > 0 && s.boundary(n).After(t) {
		n--
	}
	for !s.boundary(n + 1).After(t) {
		n++
	}
	return n
}

// boundary is the hand-off that begins turn n. boundary(0) is at or before Start. Each
// boundary is computed from the anchor rather than from the previous one, so a monthly
// rotation anchored on the 31st hands off on the 28th/30th of short months and on the 31st
// again afterwards instead of drifting.
func (s Schedule) boundary(n int) time.Time {
	if s.Rotation == Custom {
		return s.Start.Add(time.Duration(n) * s.Length)
	}
	y, m, d := s.anchor()
	if s.Rotation == Monthly {
		months := int(m) - 1 + n
		y += floorDiv(months, 12)
		m = time.Month(months - floorDiv(months, 12)*12 + 1)
		return s.Handoff.on(y, m, min(d, daysIn(y, m)), s.Location)
	}
	// Calendar days, not 24-hour durations: a day with a DST change lasts 23 or 25 hours.
	return s.Handoff.on(y, m, d+n*s.days(), s.Location)
}

// anchor is the civil date of the last hand-off at or before Start.
func (s Schedule) anchor() (int, time.Month, int) {
	return handoffDate(s.Start, s.Location, s.Handoff)
}

// days is the length in calendar days of a daily, weekly or biweekly turn.
func (s Schedule) days() int {
	switch s.Rotation {
	case Weekly:
		return 7
	case Biweekly:
		return 14
	}
	return 1
}

// civilDay numbers calendar dates consecutively (days since 1970-01-01).
func civilDay(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
