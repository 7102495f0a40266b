package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/edge/reqid"
)

func TestPanicsBecomeLogged500Problems(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := reqid.Middleware(recoverPanics(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/hosts", nil))

	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p struct {
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, 500, p.Status)
	require.NotEmpty(t, p.RequestID)
	assert.Equal(t, rec.Header().Get(reqid.Header), p.RequestID)
	assert.Contains(t, logs.String(), `"request_id":"`+p.RequestID+`"`)
	assert.Contains(t, logs.String(), "boom")
}
