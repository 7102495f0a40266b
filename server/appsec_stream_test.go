package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/edge/handlers"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// bigTrivyReport is a Trivy image report of about size bytes with vulnerabilities shaped like
// Trivy's own (references, CVSS, data source: what SecuMon skips), and how many there are.
func bigTrivyReport(size int) ([]byte, int) {
	var b bytes.Buffer
	b.WriteString(`{"SchemaVersion": 2, "CreatedAt": "2026-06-23T12:00:00Z", "ArtifactName": "registry.example.com/big/api:7", "ArtifactType": "container_image",
 "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}, "ImageID": "sha256:0123"}, "Trivy": {"Version": "0.56.2"},
 "Results": [{"Target": "registry.example.com/big/api:7 (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [`)
	n := 0
	for ; b.Len() < size; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"VulnerabilityID": "CVE-2025-%06d", "PkgID": "libpkg%d@1.%d", "PkgName": "libpkg%d", "InstalledVersion": "1.%d-1", "FixedVersion": "1.%d-2",
 "Status": "fixed", "Layer": {"Digest": "sha256:%064d", "DiffID": "sha256:%064d"}, "SeveritySource": "nvd", "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2025-%06d",
 "DataSource": {"ID": "debian", "Name": "Debian Security Tracker", "URL": "https://salsa.debian.org/security-tracker-team/security-tracker"},
 "Title": "libpkg%d: out-of-bounds read in the parser", "Description": "%s", "Severity": "%s", "CweIDs": ["CWE-125"],
 "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": 9.8}, "redhat": {"V3Vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", "V3Score": 5.9}},
 "References": [%s], "PublishedDate": "2025-01-02T03:04:05Z", "LastModifiedDate": "2025-02-03T04:05:06Z"}`,
			n, n%700, n, n%700, n, n, n, n, n, n%700, strings.Repeat("A crafted input makes the parser read past its buffer. ", 4),
			[]string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}[n%4], references(n))
	}
	b.WriteString(`]}]}`)
	return b.Bytes(), n
}

func references(n int) string {
	refs := make([]string, 8)
	for i := range refs {
		refs[i] = fmt.Sprintf(`"https://security-tracker.example.org/tracker/CVE-2025-%06d/ref-%d"`, n, i)
	}
	return strings.Join(refs, ", ")
}

// TestAppSecurityUploadMemory: a ~15 MiB Trivy report goes through the real stack (gate,
// idempotency, the streaming handler, PostgreSQL) with the heap growing by less than twice
// its size at any moment (sampled), and nothing of it kept afterwards. Reading it as a
// generic map, then again as bytes, then as structs took about six times its size.
func TestAppSecurityUploadMemory(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	report, vulns := bigTrivyReport(15 << 20)
	size := uint64(len(report))

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// HeapAlloc counts garbage until the next collection, which by default comes when the heap
	// doubles: collecting at 10 % growth keeps the samples close to what is live.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	base := heap()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	key := uuid.NewString() // as the SDK sends one: the idempotency middleware reads the body too
	res := upload(t, c, &client.UploadAppSecurityReportParams{IdempotencyKey: &key}, report)
	close(done)
	<-sampled
	require.Equal(t, http.StatusCreated, res.StatusCode(), string(res.Body))
	assert.Equal(t, vulns, res.JSON201.Findings)

	grew := peak.Load() - min(base, peak.Load())
	t.Logf("report %d bytes, %d findings; heap %d MiB before, peak +%d MiB (%.2f× the report)",
		size, vulns, base>>20, grew>>20, float64(grew)/float64(size))
	assert.Less(t, grew, 2*size, "the heap grew by at most twice the report")
	after := heap()
	assert.Less(t, int64(after)-int64(base), int64(size/4), "nothing of the report is kept")
}

// TestAppSecurityUploadConcurrencyLimit: past the uploads a process takes at once, a report
// waits for a turn and, without one in time, gets 503 with Retry-After (problem+json).
func TestAppSecurityUploadConcurrencyLimit(t *testing.T) {
	env := servertest.Start(t, func(d *server.Deps) {
		d.ReportUploads = handlers.UploadLimits{Concurrent: 1, Wait: 300 * time.Millisecond}
	})
	post := func(body io.Reader) *http.Response {
		req, err := http.NewRequest(http.MethodPost, env.URL+"/api/v2/app-security/reports", body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+env.OwnerToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	small := `{"SchemaVersion": 2, "ArtifactName": "alpine:3.19", "Results": [{"Target": "go.sum", "Class": "lang-pkgs", "Type": "gomod",
		"Vulnerabilities": [{"VulnerabilityID": "CVE-2024-1", "PkgName": "x", "Severity": "HIGH"}]}]}`

	// A slow upload holds the one turn: its headers and first bytes went out (more than the
	// client buffers; JSON allows the leading spaces) and the server waits for the rest.
	lead := []byte(strings.Repeat(" ", 64<<10) + small[:40])
	pr, pw := io.Pipe()
	slow := make(chan *http.Response, 1)
	go func() { slow <- post(pr) }()
	_, err := pw.Write(lead)
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // for the server to take the turn

	start := time.Now()
	busy := post(strings.NewReader(small))
	body, _ := io.ReadAll(busy.Body)
	busy.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, busy.StatusCode, string(body))
	assert.Equal(t, "application/problem+json", busy.Header.Get("Content-Type"))
	assert.Equal(t, "5", busy.Header.Get("Retry-After"))
	assert.Contains(t, string(body), "scanner reports")
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "it waited for a turn first")

	_, err = pw.Write([]byte(small[40:]))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	done := <-slow
	out, _ := io.ReadAll(done.Body)
	done.Body.Close()
	require.Equal(t, http.StatusCreated, done.StatusCode, string(out))

	// The turn is free again; a report that waits less than the limit gets it.
	pr, pw = io.Pipe()
	go func() { slow <- post(pr) }()
	_, err = pw.Write(lead)
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // for the server to take the turn
	waiting := make(chan *http.Response, 1)
	go func() { waiting <- post(strings.NewReader(small)) }()
	time.Sleep(100 * time.Millisecond)
	_, err = pw.Write([]byte(small[40:]))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	for _, ch := range []chan *http.Response{slow, waiting} {
		resp := <-ch
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	}
	var list struct {
		Count int `json:"count"`
	}
	resp, b := getPublic(t, env.URL+"/api/v2/app-security/reports", env.OwnerToken, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.Unmarshal(b, &list))
	assert.Equal(t, 3, list.Count, "the refused one stored nothing")
}
