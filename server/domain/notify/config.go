package notify

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvSMTPHost     = "SECUMON_SMTP_HOST"
	EnvSMTPPort     = "SECUMON_SMTP_PORT"
	EnvSMTPUsername = "SECUMON_SMTP_USERNAME"
	EnvSMTPPassword = "SECUMON_SMTP_PASSWORD"
	EnvSMTPFrom     = "SECUMON_SMTP_FROM"
	EnvSMTPStartTLS = "SECUMON_SMTP_STARTTLS"
	EnvRetryBase    = "SECUMON_NOTIFY_RETRY_BASE" // e.g. "30s": the wait after a first failed attempt
	EnvDeny         = "SECUMON_NOTIFY_DENY"       // CIDRs webhooks may not reach, or "none"
	EnvAllow        = "SECUMON_NOTIFY_ALLOW"      // CIDRs webhooks may reach even though denied
	EnvTelegramAPI  = "SECUMON_TELEGRAM_API_URL"  // the Bot API's base URL (default DefaultTelegramAPI)
	EnvPagerDutyURL = "SECUMON_PAGERDUTY_URL"     // Events API base, default DefaultPagerDutyURL
	EnvOpsgenieURL  = "SECUMON_OPSGENIE_URL"      // Alert API base for both regions (tests, proxies)

	EnvTwilioURL        = "SECUMON_TWILIO_URL" // base URL of the Twilio-compatible API
	EnvTwilioAccountSID = "SECUMON_TWILIO_ACCOUNT_SID"
	EnvTwilioAuthToken  = "SECUMON_TWILIO_AUTH_TOKEN"
	EnvTwilioFrom       = "SECUMON_TWILIO_FROM" // the E.164 number texts and calls come from
)

// DefaultTelegramAPI is where Telegram's Bot API answers.
const DefaultTelegramAPI = "https://api.telegram.org"

// DefaultTwilioURL is Twilio's API.
const DefaultTwilioURL = "https://api.twilio.com"

// Config tells the worker how to send and how to retry. The zero value works for webhooks
// and Slack; email needs SMTP.Host.
type Config struct {
	SMTP SMTPConfig
	// Twilio sends SMS and voice deliveries.
	Twilio TwilioConfig

	// HTTPClient sends webhooks and Slack messages. Nil means a client with HTTPTimeout that
	// refuses the Deny networks.
	HTTPClient *http.Client
	// Deny are networks webhooks and Slack messages are never sent to; nil means DefaultDeny
	// (loopback, private, link-local where cloud instance metadata lives, unique-local).
	// Ignored with a custom HTTPClient.
	Deny []netip.Prefix
	// Allow are networks that may be reached even though Deny holds them (a receiver on
	// loopback in a demo or a test, an internal chat server). Ignored with a custom HTTPClient.
	Allow []netip.Prefix
	// HTTPTimeout bounds one webhook or Slack request (default 10 s).
	HTTPTimeout time.Duration
	// UserAgent of webhook and Slack requests (default "SecuMon-Notify/2").
	UserAgent string

	// PagerDutyURL is the Events API v2 base; events go to PagerDutyURL + "/v2/enqueue"
	// (default DefaultPagerDutyURL).
	PagerDutyURL string
	// OpsgenieURL, when set, replaces the Alert API base of both regions (OpsgenieBase).
	OpsgenieURL string

	// MaxAttempts is how many times a delivery is tried before it is marked failed (default 8).
	MaxAttempts int
	// RetryBase is the wait after the first failed attempt; it doubles after each further
	// one, with jitter (default 30 s, so 8 attempts span about an hour).
	RetryBase time.Duration
	// RetryMax caps one wait, including one a receiver asks for with Retry-After (default 1 h).
	RetryMax time.Duration

	// TelegramAPI is the Bot API's base URL, without a trailing slash (default
	// DefaultTelegramAPI): a self-hosted Bot API server, or a receiver in tests.
	TelegramAPI string
	// IncidentLinkBase, followed by an incident's id, is a link to the incident that chat
	// messages (Teams, Discord, Telegram) carry, e.g.
	// https://secumon.example.com/api/v2/incidents/; empty: they carry none. The composition
	// root derives it from the server's public URL.
	IncidentLinkBase string

	// Tracer makes a span per delivery attempt (nil: none); set by the composition root.
	Tracer trace.TracerProvider
}

// SMTPConfig is the mail server that email deliveries go through.
type SMTPConfig struct {
	Host     string // empty: email deliveries fail, naming SECUMON_SMTP_HOST
	Port     int    // default 25
	Username string // with Password: AUTH PLAIN, which needs STARTTLS unless Host is loopback
	Password string
	From     string // envelope and header sender (default secumon@localhost)
	StartTLS bool   // require STARTTLS before sending
	// Timeout bounds a whole SMTP conversation (default 30 s).
	Timeout time.Duration
}

