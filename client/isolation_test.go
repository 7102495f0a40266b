package client_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forbidden are the import path prefixes the SDK must never pull into a user's program: the
// server, its database driver and the probes' network libraries.
var forbidden = []string{
	"github.com/secuaas/secumon/server",
	"github.com/secuaas/secumon/gen",
	"github.com/secuaas/secumon/probes",
	"github.com/jackc/pgx",
	"github.com/gosnmp/gosnmp",
	"github.com/prometheus-community/pro-bing",
	"github.com/riverqueue",
	"github.com/getkin/kin-openapi",
}

// allowedModules are the only modules besides the standard library whose packages a program
// importing the SDK compiles.
var allowedModules = []string{
	"github.com/secuaas/secumon/client",
	"github.com/google/uuid",
	"github.com/oapi-codegen/runtime",
	"github.com/apapsch/go-jsonmerge/v2", // the runtime's
	// oapi-codegen's null-versus-absent type (no dependencies): an explicit null clears
	// IncidentUpdateCreate.public_title.
	"github.com/oapi-codegen/nullable",
}

// userProgram is what a customer writes: it imports the SDK and nothing else of SecuMon.
const userProgram = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/secuaas/secumon/client"
)

func main() {
	c, err := client.New(os.Getenv("SECUMON_URL"), client.WithToken(os.Getenv("SECUMON_TOKEN")))
	if err != nil {
		panic(err)
	}
	for h, err := range c.Hosts.All(context.Background(), nil) {
		if client.IsUnauthorized(err) {
			fmt.Println("bad token")
			return
		}
		fmt.Println(h.Name)
	}
}
`

// TestSDKBuildsInAFreshModule builds a program in a module of its own that requires the SDK
// (replaced by this checkout), as a customer would, and checks what it compiles.
func TestSDKBuildsInAFreshModule(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command")
	}
	checkout, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	goMod := "module example.com/sdkuser\n\ngo 1.26\n\n" +
		"require github.com/secuaas/secumon v0.0.0\n\n" +
		"replace github.com/secuaas/secumon => " + checkout + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(userProgram), 0o644))

	run := func(args ...string) string {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		// -mod=mod lets the go command complete go.mod and go.sum, through GOPROXY as the
		// environment sets it; GOWORK=off keeps any workspace of the caller out.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	run("build", "-o", filepath.Join(dir, "sdkuser"), ".")
	assert.FileExists(t, filepath.Join(dir, "sdkuser"))

	deps := strings.Fields(run("list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."))
	require.Contains(t, deps, "github.com/secuaas/secumon/client")
	for _, pkg := range deps {
		for _, bad := range forbidden {
			assert.False(t, strings.HasPrefix(pkg, bad), "the SDK pulls in %s", pkg)
		}
		if pkg == "example.com/sdkuser" {
			continue
		}
		allowed := false
		for _, mod := range allowedModules {
			allowed = allowed || pkg == mod || strings.HasPrefix(pkg, mod+"/")
		}
		assert.True(t, allowed, "unexpected dependency %s", pkg)
	}
}
