package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/testkit/dbtest"
)

// Ctrl-C (SIGINT) on `secumon serve` is a clean shutdown: it drains, stops the worker and
// exits 0.
func TestServeExitsZeroOnInterrupt(t *testing.T) {
	_, dsn := dbtest.New(t)
	bin := filepath.Join(t.TempDir(), "secumon")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	env := append(os.Environ(), "DATABASE_URL="+dsn, "SECUMON_DATA_DIR="+t.TempDir(), "SECUMON_SYSLOG_ADDR=127.0.0.1:0")
	proc, _ := startServe(t, bin, env)
	require.NoError(t, interrupt(t, proc, 60*time.Second), "secumon serve should exit 0 after a clean shutdown")
}

// interrupt sends SIGINT to a started command and returns how it exited; the test fails when
// it has not exited within the given time.
func interrupt(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("%s did not stop on SIGINT within %s", filepath.Base(cmd.Path), within)
		return nil
	}
}

// `make run` says that it builds before the (long) first build, listens where SECUMON_ADDR
// says (ADDR=… wins), and Ctrl-C, which reaches make and the server alike, ends it without
// make reporting an error.
func TestMakeRun(t *testing.T) {
	makeTool, err := exec.LookPath("make")
	if err != nil {
		t.Skip("needs make")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	_, dsn := dbtest.New(t)
	bin := filepath.Join(t.TempDir(), "secumon")
	envPort, argPort := freePort(t), freePort(t)
	var env []string
	for _, kv := range os.Environ() { // not a sub-make of a `make test` running this test
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			env = append(env, kv)
		}
	}
	env = append(env, "DATABASE_URL="+dsn, "SECUMON_DATA_DIR="+t.TempDir(),
		"SECUMON_SYSLOG_ADDR=127.0.0.1:0", "SECUMON_ADDR=127.0.0.1:"+strconv.Itoa(envPort))

	for _, tc := range []struct {
		name string
		args []string
		port int
	}{
		{"SECUMON_ADDR", nil, envPort},
		{"ADDR", []string{"ADDR=127.0.0.1:" + strconv.Itoa(argPort)}, argPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(makeTool, append([]string{"--no-print-directory", "run", "BIN=" + bin}, tc.args...)...)
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = env
			// Its own process group, which receives the SIGINT like a terminal's Ctrl-C.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			r, w, err := os.Pipe()
			require.NoError(t, err)
			cmd.Stdout, cmd.Stderr = w, w
			require.NoError(t, cmd.Start())
			_ = w.Close()
			t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

			var mu sync.Mutex
			var out strings.Builder
			listening := make(chan string, 1)
			eof := make(chan struct{})
			go func() {
				defer close(eof)
				sc := bufio.NewScanner(r)
				for sc.Scan() {
					mu.Lock()
					out.WriteString(sc.Text() + "\n")
					mu.Unlock()
					if strings.HasPrefix(sc.Text(), "SecuMon is listening on ") {
						listening <- sc.Text()
					}
				}
			}()
			output := func() string {
				mu.Lock()
				defer mu.Unlock()
				return out.String()
			}
			select {
			case line := <-listening:
				assert.Contains(t, line, "listening on http://127.0.0.1:"+strconv.Itoa(tc.port)+" ")
			case <-time.After(5 * time.Minute):
				t.Fatalf("make run did not start:\n%s", output())
			}
			building := strings.Index(output(), "building secumon")
			assert.True(t, building >= 0 && building < strings.Index(output(), "go build"),
				"make run says it builds before it builds:\n%s", output())

			require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err = <-waited:
			case <-time.After(60 * time.Second):
				t.Fatalf("make run did not stop on SIGINT:\n%s", output())
			}
			<-eof
			t.Logf("make run:\n%s", output())
			// make dies of the SIGINT it received too (GNU make re-raises it once its child
			// has exited), but reports no error: the server exited 0.
			var exit *exec.ExitError
			if err != nil {
				require.True(t, errors.As(err, &exit), "%v", err)
				ws := exit.Sys().(syscall.WaitStatus)
				assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "make ended with %v", err)
			}
			assert.Contains(t, output(), "shutting down")
			assert.NotContains(t, output(), "make: ***")
		})
	}
}
