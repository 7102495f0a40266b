package main

import (
	"os"
	"strings"
	"testing"
)

// The request side of the real contract: what is sent (bodies, parameters, the configs looked up
// by name) is in, what is only answered is out.
func TestRequestSide(t *testing.T) {
	spec, err := os.ReadFile("../secumon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := requestSideSchemas(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"components.schemas.HostCreate.properties.name", true},
		{"components.schemas.CheckCreate.properties.interval_sec", true},
		{"components.schemas.Severity", true},   // reached from bodies too
		{"components.schemas.PingConfig", true}, // no $ref: looked up by check_type
		{"components.schemas.Host.properties.name", false},
		{"components.schemas.HostList.properties.count", false},
		{"components.parameters.Limit.schema", true},
		{"paths./hosts.get.parameters.0.schema", true},
		{"paths./hosts.post.requestBody.content.application/json.schema", true},
		{"paths./hosts.get.responses.200", false},
		{"components.responses.Unauthorized.headers", false},
		{"servers.0", false},
	} {
		if got := isRequestSide(strings.Split(tc.path, "."), schemas); got != tc.want {
			t.Errorf("%s: request side %v, want %v", tc.path, got, tc.want)
		}
	}
}