// TwilioConfig is the Twilio-compatible API that SMS and voice deliveries go through (its
// Messages and Calls resources), reached through the same network guard as webhooks.
type TwilioConfig struct {
	URL        string // base URL, default DefaultTwilioURL
	AccountSID string // empty: SMS and voice deliveries fail, naming SECUMON_TWILIO_ACCOUNT_SID
	AuthToken  string // HTTP basic password; a secret, never logged
	From       string // E.164 sender number
}

// ConfigFromEnv reads the SECUMON_SMTP_* and SECUMON_TWILIO_* variables, SECUMON_NOTIFY_DENY,
// SECUMON_NOTIFY_ALLOW, SECUMON_NOTIFY_RETRY_BASE, SECUMON_TELEGRAM_API_URL,
// SECUMON_PAGERDUTY_URL and SECUMON_OPSGENIE_URL; everything
// else keeps its default.
func ConfigFromEnv() (Config, error) {
	var c Config
	c.SMTP.Host = strings.TrimSpace(os.Getenv(EnvSMTPHost))
	c.SMTP.Username = os.Getenv(EnvSMTPUsername)
	c.SMTP.Password = os.Getenv(EnvSMTPPassword)
	c.SMTP.From = strings.TrimSpace(os.Getenv(EnvSMTPFrom))
	if v := strings.TrimSpace(os.Getenv(EnvSMTPPort)); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return Config{}, fmt.Errorf("notify: %s=%q is not a port number", EnvSMTPPort, v)
		}
		c.SMTP.Port = port
	}
	if v := strings.TrimSpace(os.Getenv(EnvSMTPStartTLS)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("notify: %s=%q is not a boolean (true or false)", EnvSMTPStartTLS, v)
		}
		c.SMTP.StartTLS = b
	}
	if v, ok := os.LookupEnv(EnvDeny); ok {
		deny, err := ParseDeny(v)
		if err != nil {
			return Config{}, fmt.Errorf("notify: %s: %w", EnvDeny, err)
		}
		c.Deny = deny
	}
	if v, ok := os.LookupEnv(EnvAllow); ok {
		allow, err := ParseDeny(v)
		if err != nil {
			return Config{}, fmt.Errorf("notify: %s: %w", EnvAllow, err)
		}
		c.Allow = allow
	}
	if v := strings.TrimSpace(os.Getenv(EnvTelegramAPI)); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("notify: %s=%q is not an http or https URL", EnvTelegramAPI, v)
		}
		c.TelegramAPI = strings.TrimRight(v, "/")
	}
	c.PagerDutyURL = strings.TrimRight(strings.TrimSpace(os.Getenv(EnvPagerDutyURL)), "/")
	c.OpsgenieURL = strings.TrimRight(strings.TrimSpace(os.Getenv(EnvOpsgenieURL)), "/")
	c.Twilio.URL = strings.TrimRight(strings.TrimSpace(os.Getenv(EnvTwilioURL)), "/")
	c.Twilio.AccountSID = strings.TrimSpace(os.Getenv(EnvTwilioAccountSID))
	c.Twilio.AuthToken = os.Getenv(EnvTwilioAuthToken)
	c.Twilio.From = strings.TrimSpace(os.Getenv(EnvTwilioFrom))
	if c.Twilio.From != "" && !ValidPhone(c.Twilio.From) {
		return Config{}, fmt.Errorf("notify: %s=%q is not an E.164 phone number", EnvTwilioFrom, c.Twilio.From)
	}
	if v := strings.TrimSpace(os.Getenv(EnvRetryBase)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("notify: %s=%q is not a positive duration (like 30s)", EnvRetryBase, v)
		}
		c.RetryBase = d
	}
	return c.withDefaults(), nil
}

// withDefaults fills the unset fields.
func (c Config) withDefaults() Config {
	if c.Tracer == nil {
		c.Tracer = noop.NewTracerProvider()
	}
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = 10 * time.Second
	}
	if c.Deny == nil {
		c.Deny = DefaultDeny
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{
			Transport: netGuard{deny: c.Deny, allow: c.Allow}.transport(c.HTTPTimeout),
			Timeout:   c.HTTPTimeout,
			// A redirected POST may come back as a GET without its body: report it instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.TelegramAPI == "" {
		c.TelegramAPI = DefaultTelegramAPI
	}
	if c.UserAgent == "" {
		c.UserAgent = "SecuMon-Notify/2"
	}
	if c.PagerDutyURL == "" {
		c.PagerDutyURL = DefaultPagerDutyURL
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 30 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = time.Hour
	}
	if c.Twilio.URL == "" {
		c.Twilio.URL = DefaultTwilioURL
	}
	if c.SMTP.Port == 0 {
		c.SMTP.Port = 25
	}
	if c.SMTP.From == "" {
		c.SMTP.From = "secumon@localhost"
	}
	if c.SMTP.Timeout <= 0 {
		c.SMTP.Timeout = 30 * time.Second
	}
	return c
}
