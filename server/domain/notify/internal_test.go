package notify

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":     0,
		"120":  2 * time.Minute,
		" 7 ":  7 * time.Second,
		"-5":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		require.Equal(t, want, parseRetryAfter(v, now), "%q", v)
	}
}

func TestBackoff(t *testing.T) {
	c := Config{}.withDefaults()
	for attempt, full := range map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute,
		8: time.Hour, 40: time.Hour, 0: time.Hour, // beyond the cap, and nonsense, wait the most
	} {
		for range 50 {
			d := c.backoff(attempt)
			require.GreaterOrEqual(t, d, full/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, full, "attempt %d", attempt)
		}
	}
	require.Equal(t, 45*time.Second, c.retryDelay(1, 45*time.Second), "Retry-After wins over the backoff")
	require.Equal(t, time.Hour, c.retryDelay(1, 48*time.Hour), "but is capped")
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvSMTPHost, "mail.internal")
	t.Setenv(EnvSMTPPort, "587")
	t.Setenv(EnvSMTPStartTLS, "true")
	t.Setenv(EnvSMTPFrom, "")
	c, err := ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "mail.internal", c.SMTP.Host)
	require.Equal(t, 587, c.SMTP.Port)
	require.True(t, c.SMTP.StartTLS)
	require.Equal(t, "secumon@localhost", c.SMTP.From)
	require.Equal(t, 8, c.MaxAttempts)
	require.Equal(t, 10*time.Second, c.HTTPTimeout)
	require.Equal(t, DefaultTelegramAPI, c.TelegramAPI)

	t.Setenv(EnvTelegramAPI, "http://127.0.0.1:8081/")
	c, err = ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8081", c.TelegramAPI, "no trailing slash: the path /bot… follows")
	t.Setenv(EnvTelegramAPI, "api.telegram.org")
	_, err = ConfigFromEnv()
	require.ErrorContains(t, err, EnvTelegramAPI)
	t.Setenv(EnvTelegramAPI, "")

	t.Setenv(EnvSMTPPort, "")
	c, err = ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, 25, c.SMTP.Port)

	t.Setenv(EnvSMTPPort, "smtp")
	_, err = ConfigFromEnv()
	require.ErrorContains(t, err, EnvSMTPPort)
	t.Setenv(EnvSMTPPort, "25")
	t.Setenv(EnvSMTPStartTLS, "perhaps")
	_, err = ConfigFromEnv()
	require.ErrorContains(t, err, EnvSMTPStartTLS)
}

func TestOneLine(t *testing.T) {
	require.Equal(t, "a b Bcc: x@y", oneLine("a\r\nb\nBcc: x@y"))
}

func TestMaskTarget(t *testing.T) {
	require.Equal(t, "ops@example.test", MaskTarget(ChannelEmail, "ops@example.test"))
	require.Equal(t, "https://hooks.slack.com/…", MaskTarget(ChannelSlack, "https://hooks.slack.com/services/T0/B0/secret"))
	require.Equal(t, "http://127.0.0.1:8080/…", MaskTarget(ChannelWebhook, "http://user:pw@127.0.0.1:8080/h?token=x"))
	require.Equal(t, "…", MaskTarget(ChannelWebhook, "::bad"))
	require.Equal(t, "https://discord.com/…", MaskTarget(ChannelDiscord, "https://discord.com/api/webhooks/1/token"))
	require.Equal(t, "https://prod-00.westeurope.logic.azure.com:443/…",
		MaskTarget(ChannelTeams, "https://prod-00.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?sig=s"))
	require.Equal(t, "@secumon_alerts", MaskTarget(ChannelTelegram, "@secumon_alerts"), "a chat id is not the secret")
}

