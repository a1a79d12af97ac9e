package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// Runs reports whether c takes snapshots of target: it advertises target,
// or it advertises no target at all. A registration without a list (an
// older or a third-party worker) is trusted to run anything, as every
// worker was before the leader looked at targets; a Go SDK worker always
// advertises the handlers it registered before Run.
func (c *Client) Runs(target string) bool {
	return len(c.Targets) == 0 || slices.Contains(c.Targets, target)
}

// NoWorkerFor says why no client of a group would be given a snapshot of
// target, in words for people: "" when one would. clients are the group's
// live registrations; a draining one takes no new work and does not
// count. The scheduler's dispatch and the API's answers (warnings, a
// pending snapshot's reason) share these words.
func NoWorkerFor(group, target string, clients []Client) string {
	why, _ := noWorkerFor(group, target, clients)
	return why
}

// noWorkerFor is NoWorkerFor, and whether the group has no client that
// takes new work at all.
func noWorkerFor(group, target string, clients []Client) (string, bool) {
	for i := range clients {
		if !clients[i].Draining && clients[i].Runs(target) {
			return "", false
		}
	}
	if TakingWork(clients) == 0 {
		return fmt.Sprintf("no live worker in group %q", group), true
	}
	return fmt.Sprintf("no live worker of group %q runs target %q", group, target), false
}

// TakingWork counts the clients that take new work (not draining).
func TakingWork(clients []Client) int {
	n := 0
	for i := range clients {
		if !clients[i].Draining {
			n++
		}
	}
	return n
}

// OfferedTargets lists the targets the group's clients that take new work
// advertise, sorted, each once.
func OfferedTargets(clients []Client) []string {
	var out []string
	for i := range clients {
		if !clients[i].Draining {
			out = append(out, clients[i].Targets...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TargetWarning is what the API says when a job is written whose fires no
// live worker would take: which one is missing, what the live workers
// run, and that the fires wait. "" when a worker would take them.
func TargetWarning(group, target string, clients []Client) string {
	why, none := noWorkerFor(group, target, clients)
	switch {
	case why == "":
		return ""
	case none:
		return why + "; fires will wait as pending until one registers"
	}
	return fmt.Sprintf("%s (live workers run: %s); fires will wait as pending until one does",
		why, strings.Join(OfferedTargets(clients), ", "))
}
