package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// TokenPrefix marks SecuMon tokens so that secret scanners can recognise leaked ones.
const TokenPrefix = "smn_"

// NewToken returns a fresh random API token (shown to its owner once) and the hash to store.
func NewToken() (token string, hash []byte) { return NewSecret(TokenPrefix) }

// NewSecret returns a fresh secret of 256 random bits after prefix (which lets secret
// scanners recognise a leaked one), shown once, and the hash to store (HashToken): API tokens,
// heartbeat ping tokens.
func NewSecret(prefix string) (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken is the only form in which a token is stored: SHA-256 suffices because tokens
// carry 256 random bits, so there is nothing to brute-force.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// WorkerTokenPrefix marks worker tokens: the credentials of remote workers, accepted by the
// worker protocol (/worker/…) only, never by the rest of the API.
const WorkerTokenPrefix = "wrk_"

// NewWorkerToken returns a fresh worker token (shown once) and the hash to store.
func NewWorkerToken() (token string, hash []byte) { return NewSecret(WorkerTokenPrefix) }

// Kind is what a bearer token is: a user's API token or a remote worker's token.
type Kind int

const (
	UserToken Kind = iota
	WorkerToken
)

// WellFormed rejects obviously wrong tokens before any database work.
func WellFormed(token string) bool {
	_, ok := KindOf(token)
	return ok
}

// KindOf tells a token's kind by its prefix; ok is false for a malformed token.
func KindOf(token string) (k Kind, ok bool) {
	for _, c := range []struct {
		prefix string
		kind   Kind
	}{{TokenPrefix, UserToken}, {WorkerTokenPrefix, WorkerToken}} {
		if strings.HasPrefix(token, c.prefix) && len(token) > len(c.prefix)+16 && len(token) < 200 {
			return c.kind, true
		}
	}
	return 0, false
}
