package syslog

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/platform/batch"
)

// One stream mixing both framings of RFC 6587, a line over the limit, and a last line without
// its LF: every message comes out whole or truncated to the limit, in order.
func TestReadFrameMixedFramingAndTruncation(t *testing.T) {
	long := strings.Repeat("x", 100)
	stream := "11 <13>1 - a\nb" + // octet-counted, with an LF inside the counted part
		"<14>plain line\r\n" +
		"\n" + // keep-alive
		"104 <15>" + long + // octet-counted over the limit of 40
		"<16>" + long + "\n" + // newline-framed over the limit
		"<17>last"
	br := bufio.NewReaderSize(strings.NewReader(stream), 16) // smaller than the lines
	type frame struct {
		msg       string
		truncated bool
	}
	var got []frame
	for {
		msg, truncated, err := readFrame(br, 40)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, frame{string(msg), truncated})
	}
	assert.Equal(t, []frame{
		{"<13>1 - a\nb", false}, // the LF counted in the length is part of the message
		{"<14>plain line", false},
		{"", false},
		{("<15>" + long)[:40], true},
		{("<16>" + long)[:40], true},
		{"<17>last", false},
	}, got)

	_, _, err := readFrame(bufio.NewReader(strings.NewReader("12x <13>oops")), 40)
	assert.ErrorIs(t, err, errBadFrame, "a length prefix that is not a number")
	_, _, err = readFrame(bufio.NewReader(strings.NewReader("50 <13>short")), 40)
	assert.ErrorIs(t, err, errBadFrame, "a connection closed inside a counted frame")
}

func TestParseRFC5424AndRFC3164(t *testing.T) {
	p := newParser()
	src := netip.MustParseAddr("127.0.0.1")
	now := time.Now().UTC().Truncate(time.Second)

	ts := now.Add(-2 * time.Minute)
	e := p.parse([]byte(`<165>1 `+ts.Format(time.RFC3339)+` web-01 nginx 4242 ID47 [meta@32473 status="502" path="/api"] upstream timed out`), src, now)
	require.True(t, e.parsed)
	assert.True(t, ts.Equal(e.time), "the message's own timestamp")
	assert.Equal(t, now, e.receivedAt)
	assert.Equal(t, "web-01", *e.hostname)
	assert.Equal(t, "nginx", *e.appName)
	assert.Equal(t, "4242", *e.procID)
	assert.Equal(t, "ID47", *e.msgID)
	assert.EqualValues(t, 20, *e.facility) // 165 = 20*8 + 5
	assert.EqualValues(t, 5, *e.severity)
	assert.Equal(t, "upstream timed out", e.message)
	var sd map[string]map[string]string
	require.NoError(t, json.Unmarshal(e.structured, &sd))
	assert.Equal(t, map[string]map[string]string{"meta@32473": {"status": "502", "path": "/api"}}, sd)

	// RFC 3164: no year, no zone (read as local time of the current year).
	local := now.In(time.Local).Add(-time.Minute)
	e = p.parse([]byte("<34>"+local.Format(time.Stamp)+" db-01 sshd[812]: Failed password for root"), src, now)
	require.True(t, e.parsed)
	assert.True(t, local.Truncate(time.Second).Equal(e.time), "got %s want %s", e.time, local)
	assert.Equal(t, "db-01", *e.hostname)
	assert.Equal(t, "sshd", *e.appName)
	assert.Equal(t, "812", *e.procID)
	assert.Nil(t, e.msgID)
	assert.EqualValues(t, 4, *e.facility)
	assert.EqualValues(t, 2, *e.severity)
	assert.Equal(t, "Failed password for root", e.message)
	assert.Nil(t, e.structured)

	// A timestamp far off (wrong clock, or a December line read in January) gives way to
	// the receive time, so that the row lands in a partition that exists.
	e = p.parse([]byte("<13>1 2001-01-01T00:00:00Z h a - - - old"), src, now)
	assert.Equal(t, now, e.time)
	e = p.parse([]byte("<13>1 "+now.Add(3*time.Hour).Format(time.RFC3339)+" h a - - - ahead"), src, now)
	assert.Equal(t, now, e.time)

	// Not syslog at all: kept as raw text, made storable (valid UTF-8, no NUL).
	e = p.parse([]byte("hello\x00 \xff world\n"), src, now)
	assert.False(t, e.parsed)
	assert.Equal(t, "hello \ufffd world", e.message)
	assert.Nil(t, e.severity)
	assert.Nil(t, e.hostname)
}