func TestRetryAfterSeconds(t *testing.T) {
	require.Equal(t, 1500*time.Millisecond, retryAfterSeconds([]byte(`{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`)))
	require.Equal(t, 7*time.Second, retryAfterSeconds([]byte(`{"ok": false, "error_code": 429, "parameters": {"retry_after": 7}}`)))
	require.Zero(t, retryAfterSeconds([]byte(`{"ok": false}`)))
	require.Zero(t, retryAfterSeconds([]byte(`not json`)))
	require.Zero(t, retryAfterSeconds([]byte(`{"retry_after": -3}`)))
}

func TestTelegramRefused(t *testing.T) {
	require.True(t, telegramRefused([]byte(`{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)))
	require.False(t, telegramRefused([]byte(`{"ok":true,"result":{"message_id":1`)), "a cut answer still reads")
	require.False(t, telegramRefused([]byte(``)))
}

// The webhook dialer refuses denied networks before any packet leaves, by the address
// actually dialled; loopback, private and unique-local networks are denied by default, and
// an Allow network is reachable even though denied.
func TestGuardedDialer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx := context.Background()
	byDefault := netGuard{deny: DefaultDeny}
	if _, err := byDefault.dialer(time.Second).DialContext(ctx, "tcp", l.Addr().String()); err == nil || !strings.Contains(err.Error(), "denied network") {
		t.Fatalf("loopback must be refused by default, got %v", err)
	}
	for _, ip := range []string{"10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "::1", "fd00:ec2::254", "fc00::1", "fe80::1", "::ffff:127.0.0.1"} {
		if err := byDefault.check(netip.MustParseAddr(ip)); err == nil {
			t.Errorf("%s must be denied by default", ip)
		}
	}
	if err := byDefault.check(netip.MustParseAddr("192.0.2.10")); err != nil {
		t.Errorf("a public address is allowed: %v", err)
	}
	allowLoopback, err := ParseDeny("127.0.0.0/8,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	c, err := netGuard{deny: DefaultDeny, allow: allowLoopback}.dialer(time.Second).DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("an allowed network is reachable: %v", err)
	}
	c.Close()
	// The metadata address is refused by the Control hook, before connect(2) sends anything.
	if _, err := byDefault.dialer(time.Second).DialContext(ctx, "tcp", "169.254.169.254:80"); err == nil || !strings.Contains(err.Error(), "denied network") {
		t.Fatalf("instance metadata must be refused, got %v", err)
	}
	if none, err := ParseDeny("none"); err != nil || len(none) != 0 {
		t.Fatalf("none: %v %v", none, err)
	}
	if _, err := ParseDeny("10.0.0.0/8,bogus"); err == nil {
		t.Fatal("a bad CIDR must be refused")
	}
}

// Through a proxy, the dialler only sees the proxy's address: the target's resolved address
// is checked before the request is handed to the proxy.
func TestGuardedProxy(t *testing.T) {
	proxyURL, _ := url.Parse("http://proxy.example.test:3128")
	viaProxy := func(*url.URL) (*url.URL, error) { return proxyURL, nil }
	g := netGuard{deny: DefaultDeny}
	proxy := g.proxy(viaProxy, net.DefaultResolver)
	for _, target := range []string{"http://127.0.0.1:8080/hook", "http://localhost:8080/hook", "http://[::1]/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/hook"} {
		req, _ := http.NewRequest(http.MethodPost, target, nil)
		if _, err := proxy(req); err == nil || !strings.Contains(err.Error(), "denied network") {
			t.Errorf("%s through a proxy must be refused, got %v", target, err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://192.0.2.10/hook", nil)
	if p, err := proxy(req); err != nil || p != proxyURL {
		t.Errorf("a public target goes through the proxy: %v %v", p, err)
	}
	direct := g.proxy(func(*url.URL) (*url.URL, error) { return nil, nil }, net.DefaultResolver)
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1/hook", nil)
	if p, err := direct(req); err != nil || p != nil {
		t.Errorf("without a proxy, the dialler checks: %v %v", p, err)
	}
}
