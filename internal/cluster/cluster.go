// Package cluster defines the records of a pink cluster's members, as they
// are registered in etcd: scheduler nodes, groups, and the clients
// (workers) of each group; the ids they go by; and the lease session a
// node or a worker holds its registration with.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Group is a named pool of clients; every job runs in one group.
type Group struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// Client is a live worker process, registered under its group with a lease.
type Client struct {
	ID        string    `json:"id"`
	Group     string    `json:"group"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Capacity  int       `json:"capacity"`
	Targets   []string  `json:"targets"`
	Version   string    `json:"version"`
	Addr      string    `json:"addr,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// Via is, for a remote worker (pink's HTTP worker protocol), the id of
	// the scheduler node that holds its registration: another node
	// forwards the worker's requests there.
	Via string `json:"via,omitempty"`
	// Draining is set by a worker that is shutting down: it takes no new
	// work, and the leader moves its unstarted work elsewhere.
	Draining bool `json:"draining,omitempty"`

	// CreateRevision identifies this registration: a client that re-registers
	// after its lease expired is a new registration. Not stored in the value.
	CreateRevision int64 `json:"-"`
}

// Node is a scheduler node, registered with its session's lease.
type Node struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	// URL is the base URL other nodes reach this node's API at
	// (--advertise-url): where they forward a remote worker's requests.
	URL       string    `json:"url,omitempty"`
	Version   string    `json:"version"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
}

// ProcessName is the default name of a node or a worker: host-pid, which
// tells an operator where the process runs.
func ProcessName() string {
	return fmt.Sprintf("%s-%d", Host(), os.Getpid())
}

// MaxClientName is how much of a worker's name its client ids keep: ids
// are in every run record, whose size is bounded (snapshot.MaxRunBytes).
const MaxClientName = 100

// NewClientID is a fresh id for one registration of the worker name (its
// first MaxClientName bytes): two registrations of one process (after its
// lease was lost) are two clients.
func NewClientID(name string) string {
	if len(name) > MaxClientName {
		name = strings.ToValidUTF8(name[:MaxClientName], "")
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

// Host is the host name a member registers with ("" if the system does
// not say).
func Host() string {
	host, _ := os.Hostname()
	return host
}

// KeepRegistered runs session, a member's life under one lease session,
// until ctx ends, starting a new one (after a short, growing pause) each
// time one ends early; lost says so in the log.
func KeepRegistered(ctx context.Context, log *slog.Logger, lost string, session func(context.Context) error) {
	retry := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn(lost, "err", err)
		retry = min(max(2*retry, 100*time.Millisecond), 2*time.Second)
	}
}
