// Package compress gzips answers for clients that accept it. The decision waits for the
// first MinSize bytes: small answers gain nothing and go out as they are. An answer that
// already has a Content-Encoding (the status pages compress their cached bodies once) or is
// a stream (text/event-stream, which must flush event by event) is never touched.
package compress

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// MinSize is the smallest body worth compressing.
const MinSize = 1024

var writers = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return zw
}}

// Middleware gzips next's answers when the request accepts gzip. Every answer says
// Vary: Accept-Encoding, compressed or not, so that caches keep the two apart.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if r.Method == http.MethodHead || !AcceptsGzip(r) {
			next.ServeHTTP(w, r)
			return
		}
		cw := &writer{ResponseWriter: w}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// AcceptsGzip reads Accept-Encoding: gzip (or *) listed without q=0.
func AcceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, coding := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(coding), ";")
			name = strings.TrimSpace(name)
			if strings.EqualFold(name, "gzip") || name == "*" {
				q := strings.ReplaceAll(params, " ", "")
				if q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000" {
					return true
				}
			}
		}
	}
	return false
}

// writer holds the status and the first bytes until it knows whether to compress.
type writer struct {
	http.ResponseWriter
	status  int
	buf     []byte
	decided bool
	zw      *gzip.Writer
}

func (c *writer) WriteHeader(status int) {
	if c.status != 0 || c.decided {
		return
	}
	c.status = status
	// 1xx, 204, 304 and answers that are already encoded or stream go out at once.
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || !c.compressible() {
		c.decide(false)
	}
}

// compressible says whether the answer's headers allow compressing it.
func (c *writer) compressible() bool {
	h := c.Header()
	if h.Get("Content-Encoding") != "" {
		return false
	}
	ct := h.Get("Content-Type")
	return !strings.HasPrefix(ct, "text/event-stream") && !strings.HasPrefix(ct, "image/png")
}

func (c *writer) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.decided {
		if c.zw != nil {
			return c.zw.Write(p)
		}
		return c.ResponseWriter.Write(p)
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) >= MinSize {
		if err := c.decide(true); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// decide sends the held status and bytes, compressed or not.
func (c *writer) decide(compress bool) error {
	c.decided = true
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if compress {
		h := c.Header()
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		c.zw = writers.Get().(*gzip.Writer)
		c.zw.Reset(c.ResponseWriter)
	}
	c.ResponseWriter.WriteHeader(c.status)
	if len(c.buf) == 0 {
		return nil
	}
	var err error
	if c.zw != nil {
		_, err = c.zw.Write(c.buf)
	} else {
		_, err = c.ResponseWriter.Write(c.buf)
	}
	c.buf = nil
	return err
}

// Flush sends what is held (compressed if compressing) and flushes the connection.
func (c *writer) Flush() {
	if !c.decided {
		if c.status == 0 {
			return
		}
		_ = c.decide(len(c.buf) >= MinSize)
	}
	if c.zw != nil {
		_ = c.zw.Flush()
	}
	_ = http.NewResponseController(c.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *writer) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *writer) close() {
	if !c.decided {
		if c.status == 0 {
			return // nothing was written: net/http sends its empty 200
		}
		_ = c.decide(false)
	}
	if c.zw != nil {
		_ = c.zw.Close()
		c.zw.Reset(nil)
		writers.Put(c.zw)
		c.zw = nil
	}
}
