package handlers

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/domain/heartbeat"
	"github.com/secuaas/secumon/server/edge/problem"
)

// RotateCheckPingToken gives a heartbeat check a new ping URL, shown in this answer only.
func (a *API) RotateCheckPingToken(ctx context.Context, req api.RotateCheckPingTokenRequestObject) (api.RotateCheckPingTokenResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	var token string
	err := a.inTx(ctx, func(q *db.Queries) error {
		c, err := q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return notFoundAs(err, "check")
		}
		if c.CheckType != probes.TypeHeartbeat {
			return problem.Conflict("check %s is a %s check; only heartbeat checks have a ping URL", c.ID, c.CheckType)
		}
		token, err = heartbeat.Rotate(ctx, q, ws, c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.RotateCheckPingToken200JSONResponse{CheckId: req.Id, PingUrl: a.pingURL(ctx, token)}, nil
}

// checkHeartbeatConfig refuses what the schema cannot say about a heartbeat config (exactly
// one of period_sec and schedule, a valid schedule and time zone), naming the field.
func checkHeartbeatConfig(checkType string, config map[string]any) error {
	if checkType != probes.TypeHeartbeat {
		return nil
	}
	if field, msg := probes.CheckHeartbeatConfig(mustJSON(config)); field != "" {
		return problem.Invalid(problem.FieldError{Field: field, Message: msg})
	}
	return nil
}

// pingURL is the absolute ping URL of token: under the configured public URL, or on the
// origin the request came to.
func (a *API) pingURL(ctx context.Context, token string) string {
	base := a.publicURL
	if base == "" {
		base = requestOrigin(ctx)
	}
	return base + heartbeat.PathPrefix + token
}

type originKey struct{}

// RequestOrigin records the request's origin (scheme and host, as the client addressed the
// server) for the answers that give URLs to call: the ping URL of heartbeat checks.
func RequestOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		ctx := context.WithValue(r.Context(), originKey{}, scheme+"://"+r.Host)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func requestOrigin(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

// createHeartbeat gives a new heartbeat check its first ping token, in the check's
// transaction, and returns the ping URL.
func (a *API) createHeartbeat(ctx context.Context, q *db.Queries, ws, checkID uuid.UUID) (*string, error) {
	token, err := heartbeat.Rotate(ctx, q, ws, checkID)
	if err != nil {
		return nil, err
	}
	u := a.pingURL(ctx, token)
	return &u, nil
}
