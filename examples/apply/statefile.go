package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// State is what apply created, like Terraform's state: for each kind of resource, the file's
// key (name, slug or title) and the id of the resource it stands for. Apply manages only
// these resources: it updates them (renames included), and -prune deletes those the file no
// longer lists. Whatever else the workspace holds is never touched: a resource of the file's
// name that the state does not know is an error unless -adopt takes it over.
type State struct {
	Version   int    `json:"version"`
	Workspace string `json:"workspace"` // the workspace the ids belong to
	// Salt seeds the secret hashes, so that they cannot be looked up in a table.
	Salt      string                      `json:"salt"`
	Resources map[string]map[string]Owned `json:"resources"` // kind → key → resource

	path string
}

// Owned is one resource apply manages.
type Owned struct {
	ID uuid.UUID `json:"id"`
	// Secrets is a salted hash of the write-only fields apply last sent (check secrets,
	// webhook secrets): the API never returns them, so this is how a changed secret shows.
	Secrets string `json:"secrets,omitempty"`
}

const stateVersion = 1

// defaultStatePath is the state file beside the YAML file: example.yaml → example.state.json.
func defaultStatePath(file string) string {
	return strings.TrimSuffix(file, filepath.Ext(file)) + ".state.json"
}

// LoadState reads the state at path; a missing file is an empty state for workspace.
func LoadState(path, workspace string) (*State, error) {
	s := &State{Version: stateVersion, Workspace: workspace, Resources: map[string]map[string]Owned{}, path: path}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		s.Salt = hex.EncodeToString(salt)
		return s, nil
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("state file %s: version %d, this apply reads version %d", path, s.Version, stateVersion)
	}
	if s.Workspace != workspace {
		return nil, fmt.Errorf("state file %s belongs to workspace %s, and the token acts on workspace %s: use another -state file", path, s.Workspace, workspace)
	}
	if s.Resources == nil {
		s.Resources = map[string]map[string]Owned{}
	}
	s.path = path
	return s, nil
}

// Save writes the state atomically (a temporary file renamed over the old one).
func (s *State) Save() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// Get returns the resource of kind the state knows by key.
func (s *State) Get(kind, key string) (Owned, bool) {
	o, ok := s.Resources[kind][key]
	return o, ok
}

// Set records that key stands for the resource o, dropping any other key of that id (a
// rename).
func (s *State) Set(kind, key string, o Owned) {
	m := s.Resources[kind]
	if m == nil {
		m = map[string]Owned{}
		s.Resources[kind] = m
	}
	for k, old := range m {
		if old.ID == o.ID && k != key {
			delete(m, k)
		}
	}
	m[key] = o
}

// Remove forgets key.
func (s *State) Remove(kind, key string) {
	delete(s.Resources[kind], key)
}

// Owns reports whether the state knows the resource with this id.
func (s *State) Owns(kind string, id uuid.UUID) bool {
	for _, o := range s.Resources[kind] {
		if o.ID == id {
			return true
		}
	}
	return false
}

// Hash is the salted hash of secrets (any JSON value), "" when there are none.
func (s *State) Hash(secrets any) string {
	if secrets == nil {
		return ""
	}
	data, err := json.Marshal(secrets) // maps marshal with sorted keys: stable
	if err != nil || string(data) == "null" || string(data) == "{}" || string(data) == "[]" {
		return ""
	}
	sum := sha256.Sum256(append([]byte(s.Salt+"\x00"), data...))
	return "sha256:" + hex.EncodeToString(sum[:])
}
