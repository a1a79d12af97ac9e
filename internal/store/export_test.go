package store

import "context"

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
