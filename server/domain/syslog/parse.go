package syslog

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/auto"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// How far a message's own timestamp may stray from the time it arrived and still be used.
// Beyond that the receive time is stored instead: a sender's clock can be wrong, RFC 3164
// timestamps carry no year and no zone, and rows must land in a partition that exists
// (partitions are kept from yesterday to a week ahead).
const (
	maxPast   = 24 * time.Hour
	maxFuture = time.Hour
)

// entry is one received message, parsed, before it is matched to hosts.
type entry struct {
	time, receivedAt time.Time
	source           netip.Addr
	hostname         *string
	appName          *string
	procID           *string
	msgID            *string
	facility         *int16
	severity         *int16
	message          string
	structured       []byte // JSON object, nil when absent
	parsed           bool   // false: not syslog at all, message holds the raw text
}

// parser turns raw messages into entries. It is not safe for concurrent use (the go-syslog
// machines keep state): each reading goroutine has its own.
type parser struct {
	m gosyslog.Machine
}

// newParser detects RFC 5424 or RFC 3164 per message. Best effort keeps what could be parsed
// of a damaged message (a truncated one, typically) instead of dropping it.
func newParser() *parser {
	return &parser{m: auto.NewMachine(
		auto.WithRFC5424Options(rfc5424.WithBestEffort()),
		auto.WithRFC3164Options(
			rfc3164.WithBestEffort(),
			rfc3164.WithYear(rfc3164.CurrentYear{}),
			// Stamp timestamps have no zone: read them in the receiver's local zone, which is
			// usually the zone of the devices it serves (and UTC in containers).
			rfc3164.WithTimezone(time.Local),
			rfc3164.WithRFC3339(),
			rfc3164.WithSecondFractions(),
			rfc3164.WithLenientDay(),
			rfc3164.WithEmbeddedNewlines(), // octet-counted frames may carry them
		),
	)}
}

// parse builds the entry of one message received from src at now. A message that is not
// syslog at all is kept as raw text (parsed false) rather than lost.
func (p *parser) parse(raw []byte, src netip.Addr, now time.Time) entry {
	raw = bytes.TrimRight(raw, "\r\n\x00")
	e := entry{time: now, receivedAt: now, source: src}
	msg, _ := p.m.Parse(raw) // with best effort, a partial message comes with an error: keep it
	var base *gosyslog.Base
	switch m := msg.(type) {
	case *rfc5424.SyslogMessage:
		base = &m.Base
		if m.StructuredData != nil && len(*m.StructuredData) > 0 {
			e.structured = structured(*m.StructuredData)
		}
	case *rfc3164.SyslogMessage:
		base = &m.Base
	}
	if base == nil || base.Priority == nil {
		e.message = clean(string(raw))
		return e
	}
	e.parsed = true
	if base.Timestamp != nil && plausible(*base.Timestamp, now) {
		e.time = base.Timestamp.UTC()
	}
	e.hostname, e.appName, e.procID, e.msgID = cleanPtr(base.Hostname), cleanPtr(base.Appname), cleanPtr(base.ProcID), cleanPtr(base.MsgID)
	e.facility, e.severity = smallint(base.Facility), smallint(base.Severity)
	if base.Message != nil {
		e.message = clean(*base.Message)
	}
	return e
}

// structured is RFC 5424 structured data as a JSON object for jsonb, which refuses NUL: each
// id, name and value is cleaned before encoding. (Removing the "\u0000" escapes from
// the encoded JSON instead would also cut a literal backslash-u0000 text in two, leaving
// invalid JSON that makes the database refuse the whole batch.)
func structured(sd map[string]map[string]string) []byte {
	out := make(map[string]map[string]string, len(sd))
	for id, params := range sd {
		cleaned := make(map[string]string, len(params))
		for k, v := range params {
			cleaned[clean(k)] = clean(v)
		}
		out[clean(id)] = cleaned
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil // maps of strings always encode
	}
	return b
}

func plausible(ts, now time.Time) bool {
	return !ts.Before(now.Add(-maxPast)) && !ts.After(now.Add(maxFuture))
}

// clean makes s storable as PostgreSQL text: valid UTF-8 and no NUL byte (both would make
// the whole batch fail), and strips the UTF-8 BOM RFC 5424 puts before a message.
func clean(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\ufffd")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

func cleanPtr(s *string) *string {
	if s == nil || *s == "" || *s == "-" {
		return nil
	}
	c := clean(*s)
	return &c
}

func smallint(v *uint8) *int16 {
	if v == nil {
		return nil
	}
	n := int16(*v)
	return &n
}
