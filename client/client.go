package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client/publicstatus"
)

// Version is the SDK's version, sent in the default User-Agent.
const Version = "2.0.0"

// DefaultUserAgent is the User-Agent sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "secumon-go/" + Version

// APIPath is the path of the API under the server's URL.
const APIPath = "/api/v2"

// Client talks to one SecuMon server. Its services group the operations by module; it is safe
// for concurrent use.
type Client struct {
	raw *ClientWithResponses // the generated client, over the retrying doer
	// stream sends requests that must not be retried as a whole (the event stream handles
	// its own reconnections); it carries the same editors as raw.
	stream *RawClient
	public *publicstatus.ClientWithResponses // the status pages' routes, outside /api/v2
	retry  RetryPolicy
	base   string

	// The services, one per module of the API; each method is one operation.
	Hosts         *HostsService
	Checks        *ChecksService
	Results       *ResultsService
	Incidents     *IncidentsService
	AlertPolicies *AlertPoliciesService
	// EscalationPolicies: who is paged next while nobody acknowledges.
	EscalationPolicies *EscalationPoliciesService
	Oncall             *OncallService
	StatusPages        *StatusPagesService
	Maintenance        *MaintenanceService
	Dashboard          *DashboardService
	Workers            *WorkersService
	// WorkerTokens: the credentials of remote workers; WorkerProtocol: what remote workers
	// call with one.
	WorkerTokens   *WorkerTokensService
	WorkerProtocol *WorkerProtocolService
	Workspaces     *WorkspacesService
	Events         *EventsService
	AppSecurity    *AppSecurityService
	// PublicStatus reads status pages as their visitors do (/status/{slug}/api).
	PublicStatus *PublicStatusService
}

// service is what every service holds: the client it belongs to.
type service struct{ c *Client }

// Option configures a Client built by New. Besides the With… functions of this file, the
// generated options WithHTTPClient, WithRequestEditorFn and WithBaseURL are Options too.
type Option interface {
	apply(*settings) error
}

type settings struct {
	token, workspace, userAgent string
	retry                       RetryPolicy
	onRetry                     []func(context.Context, RetryEvent)
	raw                         []ClientOption
}

type optionFunc func(*settings) error

func (f optionFunc) apply(s *settings) error { return f(s) }

// apply lets the generated client options (WithHTTPClient, WithRequestEditorFn, WithBaseURL)
// be passed to New.
func (o ClientOption) apply(s *settings) error {
	s.raw = append(s.raw, o)
	return nil
}

// WithToken authenticates every request with the API token (smn_…).
func WithToken(token string) Option {
	return optionFunc(func(s *settings) error {
		s.token = token
		return nil
	})
}

// WithWorkspace makes every request act on the workspace with this id (the X-Workspace-ID
// header) instead of the token's own workspace; the token's user must belong to it.
func WithWorkspace(id string) Option {
	return optionFunc(func(s *settings) error {
		if _, err := uuid.Parse(id); err != nil {
			return fmt.Errorf("client: workspace id %q is not a UUID", id)
		}
		s.workspace = id
		return nil
	})
}

// WithUserAgent replaces the User-Agent header (DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return optionFunc(func(s *settings) error {
		s.userAgent = ua
		return nil
	})
}

// WithRetry replaces the retry policy (DefaultRetryPolicy). Zero fields take the defaults;
// MaxAttempts 1 disables retries.
func WithRetry(p RetryPolicy) Option {
	return optionFunc(func(s *settings) error {
		s.retry = p.withDefaults()
		return nil
	})
}

// New returns a client of the server at baseURL: its root ("http://127.0.0.1:8080") or the
// API itself ("http://127.0.0.1:8080/api/v2").
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := apiURL(baseURL)
	if err != nil {
		return nil, err
	}
	s := settings{userAgent: DefaultUserAgent, retry: DefaultRetryPolicy()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&s); err != nil {
			return nil, err
		}
	}
	// The generated options come first, so that our headers are set on top of theirs.
	raw, err := NewClient(base, append(s.raw, WithRequestEditorFn(s.headers))...)
	if err != nil {
		return nil, err
	}
	stream := *raw
	raw.Client = &retrier{next: raw.Client, policy: s.retry, onRetry: s.onRetry}
	public, err := newPublic(raw)
	if err != nil {
		return nil, err
	}

	c := &Client{raw: &ClientWithResponses{ClientInterface: raw}, stream: &stream, public: public, retry: s.retry, base: raw.Server}
	svc := service{c}
	c.Hosts = (*HostsService)(&svc)
	c.Checks = (*ChecksService)(&svc)
	c.Results = (*ResultsService)(&svc)
	c.Incidents = (*IncidentsService)(&svc)
	c.AlertPolicies = (*AlertPoliciesService)(&svc)
	c.EscalationPolicies = (*EscalationPoliciesService)(&svc)
	c.Oncall = (*OncallService)(&svc)
	c.StatusPages = (*StatusPagesService)(&svc)
	c.Maintenance = (*MaintenanceService)(&svc)
	c.Dashboard = (*DashboardService)(&svc)
	c.Workers = (*WorkersService)(&svc)
	c.WorkerTokens = (*WorkerTokensService)(&svc)
	c.WorkerProtocol = (*WorkerProtocolService)(&svc)
	c.Workspaces = (*WorkspacesService)(&svc)
	c.Events = (*EventsService)(&svc)
	c.AppSecurity = (*AppSecurityService)(&svc)
	c.PublicStatus = (*PublicStatusService)(&svc)
	return c, nil
}

// Raw is the generated client behind the services, with the same authentication and
// retries: every operation of the contract, with its typed response.
func (c *Client) Raw() *ClientWithResponses { return c.raw }

// BaseURL is the API's URL, ending in /api/v2/.
func (c *Client) BaseURL() string { return c.base }

func (s *settings) headers(_ context.Context, r *http.Request) error {
	if s.token != "" {
		r.Header.Set("Authorization", "Bearer "+s.token)
	}
	if s.workspace != "" {
		r.Header.Set("X-Workspace-ID", s.workspace)
	}
	if s.userAgent != "" {
		r.Header.Set("User-Agent", s.userAgent)
	}
	return nil
}

func apiURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("client: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", errors.New("client: base URL must be an absolute http or https URL, such as http://127.0.0.1:8080")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(u.Path, APIPath) {
		u.Path += APIPath
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}
