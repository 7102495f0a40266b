package public

// The anonymous status-page routes answer 501 until the status-pages issue builds them.

import (
	"context"

	gen "github.com/secuaas/secumon/gen/public"
)

func (Handlers) GetPublicStatusPage(context.Context, gen.GetPublicStatusPageRequestObject) (gen.GetPublicStatusPageResponseObject, error) {
	return nil, notImplemented("getPublicStatusPage")
}

func (Handlers) GetPublicStatusJSON(context.Context, gen.GetPublicStatusJSONRequestObject) (gen.GetPublicStatusJSONResponseObject, error) {
	return nil, notImplemented("getPublicStatusJSON")
}

func (Handlers) GetPublicStatusBadge(context.Context, gen.GetPublicStatusBadgeRequestObject) (gen.GetPublicStatusBadgeResponseObject, error) {
	return nil, notImplemented("getPublicStatusBadge")
}

func (Handlers) GetPublicStatusRSS(context.Context, gen.GetPublicStatusRSSRequestObject) (gen.GetPublicStatusRSSResponseObject, error) {
	return nil, notImplemented("getPublicStatusRSS")
}
