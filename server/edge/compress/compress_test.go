package compress

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func serve(h http.HandlerFunc, acceptEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	Middleware(h).ServeHTTP(rec, req)
	return rec
}

func TestCompressDecisions(t *testing.T) {
	big := strings.Repeat(`{"name":"web-prod-01"},`, 200)
	t.Run("large body, gzip accepted, written in pieces", func(t *testing.T) {
		rec := serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "999999")
			for i := 0; i < len(big); i += 100 {
				_, _ = w.Write([]byte(big[i:min(i+100, len(big))]))
			}
		}, "br, gzip")
		assert.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
		assert.Empty(t, rec.Header().Get("Content-Length"), "the handler's length was of the plain body")
		zr, err := gzip.NewReader(rec.Body)
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, big, string(plain))
	})
	t.Run("small body", func(t *testing.T) {
		rec := serve(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("small")) }, "gzip")
		assert.Empty(t, rec.Header().Get("Content-Encoding"))
		assert.Equal(t, "small", rec.Body.String())
		assert.Equal(t, []string{"Accept-Encoding"}, rec.Header().Values("Vary"))
	})
	t.Run("already encoded", func(t *testing.T) {
		rec := serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte(big))
		}, "gzip")
		assert.Equal(t, big, rec.Body.String(), "not compressed twice")
	})
	t.Run("event stream flushes in clear", func(t *testing.T) {
		rec := serve(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("retry: 3000\n\n"))
			require.NoError(t, http.NewResponseController(w).Flush())
			_, _ = w.Write([]byte(big))
		}, "gzip")
		assert.Empty(t, rec.Header().Get("Content-Encoding"))
		assert.True(t, rec.Flushed)
		assert.True(t, strings.HasPrefix(rec.Body.String(), "retry: 3000"))
	})
	t.Run("not accepted", func(t *testing.T) {
		rec := serve(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(big)) }, "gzip;q=0")
		assert.Empty(t, rec.Header().Get("Content-Encoding"))
		assert.Equal(t, big, rec.Body.String())
	})
	t.Run("304 has no body to compress", func(t *testing.T) {
		rec := serve(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) }, "gzip")
		assert.Equal(t, http.StatusNotModified, rec.Code)
		assert.Empty(t, rec.Header().Get("Content-Encoding"))
	})
}
