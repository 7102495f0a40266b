// Package public serves the anonymous status-page routes (/status/{slug} and its JSON, badge
// and RSS) described by openapi/status-public.yaml, outside /api/v2 and without a token.
package public

import (
	"net/http"

	gen "github.com/secuaas/secumon/gen/public"
	"github.com/secuaas/secumon/server/problem"
)

// Handlers implements the generated strict interface.
type Handlers struct{}

var _ gen.StrictServerInterface = Handlers{}

func notImplemented(operationID string) error {
	return problem.Newf(http.StatusNotImplemented, "operation %s is not implemented yet", operationID)
}
