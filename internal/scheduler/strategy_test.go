package scheduler

import (
	"fmt"
	"testing"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// placeAll picks a client for one run of each of n jobs among the given
// client ids, by strategy s.
func placeAll(s job.Strategy, n int, ids ...string) map[string]string {
	g := newGroupState("g")
	for _, id := range ids {
		g.clients[id] = &cluster.Client{ID: id, Group: "g", Targets: []string{"noop"}, Capacity: 1}
	}
	out := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("job-%04d", i)
		js := newJobState(name)
		js.spec = job.Spec{Name: name, Strategy: s}
		out[name] = pick(js, g, &snapshot.Snapshot{ID: name + "@20261126T120000Z", Job: name, Target: "noop", ShardTotal: 1}, nil).ID
	}
	return out
}

// TestHashMovesFewJobs: with the hash strategy a client that joins takes
// only its share of the jobs, and a client that leaves hands over only its
// own; every other job stays where it was.
func TestHashMovesFewJobs(t *testing.T) {
	const n = 2000
	before := placeAll(job.StrategyHash, n, "w0", "w1", "w2", "w3")
	tests := []struct {
		name    string
		clients []string
		// allowed reports whether a job may move from one client to
		// another, as consistent hashing promises.
		allowed  func(from, to string) bool
		min, max int // how many jobs may move
	}{
		{"w4 joins", []string{"w0", "w1", "w2", "w3", "w4"}, func(_, to string) bool { return to == "w4" }, n / 5 * 3 / 4, n / 5 * 5 / 4},
		{"w1 leaves", []string{"w0", "w2", "w3"}, func(from, _ string) bool { return from == "w1" }, n / 4 * 3 / 4, n / 4 * 5 / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := placeAll(job.StrategyHash, n, tt.clients...)
			moved := 0
			for name, from := range before {
				if to := after[name]; to != from {
					moved++
					if !tt.allowed(from, to) {
						t.Errorf("%s moved from %s to %s", name, from, to)
					}
				}
			}
			if moved < tt.min || moved > tt.max {
				t.Errorf("%d of %d jobs moved, want %d..%d", moved, n, tt.min, tt.max)
			}
		})
	}
}

// TestSpreadingStrategies: random and round robin spread many jobs' runs
// evenly over the clients (round robin starts each job's turn at its own
// place, so jobs firing together do not all land on one client).
func TestSpreadingStrategies(t *testing.T) {
	const n = 3000
	for _, s := range []job.Strategy{job.StrategyRandom, job.StrategyRoundRobin} {
		t.Run(string(s), func(t *testing.T) {
			per := map[string]int{}
			for _, c := range placeAll(s, n, "a", "b", "c") {
				per[c]++
			}
			// Uniform: 1000 each, standard deviation about 26.
			for _, c := range []string{"a", "b", "c"} {
				if per[c] < 850 || per[c] > 1150 {
					t.Errorf("%s: per client %v, want about %d each", s, per, n/3)
				}
			}
		})
	}
}

// TestCandidates: a snapshot goes only to available clients that run its
// target; a registration that lists no target runs anything (older and
// third-party workers); none means it waits (no fallback to the others).
func TestCandidates(t *testing.T) {
	g := newGroupState("g")
	for _, c := range []*cluster.Client{
		{ID: "a", Targets: []string{"http", "shell"}},
		{ID: "b", Targets: []string{"http"}},
		{ID: "c", Targets: []string{"shell"}, Draining: true},
		{ID: "old"},
	} {
		g.clients[c.ID] = c
	}
	tests := []struct {
		target string
		want   []string
	}{
		{"http", []string{"a", "b", "old"}},
		{"shell", []string{"a", "old"}},
		{"shel", []string{"old"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range candidates(g, tt.target) {
			got = append(got, c.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("candidates for %s = %v, want %v", tt.target, got, tt.want)
		}
	}
	g.dropClient("old")
	if cs := candidates(g, "shel"); len(cs) != 0 {
		t.Errorf("candidates for an unadvertised target = %v, want none", cs)
	}
	if c := pick(nil, g, &snapshot.Snapshot{ID: "j@20261126T120000Z", Job: "j", Target: "shel", ShardTotal: 1}, nil); c != nil {
		t.Errorf("pick for an unadvertised target = %s, want nil (pending)", c.ID)
	}
}
