package samples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/openapi/samples"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// buildSamples writes every Go sample of the contract into one program, each as a function
// run by its operation id, and builds it: a sample that no longer compiles against the SDK (a
// renamed method, a changed body type) fails here.
func buildSamples(t *testing.T) (bin string, all []samples.Sample) {
	t.Helper()
	all, err := samples.List(openapi.MainYAML)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(all), 62, "one sample per operation")

	imports := map[string]bool{"context": true, "fmt": true, "os": true}
	var funcs strings.Builder
	for _, s := range all {
		for _, imp := range s.GoImports {
			imports[imp] = true
		}
		fmt.Fprintf(&funcs, "\t%q: func(ctx context.Context) error {\n%s\t},\n", s.OperationID, indent(s.Go, "\t\t"))
	}
	var src strings.Builder
	src.WriteString("// Code written by samples_test.go: every Go sample of the contract.\npackage main\n\nimport (\n")
	for imp := range imports {
		fmt.Fprintf(&src, "\t%q\n", imp)
	}
	src.WriteString(")\n\nvar samples = map[string]func(ctx context.Context) error{\n")
	src.WriteString(funcs.String())
	src.WriteString(`}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := samples[os.Args[1]](ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`)
	code := strings.Replace(src.String(), "import (\n", "import (\n\t\"time\"\n", 1)

	// Inside the module (so that it imports the SDK as users do), under testdata (so that
	// ./... never sees it).
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	dir, err := os.MkdirTemp("testdata", "gosamples-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644))
	bin = filepath.Join(t.TempDir(), "gosamples")
	out, err := exec.Command("go", "build", "-o", bin, "./"+dir).CombinedOutput()
	require.NoError(t, err, "the Go samples do not build:\n%s\n%s", out, numbered(code))
	out, err = exec.Command("go", "vet", "./"+dir).CombinedOutput()
	require.NoError(t, err, "go vet on the Go samples:\n%s", out)
	return bin, all
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%4d %s\n", i+1, l)
	}
	return b.String()
}

func TestGoSamplesCompile(t *testing.T) {
	buildSamples(t)
}

// Some samples, run as pasted against a real server: curl with bash, Go through the program.
func TestSamplesRunAgainstAServer(t *testing.T) {
	bin, all := buildSamples(t)
	byID := map[string]samples.Sample{}
	for _, s := range all {
		byID[s.OperationID] = s
	}
	env := servertest.Start(t)
	run := func(lang, opID string, vars ...string) (status int, body []byte) {
		t.Helper()
		s, ok := byID[opID]
		require.True(t, ok, opID)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var cmd *exec.Cmd
		if lang == "go" {
			cmd = exec.CommandContext(ctx, bin, opID)
		} else {
			// -w so that the status follows the body on its own line, as the Go sample prints it first.
			cmd = exec.CommandContext(ctx, "bash", "-euc", strings.Replace(s.Curl, "curl -s", `curl -s -w '\n%{http_code}'`, 1))
		}
		cmd.Env = append(os.Environ(), append([]string{"SECUMON_URL=" + env.URL, "SECUMON_TOKEN=" + env.OwnerToken}, vars...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s sample of %s:\n%s", lang, opID, out)
		out = bytes.TrimSpace(out)
		if lang == "go" {
			code, rest, _ := bytes.Cut(out, []byte(" "))
			_, err = fmt.Sscan(string(code), &status)
			body = rest
		} else {
			i := bytes.LastIndexByte(out, '\n')
			_, err = fmt.Sscan(string(out[i+1:]), &status)
			body = out[:max(i, 0)]
		}
		require.NoError(t, err, "%s sample of %s printed %q", lang, opID, out)
		t.Logf("%s %s: %d %s", lang, opID, status, body)
		return status, body
	}
	id := func(body []byte) string {
		var v struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &v), "%s", body)
		require.NotEmpty(t, v.ID, "%s", body)
		return v.ID
	}

	status, body := run("go", "createHost")
	require.Equal(t, 201, status)
	host := id(body)
	status, body = run("curl", "getHost", "ID="+host)
	require.Equal(t, 200, status)
	require.Equal(t, host, id(body))
	status, _ = run("go", "updateHost", "ID="+host)
	require.Equal(t, 200, status)
	status, body = run("curl", "listHosts")
	require.Equal(t, 200, status)
	require.Contains(t, string(body), host)

	status, body = run("curl", "createIncident")
	require.Equal(t, 201, status)
	status, _ = run("go", "getIncident", "ID="+id(body))
	require.Equal(t, 200, status)

	status, _ = run("curl", "uploadAppSecurityReport")
	require.Equal(t, 201, status)

	status, _ = run("go", "deleteHost", "ID="+host)
	require.Equal(t, 204, status)
}
