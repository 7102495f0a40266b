package server_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// A client that announces a body and sends it a byte at a time, unauthenticated, loses its
// connection once the read timeout has passed instead of holding it forever; connections
// beyond the cap wait in the backlog and are served once others close.
func TestSlowBodyLosesItsConnection(t *testing.T) {
	env := servertest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, ln := server.NewHTTPServer(context.Background(), env.App, ln, server.HTTPLimits{ReadTimeout: time.Second, MaxConns: 2})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	slow := func() net.Conn {
		conn, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
		require.NoError(t, err)
		return conn
	}
	a, b := slow(), slow()
	defer a.Close()
	defer b.Close()

	// A third connection is over the cap: it is not served while a and b hold theirs.
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)

	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := a.Write([]byte("x")); err != nil {
				closed <- time.Since(start)
				return
			}
			_ = a.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := a.Read(buf); err != nil && !isTimeout(err) {
				closed <- time.Since(start)
				return
			}
		}
	}()
	select {
	case d := <-closed:
		require.Less(t, d, 5*time.Second)
		t.Logf("trickling connection closed after %v", d.Round(10*time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("a client trickling its body held the connection for 10 s")
	}

	// With the slow ones gone, the waiting connection is served.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	require.Contains(t, string(got), "200 OK")
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
