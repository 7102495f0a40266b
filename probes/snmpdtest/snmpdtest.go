// Package snmpdtest runs a real Debian snmpd on a loopback high port for tests, so SNMP code is
// tested against the agent people actually run rather than a simulation.
package snmpdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Path is where Debian's snmpd package installs the agent.
const Path = "/usr/sbin/snmpd"

// The agent's credentials: v2c community "public" and one SNMPv3 authPriv user.
const (
	Community = "public"
	V3User    = "probesv3"
	V3Auth    = "authpass123"
	V3Priv    = "privpass123"
	SysName   = "probes-test"
)

const oidSysName = "1.3.6.1.2.1.1.5.0"

// Start runs snmpd on 127.0.0.1 at a random high UDP port with a config written for the test
// (sysName SysName, sysServices 72), and kills it when t ends. It returns the port. Without
// snmpd installed the test fails with the install hint, unless SECUMON_SKIP_SNMPD=1.
func Start(t testing.TB) int {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		if os.Getenv("SECUMON_SKIP_SNMPD") == "1" {
			t.Skipf("%s missing and SECUMON_SKIP_SNMPD=1", Path)
		}
		t.Fatalf("%s is missing: install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends snmpd` (or set SECUMON_SKIP_SNMPD=1 to skip the SNMP tests)", Path)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	err := os.WriteFile(conf, []byte(strings.Join([]string{
		"rocommunity " + Community + " 127.0.0.1",
		"sysName " + SysName,
		"sysLocation loopback",
		"sysServices 72",
		fmt.Sprintf(`createUser %s SHA "%s" AES "%s"`, V3User, V3Auth, V3Priv),
		"rouser " + V3User + " priv",
		"",
	}, "\n")), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var lastOut string
	for attempt := range 5 {
		port := freeUDPPort(t)
		var out bytes.Buffer
		cmd := exec.Command(Path, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "snmpd.pid"),
			fmt.Sprintf("udp:127.0.0.1:%d", port))
		cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start snmpd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if waitReady(port, exited) {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return port
		}
		_ = cmd.Process.Kill()
		<-exited
		lastOut = out.String()
		t.Logf("snmpd attempt %d on port %d failed: %s", attempt+1, port, lastOut)
	}
	t.Fatalf("snmpd did not start: %s", lastOut)
	return 0
}

// waitReady polls the agent until it answers a v2c Get (up to 5 s).
func waitReady(port int, exited <-chan struct{}) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		x := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Community: Community, Version: gosnmp.Version2c,
			Timeout: 100 * time.Millisecond, Retries: 0}
		if x.Connect() == nil {
			_, err := x.Get([]string{oidSysName})
			x.Close()
			if err == nil {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
