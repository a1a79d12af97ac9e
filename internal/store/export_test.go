package store

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestMirror lets mirror_test.go list and watch a mirror step by step.
type TestMirror struct{ m *mirror }

// NewTestMirror is a mirror of prefix that has not listed yet.
func NewTestMirror(s *Store, prefix string, fn MirrorFunc) TestMirror {
	return TestMirror{&mirror{s: s, prefix: prefix, known: map[string]int64{}, fn: fn}}
}

// List lists the prefix once.
func (t TestMirror) List(ctx context.Context) error { return t.m.list(ctx) }

// Run watches (and re-lists when it must) until ctx ends.
func (t TestMirror) Run(ctx context.Context) error { return t.m.run(ctx) }

// RecordRuns writes runs to history as a completion would (row, index,
// last-run times), in transactions of 20.
func (s *Store) RecordRuns(ctx context.Context, runs []snapshot.Run) error {
	for len(runs) > 0 {
		n := min(len(runs), 20)
		t := &txn{}
		for _, r := range runs[:n] {
			s.recordRun(t, r, "")
		}
		if _, err := t.commit(ctx, s); err != nil {
			return err
		}
		runs = runs[n:]
	}
	return nil
}

// RunIndexSize counts the run index's entries.
func (s *Store) RunIndexSize(ctx context.Context) (int64, error) {
	resp, err := s.c.Get(ctx, s.k.runIndexPrefix(), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

// SetMaxJobScan lowers the bound of jobs one FindJobs call reads until
// the test ends.
func SetMaxJobScan(t interface{ Cleanup(func()) }, n int) {
	old := maxJobScan
	maxJobScan = n
	t.Cleanup(func() { maxJobScan = old })
}
