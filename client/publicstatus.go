package client

import (
	"context"
	"strings"

	"github.com/secuaas/secumon/client/publicstatus"
)

// PublicStatusService reads status pages the way their visitors do, through the routes served
// outside /api/v2 (/status/{slug}/api, openapi/status-public.yaml). A client built without
// WithToken is anonymous and sees public pages only; with a token it also sees the private
// pages of its workspace.
type PublicStatusService service

// Get returns the state of the status page with this slug: overall, per component with its
// daily uptime, open incidents and maintenance.
func (s *PublicStatusService) Get(ctx context.Context, slug string, editors ...RequestEditorFn) (*publicstatus.PublicStatus, error) {
	return decode[publicstatus.PublicStatus](s.c.public.GetPublicStatusJSON(ctx, slug, nil, publicEditors(editors)...))
}

// Raw is the generated client of the public routes (page, JSON, badge, RSS), with this
// client's retries and headers.
func (s *PublicStatusService) Raw() *publicstatus.ClientWithResponses { return s.c.public }

// newPublic builds the client of the public routes over raw's doer and editors: the root of
// the server, not /api/v2.
func newPublic(raw *RawClient) (*publicstatus.ClientWithResponses, error) {
	root := strings.TrimSuffix(strings.TrimSuffix(raw.Server, "/"), APIPath) + "/"
	return publicstatus.NewClientWithResponses(root,
		publicstatus.WithHTTPClient(raw.Client),
		func(c *publicstatus.Client) error {
			c.RequestEditors = publicEditors(raw.RequestEditors)
			return nil
		})
}

func publicEditors(editors []RequestEditorFn) []publicstatus.RequestEditorFn {
	out := make([]publicstatus.RequestEditorFn, len(editors))
	for i, e := range editors {
		out[i] = publicstatus.RequestEditorFn(e)
	}
	return out
}
