package facts

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/ai"
)

func TestCheckFactsLeaveSecretsOut(t *testing.T) {
	status := int16(2)
	errMsg := "dial tcp: connection refused"
	cases := []struct {
		typ, config string
		want        ai.CheckFacts
	}{
		{"http", `{"url":"https://admin:hunter2@shop.example.com:8443/health?token=abc","headers":{"Authorization":"Bearer xyz"}}`,
			ai.CheckFacts{Type: "http", Port: 8443, Target: "https://shop.example.com:8443/health"}},
		{"http", `{"url":"http://shop.example.com/"}`, ai.CheckFacts{Type: "http", Port: 80, Target: "http://shop.example.com/"}},
		{"snmp", `{"community":"s3cret","auth_passphrase":"p4ssphrase"}`, ai.CheckFacts{Type: "snmp", Port: 161}},
		{"tcp", `{"port":5432,"send":"PASSWORD x"}`, ai.CheckFacts{Type: "tcp", Port: 5432}},
		{"tls", `{}`, ai.CheckFacts{Type: "tls", Port: 443}},
		{"postgres", `{"user":"monitor","password":"hunter2","query":"SELECT secret FROM t"}`, ai.CheckFacts{Type: "postgres", Port: 5432}},
		{"smtp", `{"port":587}`, ai.CheckFacts{Type: "smtp", Port: 587}},
		{"grpc", `{"port":50051,"service":"shop.Orders"}`, ai.CheckFacts{Type: "grpc", Port: 50051}},
		{"dns", `{"query_name":"example.com","resolver":"10.0.0.53:53"}`, ai.CheckFacts{Type: "dns", Port: 53, Target: "10.0.0.53:53"}},
		{"dns", `{"query_name":"example.com","resolver":"10.0.0.5:53"}`, ai.CheckFacts{Type: "dns", Port: 53}}, // the host itself
	}
	for _, c := range cases {
		got := check(db.HostChecksForAIRow{CheckType: c.typ, Config: json.RawMessage(c.config)}, "10.0.0.5")
		assert.Equal(t, c.want, got, c.config)
	}

	withResult := check(db.HostChecksForAIRow{CheckType: "ping", Config: json.RawMessage(`{}`), LatestStatus: &status, LatestError: &errMsg,
		LatestFacts: []byte(`{"sysDescr":"Linux db 6.1","sysName":"db"}`)}, "10.0.0.5")
	assert.Equal(t, "CRITICAL", withResult.Status)
	assert.Equal(t, errMsg, withResult.Error)
	assert.Equal(t, "Linux db 6.1", withResult.SysDescr)
}

func TestUserTagsDropAITags(t *testing.T) {
	assert.Equal(t, map[string]string{"env": "prod"}, UserTags([]byte(`{"env":"prod","ai:role":"web-server"}`)))
}

// A long session's findings do not grow the prompt without bound: the newest are kept.
func TestTimelineCapsPreviousFindings(t *testing.T) {
	start := time.Date(2026, 6, 23, 12, 0, 0, 0, time.UTC)
	var events []db.IncidentEvent
	for i := range 500 {
		events = append(events, db.IncidentEvent{Time: start.Add(time.Duration(i) * time.Minute), Action: "ai_finding", Actor: "ai", Note: fmt.Sprintf("finding %d", i)})
	}
	entries, findings := timeline(events, start)
	assert.Empty(t, entries)
	assert.Len(t, findings, maxTimeline)
	assert.Equal(t, "finding 499", findings[len(findings)-1], "the newest are kept")
}
