package syslog_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/domain/syslog"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// start runs a receiver on a free loopback port until the test ends; stop ends it early
// and waits for it to drain.
func start(t *testing.T, pool *pgxpool.Pool, cfg syslog.Config) (r *syslog.Receiver, stop func()) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := syslog.Listen(pool, cfg)
	require.NoError(t, err)
	require.Equal(t, r.TCPAddr().Port, r.UDPAddr().Port, "one port for both protocols")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return r, stop
}

func host(t *testing.T, q *db.Queries, ws uuid.UUID, name, hostname string) uuid.UUID {
	t.Helper()
	h, err := q.CreateHost(context.Background(), db.CreateHostParams{
		WorkspaceID: ws, ID: uuid.New(), Name: name, Hostname: hostname, HostType: "server", Tags: []byte("{}"), IsActive: true,
	})
	require.NoError(t, err)
	return h.ID
}

// sendUDP sends each line as one datagram from the loopback address from.
func sendUDP(t *testing.T, r *syslog.Receiver, from string, lines ...string) {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, r.UDPAddr())
	require.NoError(t, err)
	defer c.Close()
	for _, l := range lines {
		_, err := c.Write([]byte(l))
		require.NoError(t, err)
	}
}

func dialTCP(t *testing.T, r *syslog.Receiver, from string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP(from)}, r.TCPAddr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func waitStored(t *testing.T, r *syslog.Receiver, want uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return r.Stats().Stored >= want }, 10*time.Second, 20*time.Millisecond,
		"stored %d of %d (%+v)", r.Stats().Stored, want, r.Stats())
}

type row struct {
	Source, Message string
	App             *string
	Severity        *int16
}

func rowsOf(t *testing.T, pool *pgxpool.Pool, ws, hostID uuid.UUID) []row {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT source_addr, message, app_name, severity FROM host_logs WHERE workspace_id = $1 AND host_id = $2 ORDER BY message", ws, hostID)
	require.NoError(t, err)
	var out []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.Source, &r.Message, &r.App, &r.Severity))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func messages(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Message
	}
	return out
}

// Entries over UDP and TCP (both framings, both formats) are filed under every host they
// match, in every workspace; entries from nobody known are counted, not stored.
func TestReceiverFilesEntriesUnderMatchingHosts(t *testing.T) {
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	ctx := context.Background()
	ws1, err := admin.CreateWorkspace(ctx, q, "one", "One")
	require.NoError(t, err)
	ws2, err := admin.CreateWorkspace(ctx, q, "two", "Two")
	require.NoError(t, err)
	lo1 := host(t, q, ws1.ID, "loopback", "127.0.0.1")
	lo2 := host(t, q, ws2.ID, "same-box-elsewhere", "127.0.0.1")
	app := host(t, q, ws1.ID, "app-01", "app-01.example.net")

	r, _ := start(t, pool, syslog.Config{RefreshEvery: 100 * time.Millisecond})
	now := time.Now().UTC().Format(time.RFC3339)
	sendUDP(t, r, "127.0.0.1",
		"<11>1 "+now+" box nginx 10 ID1 [req@32473 status=\"502\"] udp 5424",
		"<30>"+time.Now().Format(time.Stamp)+" box cron[7]: udp 3164")
	sendUDP(t, r, "127.0.0.2",
		"<13>1 "+now+" APP-01 billing - - - by hostname",
		"<13>1 "+now+" stranger x - - - unmatched")
	c := dialTCP(t, r, "127.0.0.1")
	octet := "<12>1 " + now + " box api - - - tcp octet\nsecond line"
	_, err = fmt.Fprintf(c, "%d %s<9>%s box kernel: tcp newline\n", len(octet), octet, time.Now().Format(time.Stamp))
	require.NoError(t, err)

	waitStored(t, r, 2*4+1) // 4 entries from 127.0.0.1, each in both workspaces; 1 by hostname
	// The stranger's entry is dropped once a reload of the hosts confirms nobody has it.
	require.Eventually(t, func() bool { return r.Stats().Unmatched == 1 }, 5*time.Second, 10*time.Millisecond)
	st := r.Stats()
	assert.EqualValues(t, 6, st.Received)
	assert.Zero(t, st.Lost)

	got := rowsOf(t, pool, ws1.ID, lo1)
	assert.Equal(t, []string{"tcp newline", "tcp octet\nsecond line", "udp 3164", "udp 5424"}, messages(got))
	for _, r := range got {
		assert.Equal(t, "127.0.0.1", r.Source)
	}
	assert.Equal(t, "kernel", *got[0].App)
	assert.EqualValues(t, 1, *got[0].Severity)
	assert.Equal(t, "nginx", *got[3].App)
	assert.EqualValues(t, 3, *got[3].Severity)
	var msgID, status string
	require.NoError(t, pool.QueryRow(ctx, "SELECT msg_id, structured->'req@32473'->>'status' FROM host_logs WHERE host_id = $1 AND message = 'udp 5424'", lo1).Scan(&msgID, &status))
	assert.Equal(t, "ID1", msgID)
	assert.Equal(t, "502", status)
	assert.Equal(t, messages(got), messages(rowsOf(t, pool, ws2.ID, lo2)), "the same entries in the other workspace")
	byName := rowsOf(t, pool, ws1.ID, app)
	require.Len(t, byName, 1)
	assert.Equal(t, row{Source: "127.0.0.2", Message: "by hostname", App: byName[0].App, Severity: byName[0].Severity}, byName[0])
	assert.Equal(t, "billing", *byName[0].App)

	// A host created while the receiver runs is picked up by the index refresh.
	late := host(t, q, ws1.ID, "late", "127.0.0.3")
	require.Eventually(t, func() bool {
		sendUDP(t, r, "127.0.0.3", "<13>1 - - late - - - hello")
		return len(rowsOf(t, pool, ws1.ID, late)) > 0
	}, 15*time.Second, 250*time.Millisecond)
}

