// Package store is the only package that knows pink's etcd keys and value
// encodings. It offers typed reads and writes, watches that survive errors
// and compaction (Mirror), and the fenced transactions that make pink's
// guarantees hold: a deposed leader cannot fire, a fire cannot be written
// twice, a zombie worker cannot report.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultRoot is the key prefix of a pink cluster.
const DefaultRoot = "/pink"

// Errors callers branch on. Everything else is an etcd or encoding failure.
var (
	ErrNotFound         = errors.New("not found")
	ErrExists           = errors.New("already exists")
	ErrGroupNotFound    = errors.New("group not found")
	ErrRevisionMismatch = errors.New("revision does not match")
	ErrConflict         = errors.New("changed concurrently")
	ErrRunning          = errors.New("snapshot is running")
	ErrNotLeader        = errors.New("not the leader")
	ErrGroupInUse       = errors.New("group has jobs")
	// ErrNoSpace is etcd refusing a write because its NOSPACE alarm is
	// raised: the database reached its quota. Reads and deletes still work.
	ErrNoSpace = errors.New("etcd is out of space (NOSPACE alarm)")
)

// Observer is told about every etcd request the store makes; telemetry uses
// it for request latency and error metrics.
type Observer func(op string, took time.Duration, err error)

// Store reads and writes pink's state in etcd.
type Store struct {
	c       *clientv3.Client
	k       keys
	observe Observer
	now     func() time.Time
	// recorder is told about the runs written to history (nil: nobody).
	recorder RunRecorder
	// endpointsChanged says when to reopen the watches (rewatch.go).
	endpointsChanged func() <-chan struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithObserver reports each etcd request to o.
func WithObserver(o Observer) Option { return func(s *Store) { s.observe = o } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store for the cluster under root (DefaultRoot if empty).
func New(c *clientv3.Client, root string, opts ...Option) *Store {
	if root == "" {
		root = DefaultRoot
	}
	s := &Store{c: c, k: keys{root: strings.TrimRight(root, "/")}, observe: func(string, time.Duration, error) {}, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Client returns the etcd client, for election sessions and leases.
func (s *Store) Client() *clientv3.Client { return s.c }

// Root returns the key prefix of the cluster.
func (s *Store) Root() string { return s.k.root }

// ElectionPrefix is where scheduler nodes campaign. It has no trailing
// slash: concurrency.Election adds one, so the candidates' keys are
// <root>/node/election/<lease>.
func (s *Store) ElectionPrefix() string { return s.k.electionPrefix() }

// Ping checks that etcd answers a linearizable read.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.track("ping", time.Now(), &err)
	_, err = s.c.Get(ctx, s.k.root+"/ping", clientv3.WithCountOnly())
	return wrap("ping etcd", err)
}

func (s *Store) track(op string, start time.Time, err *error) {
	s.observe(op, time.Since(start), *err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	if IsNoSpace(err) {
		return fmt.Errorf("%s: %w: %w", what, ErrNoSpace, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IsNoSpace reports whether err is etcd refusing a write for lack of space.
func IsNoSpace(err error) bool {
	return errors.Is(err, ErrNoSpace) || errors.Is(err, rpctypes.ErrNoSpace) || errors.Is(err, rpctypes.ErrGRPCNoSpace)
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only pink's own record types are encoded; they always marshal.
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return string(b)
}

func decode(key string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// pageSize bounds each range read so huge prefixes do not make one huge
// response.
const pageSize = 1000

// Bounds of the paged lists the API serves: a page ends early (with a
// Next) once it holds PageBytes of values, and reads its keys in batches
// sized to that budget, so a page of large items is never one huge read.
const (
	PageBytes = 4 << 20
	pageBatch = 100
)

// batchSize is how many keys the next read of a page asks for: the first
// read takes a few; later ones as many as budget (the page's bytes still
// free) holds at the average size of the read values so far, between 1 and
// pageBatch, and never more than want (what the page still needs).
func batchSize(read, readBytes, budget, want int) int64 {
	n := 16
	if read > 0 {
		n = budget / max(readBytes/read, 1)
	}
	return int64(max(1, min(n, pageBatch, want)))
}

// listPrefix calls fn for every key under prefix, in key order, reading all
// pages at one revision so the result is a consistent snapshot. It returns
// that revision.
func (s *Store) listPrefix(ctx context.Context, prefix string, fn func(key string, value []byte, modRev, createRev int64) error) (int64, error) {
	return s.listRange(ctx, prefix, prefixEnd(prefix), 0, fn)
}

func (s *Store) listRange(ctx context.Context, from, end string, rev int64, fn func(key string, value []byte, modRev, createRev int64) error) (int64, error) {
	key := from
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.c.Get(ctx, key, opts...)
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(string(kv.Key), kv.Value, kv.ModRevision, kv.CreateRevision); err != nil {
				return 0, err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
