// Package auth checks the API's bearer tokens. Tokens live in a file as
// SHA-256 hashes with a name and a role; the file is reloaded when it
// changes or on SIGHUP, and tokens are compared in constant time.
package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// Role is what a token may do. Each role from viewer up includes the ones
// below it; worker is below viewer and apart: it may use only the HTTP
// worker protocol's routes, for the groups its token names.
type Role int

// Roles, weakest first.
const (
	RoleNone     Role = iota
	RoleWorker        // the worker protocol's routes, for its groups; nothing else
	RoleViewer        // read everything
	RoleOperator      // + pause, resume, trigger, backfill, cancel snapshots
	RoleAdmin         // + create, change and delete jobs and groups
)

func (r Role) String() string {
	return [...]string{"none", "worker", "viewer", "operator", "admin"}[r]
}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch s {
	case "worker":
		return RoleWorker, nil
	case "viewer":
		return RoleViewer, nil
	case "operator":
		return RoleOperator, nil
	case "admin":
		return RoleAdmin, nil
	}
	return RoleNone, fmt.Errorf("unknown role %q: want worker, viewer, operator or admin", s)
}

// Identity is who a request acts as.
type Identity struct {
	Name string
	Role Role
	// Groups are the groups a worker token may serve; nil is every group.
	Groups []string
}

// MayServe reports whether id may act as a worker of group: a worker
// token of that group (or of every group), or an admin.
func (id Identity) MayServe(group string) bool {
	switch id.Role {
	case RoleAdmin:
		return true
	case RoleWorker:
		return id.Groups == nil || slices.Contains(id.Groups, group)
	}
	return false
}

// Anonymous is the identity of requests when authentication is off.
var Anonymous = Identity{Name: "anonymous", Role: RoleAdmin}

// entry is one token of the file, kept by hash only.
type entry struct {
	Name        string `json:"name" yaml:"name"`
	Role        string `json:"role" yaml:"role"`
	TokenSHA256 string `json:"token_sha256" yaml:"token_sha256"`
	// Groups limits a worker token to these groups (absent: every group).
	Groups []string `json:"groups,omitempty" yaml:"groups,omitempty"`
	hash   []byte
	role   Role
}

// File is the tokens file's format (YAML or JSON):
//
//	tokens:
//	  - name: ci
//	    role: operator
//	    token_sha256: <hex sha-256 of the token>
//	  - name: billing-worker
//	    role: worker
//	    groups: [billing]
//	    token_sha256: <hex sha-256 of the token>
type File struct {
	Tokens []entry `json:"tokens" yaml:"tokens"`
}

// Parse reads a tokens file's content (YAML; JSON is YAML too) and checks
// every entry.
func Parse(b []byte) ([]entry, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	names := map[string]bool{}
	for i := range f.Tokens {
		e := &f.Tokens[i]
		if e.Name == "" || names[e.Name] {
			return nil, fmt.Errorf("tokens file: entry %d: name missing or repeated", i+1)
		}
		names[e.Name] = true
		role, err := ParseRole(e.Role)
		if err != nil {
			return nil, fmt.Errorf("tokens file: %s: %w", e.Name, err)
		}
		h, err := hex.DecodeString(strings.TrimSpace(e.TokenSHA256))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("tokens file: %s: token_sha256 must be 64 hex digits (sha256sum of the token)", e.Name)
		}
		if len(e.Groups) > 0 && role != RoleWorker {
			return nil, fmt.Errorf("tokens file: %s: groups limit worker tokens only; role %s has none", e.Name, role)
		}
		for _, g := range e.Groups {
			if g == "" {
				return nil, fmt.Errorf("tokens file: %s: an empty group", e.Name)
			}
		}
		e.hash, e.role = h, role
	}
	return f.Tokens, nil
}

// HashToken returns the hex SHA-256 of a token, as the tokens file wants it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticator checks tokens against the current tokens file.
type Authenticator struct {
	path string
	log  *slog.Logger

	mu      sync.RWMutex
	entries []entry
	modTime time.Time
	size    int64
}

// Load reads the tokens file at path. Run keeps it current.
func Load(path string, log *slog.Logger) (*Authenticator, error) {
	a := &Authenticator{path: path, log: log}
	if err := a.reload(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Authenticator) reload() error {
	st, err := os.Stat(a.path)
	if err != nil {
		return fmt.Errorf("tokens file: %w", err)
	}
	b, err := os.ReadFile(a.path)
	if err != nil {
		return fmt.Errorf("tokens file: %w", err)
	}
	entries, err := Parse(b)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.entries, a.modTime, a.size = entries, st.ModTime(), st.Size()
	a.mu.Unlock()
	return nil
}

// Run reloads the file when it changes (checked every interval) or on
// SIGHUP, until ctx ends. A file that no longer parses is logged and the
// previous tokens stay in force.
func (a *Authenticator) Run(ctx context.Context, interval time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-hup:
			force = true
		case <-tick.C:
		}
		if !force && !a.changed() {
			continue
		}
		if err := a.reload(); err != nil {
			a.log.Error("tokens file not reloaded; the previous tokens stay in force", "err", err)
			continue
		}
		a.mu.RLock()
		n := len(a.entries)
		a.mu.RUnlock()
		a.log.Info("tokens file reloaded", "tokens", n)
	}
}

func (a *Authenticator) changed() bool {
	st, err := os.Stat(a.path)
	if err != nil {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return !st.ModTime().Equal(a.modTime) || st.Size() != a.size
}

// ErrNoToken and ErrBadToken are the two ways to be unauthenticated.
var (
	ErrNoToken  = errors.New("no bearer token")
	ErrBadToken = errors.New("unknown token")
)

// Authenticate checks an Authorization header value ("Bearer <token>", the
// scheme in any case). It
// compares the token's hash with every entry in constant time, so timing
// tells nothing about which entry, if any, matched.
func (a *Authenticator) Authenticate(header string) (Identity, error) {
	// The scheme is case-insensitive (RFC 9110 11.1); spaces around the
	// token are not part of it.
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Identity{}, ErrNoToken
	}
	sum := sha256.Sum256([]byte(token))
	a.mu.RLock()
	defer a.mu.RUnlock()
	var found *entry
	for i := range a.entries {
		if subtle.ConstantTimeCompare(sum[:], a.entries[i].hash) == 1 {
			found = &a.entries[i]
		}
	}
	if found == nil {
		return Identity{}, ErrBadToken
	}
	return Identity{Name: found.Name, Role: found.role, Groups: found.Groups}, nil
}

// MarshalJSON lets a File be written (tests, tooling) without the parsed
// fields.
func (e entry) MarshalJSON() ([]byte, error) {
	m := map[string]any{"name": e.Name, "role": e.Role, "token_sha256": e.TokenSHA256}
	if len(e.Groups) > 0 {
		m["groups"] = e.Groups
	}
	return json.Marshal(m)
}

type identityKey struct{}

// WithIdentity returns ctx carrying who acts.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns who acts in ctx (Anonymous if unset).
func IdentityFrom(ctx context.Context) Identity {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id
	}
	return Anonymous
}
