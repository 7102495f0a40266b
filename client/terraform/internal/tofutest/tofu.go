// Package tofutest gives the acceptance tests of the Terraform provider a real OpenTofu
// binary: $TF_ACC_TERRAFORM_PATH when it is set, else one built from the Go module proxy
// once per machine and cached, so that `make test` needs nothing preinstalled.
package tofutest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is the OpenTofu release the provider is tested against.
const Version = "v1.10.6"

const module = "github.com/opentofu/opentofu"

// Setup prepares the environment of terraform-plugin-testing for the calling test: TF_ACC=1
// (the tests run whatever the caller's environment says), TF_ACC_TERRAFORM_PATH (the binary
// of Path), TF_ACC_PROVIDER_NAMESPACE/HOST naming the provider as its binary serves it, and
// an empty CLI configuration so that tofu never reads a user's settings or reaches a
// registry (the provider is served in-process: there is nothing to download).
func Setup(t *testing.T) {
	t.Helper()
	bin, err := Path(context.Background())
	if err != nil {
		t.Fatalf("OpenTofu %s: %v", Version, err)
	}
	cfg := filepath.Join(t.TempDir(), "tofurc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_ACC", "1")
	t.Setenv("TF_ACC_TERRAFORM_PATH", bin)
	t.Setenv("TF_CLI_CONFIG_FILE", cfg)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "secuaas")
	t.Setenv("TF_ACC_PROVIDER_HOST", "registry.terraform.io")
	t.Setenv("CHECKPOINT_DISABLE", "1")
}

// Path returns an OpenTofu binary: $TF_ACC_TERRAFORM_PATH if set, else CachedPath, built
// there first if missing. Parallel test binaries wait on a file lock instead of building
// twice.
func Path(ctx context.Context) (string, error) {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p, nil
	}
	bin, err := CachedPath()
	if err != nil {
		return "", err
	}
	if ok(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if ok(bin) { // another process built it while we waited
		return bin, nil
	}
	return bin, build(ctx, bin)
}

// CachedPath is where the built binary is kept: beside the Go build cache, so that it
// survives between runs on one machine and a CI cache of GOCACHE's parent keeps it too.
func CachedPath() (string, error) {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOCACHE: %w", err)
	}
	cache := strings.TrimSpace(string(out))
	if cache == "" || cache == "off" {
		return "", errors.New("no Go build cache (GOCACHE) to keep OpenTofu beside")
	}
	return filepath.Join(filepath.Dir(cache), "secumon-tofu", Version, "tofu"), nil
}

func ok(bin string) bool {
	fi, err := os.Stat(bin)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// build downloads OpenTofu's module and builds its cmd/tofu into bin. `go install …@v` is
// refused (the module has replace directives), so the build runs inside the module cache
// with -mod=mod; it writes a temporary file renamed into place, so a killed build leaves no
// half binary.
func build(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 25*time.Minute)
	defer cancel()
	fmt.Fprintf(os.Stderr, "tofutest: building OpenTofu %s into %s (once per machine, a few minutes)…\n", Version, bin)
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+Version)
	dl.Dir = os.TempDir() // outside any module: no go.mod is touched
	dl.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := dl.Output()
	if err != nil {
		return fmt.Errorf("go mod download %s@%s: %w\n%s", module, Version, err, stderr(err))
	}
	dir, err := jsonDir(out)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	defer os.Remove(tmp)
	b := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./cmd/tofu")
	b.Dir = dir
	b.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := b.CombinedOutput(); err != nil {
		return fmt.Errorf("building cmd/tofu in %s: %w\n%s", dir, err, out)
	}
	return os.Rename(tmp, bin)
}

// jsonDir reads the module's directory from `go mod download -json`'s answer.
func jsonDir(out []byte) (string, error) {
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download: no Dir in %s", out)
	}
	return m.Dir, nil
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