// Bounds: long messages are truncated, idle connections closed, connections over the limit
// refused; what is queued at shutdown is still written.
func TestReceiverBounds(t *testing.T) {
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	ws, err := admin.CreateWorkspace(context.Background(), q, "one", "One")
	require.NoError(t, err)
	lo := host(t, q, ws.ID, "loopback", "127.0.0.1")
	r, stop := start(t, pool, syslog.Config{
		MaxMessageSize: 64, MaxConns: 1, IdleTimeout: 300 * time.Millisecond, FlushEvery: time.Hour, BatchSize: 1000,
	})

	first := dialTCP(t, r, "127.0.0.1")
	_, err = first.Write([]byte("<13>1 - - t - - - " + strings.Repeat("a", 200) + "\n"))
	require.NoError(t, err)
	// The second connection is over the limit: closed at once, while the first stays open.
	second := dialTCP(t, r, "127.0.0.1")
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = second.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	assert.EqualValues(t, 1, r.Stats().RejectedConns)
	// The first one idles out.
	t0 := time.Now()
	require.NoError(t, first.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = first.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	assert.Less(t, time.Since(t0), 3*time.Second)

	sendUDP(t, r, "127.0.0.1", "<13>1 - - u - - - "+strings.Repeat("b", 200))
	require.Eventually(t, func() bool { return r.Stats().Received == 2 }, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 2, r.Stats().Truncated)
	assert.Zero(t, r.Stats().Stored, "the batch waits for its flush")

	stop() // shutdown drains the queue
	assert.EqualValues(t, 2, r.Stats().Stored)
	got := rowsOf(t, pool, ws.ID, lo)
	require.Len(t, got, 2)
	for _, g := range got {
		assert.Len(t, g.Message, 64-len("<13>1 - - t - - - "))
	}

	// Retention drops host_logs partitions with the others (probes/runner/store.Maintain).
	tomorrow := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	_, err = q.DropPartitionsBefore(context.Background(), tomorrow)
	require.NoError(t, err)
	assert.Empty(t, rowsOf(t, pool, ws.ID, lo))
}

// A receiver that serves some workspaces files nothing under another workspace's hosts,
// even one that names the same address.
func TestReceiverServesOnlyItsWorkspaces(t *testing.T) {
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	ctx := context.Background()
	mine, err := admin.CreateWorkspace(ctx, q, "mine", "Mine")
	require.NoError(t, err)
	theirs, err := admin.CreateWorkspace(ctx, q, "theirs", "Theirs")
	require.NoError(t, err)
	lo := host(t, q, mine.ID, "loopback", "127.0.0.1")
	copycat := host(t, q, theirs.ID, "copycat", "127.0.0.1")

	r, _ := start(t, pool, syslog.Config{RefreshEvery: 100 * time.Millisecond, Workspaces: []uuid.UUID{mine.ID}})
	sendUDP(t, r, "127.0.0.1", "<13>1 - box app - - - only mine")
	waitStored(t, r, 1)
	assert.Len(t, rowsOf(t, pool, mine.ID, lo), 1)
	assert.Empty(t, rowsOf(t, pool, theirs.ID, copycat))
}

// A host created just before its first entry arrives gets that entry, although the periodic
// refresh would see the host only much later: an entry that matches no host reloads the index
// before it is dropped (at most once a MissRefreshEvery). An entry that still matches nobody
// is dropped and the log says why, at once.
func TestReceiverMatchesAHostCreatedJustBefore(t *testing.T) {
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	ws, err := admin.CreateWorkspace(context.Background(), q, "one", "One")
	require.NoError(t, err)
	host(t, q, ws.ID, "loopback", "127.0.0.1")
	var logs syncBuffer
	r, _ := start(t, pool, syslog.Config{
		RefreshEvery: time.Hour, MissRefreshEvery: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	sendUDP(t, r, "127.0.0.1", "<13>1 - - app - - - the index is loaded")
	waitStored(t, r, 1)

	fresh := host(t, q, ws.ID, "fresh", "127.0.0.5")
	sendUDP(t, r, "127.0.0.5", "<13>1 - box app - - - right after its host")
	waitStored(t, r, 2)
	assert.Equal(t, []string{"right after its host"}, messages(rowsOf(t, pool, ws.ID, fresh)))

	// Another one right after that reload: the next reload waits for MissRefreshEvery, then
	// finds it too.
	fresher := host(t, q, ws.ID, "fresher", "127.0.0.6")
	t0 := time.Now()
	sendUDP(t, r, "127.0.0.6", "<13>1 - box app - - - right after the reload")
	waitStored(t, r, 3)
	assert.Equal(t, []string{"right after the reload"}, messages(rowsOf(t, pool, ws.ID, fresher)))
	assert.Less(t, time.Since(t0), 3*time.Second)

	sendUDP(t, r, "127.0.0.7", "<13>1 - stranger app - - - nobody's")
	require.Eventually(t, func() bool { return r.Stats().Unmatched == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 3, r.Stats().Stored)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "syslog entries dropped") }, 5*time.Second, 10*time.Millisecond)
	assert.Regexp(t, `level=WARN msg="syslog entries dropped: no host has their source address or hostname" count=1 total=1 last_from="127\.0\.0\.7 \(hostname stranger\)"`, logs.String())
}

// syncBuffer is a bytes.Buffer a logger writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
