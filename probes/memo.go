package probes

import (
	"sync"
	"time"
)

// Memo is one check's private state between runs: the last value and time of each counter,
// from which the next run computes per-second rates. It is safe for concurrent use; a nil
// *Memo remembers nothing (every Rate call reports no rate).
type Memo struct {
	mu       sync.Mutex
	counters map[string]counterMark
	run      uint64 // incremented by each run that prunes
	uptime   float64
	hasUp    bool
}

type counterMark struct {
	value uint64
	at    time.Time
	run   uint64
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo {
	return &Memo{counters: make(map[string]counterMark)}
}

// Rate records the value v of counter key seen at time at, and returns the per-second rate
// since the previous value of that counter. ok is false on the first value, when the counter
// went backwards (a wrap or a device reset: that interval is skipped) or when no time elapsed.
func (m *Memo) Rate(key string, v uint64, at time.Time) (rate float64, ok bool) {
	if m == nil {
		return 0, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters == nil {
		m.counters = make(map[string]counterMark)
	}
	prev, seen := m.counters[key]
	m.counters[key] = counterMark{value: v, at: at, run: m.run}
	if !seen || v < prev.value {
		return 0, false
	}
	dt := at.Sub(prev.at).Seconds()
	if dt <= 0 {
		return 0, false
	}
	return float64(v-prev.value) / dt, true
}

// Len returns the number of counters remembered.
func (m *Memo) Len() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.counters)
}

// startRun begins a run whose counters are kept by endRun; the others are dropped (so an
// interface that disappeared does not stay in memory forever). uptime is the agent's uptime in
// seconds (negative: unknown): when it went backwards the agent restarted and every
// counter is forgotten, since its previous values are no longer comparable.
func (m *Memo) startRun(uptime float64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.run++
	if uptime >= 0 {
		if m.hasUp && uptime < m.uptime {
			clear(m.counters)
		}
		m.uptime, m.hasUp = uptime, true
	}
}

// endRun drops the counters that the run started by startRun did not touch.
func (m *Memo) endRun() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, c := range m.counters {
		if c.run != m.run {
			delete(m.counters, k)
		}
	}
}