func TestHostIndexMatchesByAddressAndHostname(t *testing.T) {
	ws1, ws2 := uuid.New(), uuid.New()
	byIP, byName, otherWS, v6 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	ix := newHostIndex()
	ix.snap.Store(buildSnapshot([]db.ListSyslogHostsRow{
		{WorkspaceID: ws1, ID: byIP, Name: "lo", Hostname: "127.0.0.1"},
		{WorkspaceID: ws1, ID: byName, Name: "Web-Prod-01", Hostname: "web-prod-01.example.net"},
		{WorkspaceID: ws2, ID: otherWS, Name: "same-box", Hostname: "127.0.0.1"},
		{WorkspaceID: ws2, ID: v6, Name: "v6", Hostname: "::1"},
	}))
	lo := netip.MustParseAddr("127.0.0.1")
	other := netip.MustParseAddr("127.0.0.9")
	name := func(s string) *string { return &s }

	assert.ElementsMatch(t, []target{{ws1, byIP}, {ws2, otherWS}}, ix.match(lo, nil), "one address, two workspaces")
	assert.ElementsMatch(t, []target{{ws1, byIP}, {ws2, otherWS}}, ix.match(netip.MustParseAddr("::ffff:127.0.0.1"), nil), "IPv4-mapped source")
	assert.Equal(t, []target{{ws1, byName}}, ix.match(other, name("WEB-PROD-01")), "by name, case-insensitive")
	assert.Equal(t, []target{{ws1, byName}}, ix.match(other, name("web-prod-01.example.net.")), "by hostname")
	assert.ElementsMatch(t, []target{{ws1, byIP}, {ws2, otherWS}, {ws1, byName}}, ix.match(lo, name("web-prod-01")), "both, each once")
	assert.ElementsMatch(t, []target{{ws1, byIP}, {ws2, otherWS}}, ix.match(lo, name("127.0.0.1")), "no duplicates")
	assert.Equal(t, []target{{ws2, v6}}, ix.match(netip.MustParseAddr("::1"), nil))
	assert.Empty(t, ix.match(other, name("unknown")))
	assert.Empty(t, ix.match(other, nil))
}

// Structured data stays valid JSON whatever its values hold: a value ending in a literal
// backslash-u0000 (not a NUL) once lost its closing quote, and the database then refused
// the whole batch of entries it was in.
func TestStructuredDataIsAlwaysValidJSON(t *testing.T) {
	p := newParser()
	src := netip.MustParseAddr("127.0.0.1")
	e := p.parse([]byte("<34>1 - h a - - [x@1 lit=\"a\\\\u0000\" nul=\"b\x00c\"] hi"), src, time.Now())
	require.True(t, e.parsed)
	require.True(t, json.Valid(e.structured), "%s", e.structured)
	var sd map[string]map[string]string
	require.NoError(t, json.Unmarshal(e.structured, &sd))
	assert.Equal(t, map[string]map[string]string{"x@1": {"lit": `a\u0000`, "nul": "bc"}}, sd)
}

// Rows go into a queue with room even once shutdown has cancelled the context: the writer
// drains the queue after the readers stop, so only a full queue may lose rows.
func TestWriterQueuesWhileThereIsRoomAfterCancel(t *testing.T) {
	w := &writer{queue: batch.New[db.CopyHostLogsParams](64), stats: &counters{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, w.add(ctx, make([]db.CopyHostLogsParams, 32)))
	assert.Equal(t, 32, w.queue.Len())
	assert.Zero(t, w.stats.lost.Load())

	// Full: the context ends the wait and the rest is counted as lost.
	assert.ErrorIs(t, w.add(ctx, make([]db.CopyHostLogsParams, 40)), context.Canceled)
	assert.Equal(t, 64, w.queue.Len())
	assert.EqualValues(t, 8, w.stats.lost.Load())
}
