// Package counts defines the leader-only event counts that pink keeps in
// etcd, so that a new leader exports exactly the values the old one did:
// a job's fires by trigger, its skipped fires by reason and its runs lost
// with their worker; a group's failovers by reason. How they are stored is
// the store's business (the frequent ones ride in the job's schedule
// cursor, see package cursor); how the leader keeps them is the
// scheduler's counters.
package counts

import (
	"maps"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Job are a job's event counts, keyed by trigger and skip reason.
type Job struct {
	Fires   map[string]int64 `json:"fires,omitempty"`
	Skipped map[string]int64 `json:"skipped,omitempty"`
	Lost    int64            `json:"lost,omitempty"`
}

// AddFire counts n fires with trigger.
func (c *Job) AddFire(trigger snapshot.Trigger, n int64) {
	if n <= 0 {
		return
	}
	if c.Fires == nil {
		c.Fires = map[string]int64{}
	}
	c.Fires[string(trigger)] += n
}

// AddSkipped counts n skipped fires with reason.
func (c *Job) AddSkipped(reason snapshot.SkipReason, n int64) {
	if n <= 0 {
		return
	}
	if c.Skipped == nil {
		c.Skipped = map[string]int64{}
	}
	c.Skipped[string(reason)] += n
}

// Clone returns a deep copy.
func (c Job) Clone() Job {
	return Job{Fires: maps.Clone(c.Fires), Skipped: maps.Clone(c.Skipped), Lost: c.Lost}
}

// Plus returns the sum of c and o.
func (c Job) Plus(o Job) Job {
	out := c.Clone()
	for k, v := range o.Fires {
		out.AddFire(snapshot.Trigger(k), v)
	}
	for k, v := range o.Skipped {
		out.AddSkipped(snapshot.SkipReason(k), v)
	}
	out.Lost += o.Lost
	return out
}

// Group are a group's event counts: failovers by reason.
type Group struct {
	Failovers map[string]int64 `json:"failovers,omitempty"`
}

// Clone returns a deep copy.
func (c Group) Clone() Group { return Group{Failovers: maps.Clone(c.Failovers)} }

// AddFailover counts one failover with reason.
func (c *Group) AddFailover(reason snapshot.FailoverReason) {
	if c.Failovers == nil {
		c.Failovers = map[string]int64{}
	}
	c.Failovers[string(reason)]++
}
