package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIErrorCarriesTheProblem(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-ID", "req-42")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"type":"https://secumon.secuaas.ovh/problems/validation","title":"Invalid request","status":400,
			"detail":"hostname: property \"hostname\" is missing","instance":"/api/v2/hosts",
			"errors":[{"field":"hostname","message":"property \"hostname\" is missing"}]}`)
	}), fastRetries(3))
	_, err := c.Hosts.Create(context.Background(), HostCreate{Name: "x"})
	require.Error(t, err)

	var apiErr *APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "https://secumon.secuaas.ovh/problems/validation", apiErr.Type)
	assert.Equal(t, "Invalid request", apiErr.Title)
	assert.Equal(t, "/api/v2/hosts", apiErr.Instance)
	assert.Equal(t, []FieldError{{Field: "hostname", Message: `property "hostname" is missing`}}, apiErr.Errors)
	assert.Equal(t, "req-42", apiErr.RequestID)
	assert.Equal(t, `secumon: 400 Invalid request: hostname: property "hostname" is missing (request req-42)`, err.Error())

	assert.True(t, IsValidation(err))
	assert.True(t, errors.Is(err, ErrValidation))
	assert.False(t, IsNotFound(err))
	assert.False(t, IsConflict(err))

	wrapped := fmt.Errorf("creating the host: %w", err)
	assert.True(t, IsValidation(wrapped), "helpers see through wrapping")
}

func TestStatusHelpers(t *testing.T) {
	cases := []struct {
		status int
		is     func(error) bool
	}{
		{http.StatusUnauthorized, IsUnauthorized},
		{http.StatusForbidden, IsForbidden},
		{http.StatusNotFound, IsNotFound},
		{http.StatusConflict, IsConflict},
		{http.StatusBadRequest, IsValidation},
	}
	for _, tc := range cases {
		err := error(&APIError{StatusCode: tc.status})
		for _, other := range cases {
			assert.Equal(t, other.status == tc.status, other.is(err), "%d vs helper of %d", tc.status, other.status)
		}
	}
	assert.False(t, IsNotFound(errors.New("plain")))
	assert.False(t, IsNotFound(nil))
}

func TestNonProblemErrorKeepsTheBody(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, "short and stout")
	}))
	_, err := c.Workspaces.List(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTeapot, apiErr.StatusCode)
	assert.Equal(t, "short and stout", string(apiErr.Body))
	assert.Equal(t, "secumon: 418 I'm a teapot", apiErr.Error())
}
