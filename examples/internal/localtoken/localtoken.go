// Package localtoken finds the API token the examples use when SECUMON_TOKEN is not set: the
// owner token `make run` (secumon serve) wrote on its first start.
package localtoken

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Owner reads $SECUMON_DATA_DIR/owner.token (./.secumon/owner.token by default). Its error
// says what to do instead, naming role: the least role the example needs for a token of its
// own.
func Owner(role string) (string, error) {
	dir := os.Getenv("SECUMON_DATA_DIR")
	if dir == "" {
		dir = ".secumon"
	}
	file := filepath.Join(dir, "owner.token")
	b, err := os.ReadFile(file)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err == nil {
		err = errors.New("empty")
	}
	return "", fmt.Errorf("set SECUMON_TOKEN to an API token, or run this where `make run` wrote %s (%v); `secumon token create --role %s …` mints other tokens", file, err, role)
}
