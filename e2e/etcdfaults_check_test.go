package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/node"
)

// The limits of TestEtcdMemberFaults are issue 22's targets (5 jobs every
// second, pink's default settings), counted as runs that started more than
// lateAfter after their nominal time, per fault:
//
//	kill -9 the etcd leader        0
//	kill -9 an etcd follower       0
//	SIGSTOP the etcd leader 10 s   at most 5 (one per job)
//	quorum lost 15 s               only the fires of the outage itself, caught up
//	                               within 1 s of quorum's return
//
// The issue gives no target for the etcd leader and the pink leader killed
// together (one machine that ran both dies). etcd renews every lease when
// its leader changes, so the dead pink leader's lease lives on for a TTL
// after etcd's election (1–2 s at its 1 s election timeout): the takeover
// may outlast the 6.5 s lookahead. The rule: a fire due while etcd elects
// (the first etcdElection after the kill) starts within a second of the
// election's end, as in the etcd leader's kill alone (a worker's claim and
// start are transactions); every later fire the dead leader had written
// ahead (due before the kill plus the lookahead, less a second for its
// batching) starts on time; the later ones, which only a new leader can
// write, start by takeoverWithin after the kill. And the API:
// "during quorum loss the API answers 503 etcd_unavailable with Retry-After
// within 2–3 s instead of hanging, and /readyz fails".
const (
	lateAfter       = time.Second             // a run starting later than this after its nominal time is late
	catchUpWithin   = time.Second             // quorum lost: each late fire of the outage started by then after quorum returned
	apiAnswerWithin = 3500 * time.Millisecond // every GET /api/v1/jobs answered within this
	readyzWithin    = 3 * time.Second         // /readyz answers 503 by this after the quorum is lost
	// etcdElection bounds etcd's election after its leader's death: twice
	// its election timeout (1 s, etcd's default), randomized.
	etcdElection = 2 * time.Second
	// lookaheadOn is what the dead leader surely wrote ahead: pink's
	// default lookahead less a second for its batching.
	lookaheadOn = node.DefaultLookahead - time.Second
	// takeoverWithin bounds a new leader's first fires after the kill of
	// both leaders: etcd's election (at most 2 s), the session TTL it
	// renews (5 s) and 3 s for a new leader's start on a loaded machine.
	takeoverWithin = 10 * time.Second
)

// The phases, in the order the test runs them.
const (
	phaseKillLeader   = "kill -9 etcd leader"
	phaseKillFollower = "kill -9 etcd follower"
	phaseStopLeader   = "SIGSTOP etcd leader 10 s"
	phaseQuorum       = "quorum lost 15 s"
	phaseBothLeaders  = "kill -9 etcd leader + pink leader"
)

// lateLimits holds, per phase, the most runs that may be late; outageOnly
// replaces the count by the quorum rule, takeover by the rule of both
// leaders killed.
var lateLimits = map[string]struct {
	max        int
	outageOnly bool
	takeover   bool
}{
	phaseKillLeader:   {max: 0},
	phaseKillFollower: {max: 0},
	phaseStopLeader:   {max: 5},
	phaseQuorum:       {outageOnly: true},
	phaseBothLeaders:  {takeover: true},
}

// checkEtcdFaults checks the service's calls: every job's every nominal
// second from its first fire to end ran exactly once, and per phase the
// late runs stay within lateLimits.
func checkEtcdFaults(t *testing.T, calls []call, jobs []string, firstFire map[string]time.Time, phases []*faultPhase, end time.Time) {
	t.Helper()
	checkExactlyOnce(t, calls, jobs, firstFire, end)
	for i, p := range phases {
		to := end
		if i+1 < len(phases) {
			to = phases[i+1].from
		}
		checkPhaseLateness(t, calls, p, to)
	}
}

// checkExactlyOnce reports, per job, the nominal seconds that never ran and
// those that ran more than once.
func checkExactlyOnce(t *testing.T, calls []call, jobs []string, firstFire map[string]time.Time, end time.Time) {
	t.Helper()
	expected, missedAll, dupAll := 0, 0, 0
	for _, name := range jobs {
		byAt := map[time.Time][]call{}
		for _, c := range callsOf(calls, name) {
			byAt[c.scheduled] = append(byAt[c.scheduled], c)
		}
		var missed []time.Time
		for at := firstFire[name]; at.Before(end); at = at.Add(time.Second) {
			expected++
			if len(byAt[at]) == 0 {
				missed = append(missed, at)
			}
		}
		var dups, early []string
		for _, at := range slices.SortedFunc(maps.Keys(byAt), time.Time.Compare) {
			if cs := byAt[at]; len(cs) > 1 {
				var runs []string
				for _, c := range cs {
					runs = append(runs, fmt.Sprintf("%s attempt %d at %s", c.snapshot, c.attempt, c.start.Format(time.TimeOnly+".000")))
				}
				dups = append(dups, fmt.Sprintf("%s ran %d times (%s)", at.Format(time.TimeOnly), len(cs), strings.Join(runs, ", ")))
			}
			if at.Before(firstFire[name]) {
				early = append(early, at.Format(time.TimeOnly))
			}
		}
		missedAll += len(missed)
		dupAll += len(dups)
		if len(missed) > 0 {
			t.Errorf("%s: %d nominal seconds from %s to %s never ran: %s", name, len(missed),
				firstFire[name].Format(time.TimeOnly), end.Format(time.TimeOnly), secondRanges(missed))
		}
		if len(dups) > 0 {
			t.Errorf("%s: %d nominal seconds ran more than once: %s", name, len(dups), strings.Join(dups, "; "))
		}
		if len(early) > 0 {
			t.Errorf("%s: runs of seconds before its first fire %s: %s", name, firstFire[name].Format(time.TimeOnly), strings.Join(early, ", "))
		}
	}
	t.Logf("etcdfaults: exactly once: %d nominal seconds of %d jobs, %d missed, %d duplicate", expected, len(jobs), missedAll, dupAll)
}

// checkPhaseLateness counts the runs of p (nominal time from p.from to to)
// that started late, logs the phase's line and checks its limit.
func checkPhaseLateness(t *testing.T, calls []call, p *faultPhase, to time.Time) {
	t.Helper()
	limit, ok := lateLimits[p.name]
	if !ok {
		t.Fatalf("phase %q has no limit", p.name)
	}
	n, m := 0, 0
	var worst, worstAfterBack time.Duration
	var broke []string
	for _, c := range calls {
		if c.scheduled.Before(p.from) || !c.scheduled.Before(to) {
			continue
		}
		m++
		late := c.start.Sub(c.scheduled)
		worst = max(worst, late)
		if late <= lateAfter {
			continue
		}
		n++
		if limit.takeover {
			switch {
			case c.scheduled.Before(p.from.Add(etcdElection)):
				if c.start.After(p.from.Add(etcdElection + lateAfter)) {
					broke = append(broke, fmt.Sprintf("%s %s: due while etcd elected, started %s after the kill", c.job,
						c.scheduled.Format(time.TimeOnly), c.start.Sub(p.from).Round(time.Millisecond)))
				}
			case c.scheduled.Before(p.from.Add(lookaheadOn)):
				broke = append(broke, fmt.Sprintf("%s %s: written ahead by the dead leader, started %s late", c.job,
					c.scheduled.Format(time.TimeOnly), late.Round(time.Millisecond)))
			case c.start.After(p.from.Add(takeoverWithin)):
				broke = append(broke, fmt.Sprintf("%s %s: started %s after the kill", c.job,
					c.scheduled.Format(time.TimeOnly), c.start.Sub(p.from).Round(time.Millisecond)))
			}
		}
		if !limit.outageOnly {
			continue
		}
		worstAfterBack = max(worstAfterBack, c.start.Sub(p.quorumBack))
		switch {
		case c.scheduled.After(p.quorumBack):
			broke = append(broke, fmt.Sprintf("%s %s: due after quorum returned, started %s late", c.job,
				c.scheduled.Format(time.TimeOnly), late.Round(time.Millisecond)))
		case c.start.After(p.quorumBack.Add(catchUpWithin)):
			broke = append(broke, fmt.Sprintf("%s %s: started %s after quorum returned", c.job,
				c.scheduled.Format(time.TimeOnly), c.start.Sub(p.quorumBack).Round(time.Millisecond)))
		}
	}
	t.Logf("etcdfaults: %s: %d of %d runs >1s late, the latest %s", p.name, n, m, worst.Round(time.Millisecond))
	if limit.outageOnly {
		readyz := "never"
		if !p.notReadyAt.IsZero() {
			readyz = p.notReadyAt.Sub(p.from).Round(time.Millisecond).String()
		}
		t.Logf("etcdfaults: %s: quorum back after %s, /readyz 503 after %s, late runs started up to %s after quorum returned",
			p.name, p.quorumBack.Sub(p.from).Round(time.Millisecond), readyz, worstAfterBack.Round(time.Millisecond))
		if len(broke) > 0 {
			slices.Sort(broke)
			t.Errorf("%s: %d late runs break issue 22's rule (only fires due in the outage %s–%s may be late, each started within %s of quorum's return): %s",
				p.name, len(broke), p.from.Format(time.TimeOnly+".000"), p.quorumBack.Format(time.TimeOnly+".000"), catchUpWithin, capList(broke, 30))
		}
	} else if limit.takeover {
		if len(broke) > 0 {
			slices.Sort(broke)
			t.Errorf("%s: %d late runs break the takeover rule (fires due in etcd's election started within %s of the kill, later ones before the kill + %s on time, later still within %s of the kill): %s",
				p.name, len(broke), etcdElection+lateAfter, lookaheadOn, takeoverWithin, capList(broke, 30))
		}
	} else if n > limit.max {
		t.Errorf("%s: %d runs started more than %s late, want at most %d (issue 22)", p.name, n, lateAfter, limit.max)
	}
}

// checkProbes checks every answer of the API prober: within
// apiAnswerWithin, and 200 or 503 with a Retry-After. It logs per phase
// how the API answered.
func checkProbes(t *testing.T, probes []probe, phases []*faultPhase) {
	t.Helper()
	if len(probes) == 0 {
		t.Errorf("the API prober recorded no answer")
		return
	}
	first, last := probes[0].at, probes[0].at
	for _, pr := range probes {
		first, last = minTime(first, pr.at), maxTime(last, pr.at)
	}
	windows := append([]*faultPhase{{name: "before the faults", from: first}}, phases...)
	for i, p := range windows {
		to := last.Add(efProbeEvery)
		if i+1 < len(windows) {
			to = windows[i+1].from
		}
		total, unavailable := 0, 0
		var slowest time.Duration
		var bad []string
		for _, pr := range probes {
			if pr.at.Before(p.from) || !pr.at.Before(to) {
				continue
			}
			total++
			slowest = max(slowest, pr.took)
			if pr.status == 503 {
				unavailable++
			}
			if why := probeFault(pr); why != "" {
				bad = append(bad, fmt.Sprintf("%s at %s: %s", pr.node, pr.at.Format(time.TimeOnly+".000"), why))
			}
		}
		t.Logf("etcdfaults: %s: api: %d requests, %d answered 503, %d broke the rule, the slowest %s", p.name, total, unavailable, len(bad), slowest.Round(time.Millisecond))
		if want := int(to.Sub(p.from) / efProbeEvery / 2); total < want {
			t.Errorf("%s: the API prober asked %d times, want at least %d", p.name, total, want)
		}
		if len(bad) > 0 {
			t.Errorf("%s: %d of %d GET /api/v1/jobs broke the rule (answered within %s, 200 or 503 with Retry-After): %s",
				p.name, len(bad), total, apiAnswerWithin, capList(bad, 20))
		}
	}
}

// probeFault says what is wrong with an answer, or "".
func probeFault(pr probe) string {
	took := pr.took.Round(time.Millisecond)
	switch {
	case pr.err != nil:
		return fmt.Sprintf("no answer after %s: %v", took, pr.err)
	case pr.took > apiAnswerWithin:
		return fmt.Sprintf("status %d after %s", pr.status, took)
	case pr.status == 200:
		return ""
	case pr.status == 503 && pr.retryAfter != "":
		return ""
	default:
		return fmt.Sprintf("status %d (Retry-After %q) after %s", pr.status, pr.retryAfter, took)
	}
}

// secondRanges writes sorted whole seconds as ranges of consecutive ones:
// "12:00:01–12:00:05 (5), 12:00:09".
func secondRanges(ts []time.Time) string {
	var out []string
	for i := 0; i < len(ts); {
		j := i
		for j+1 < len(ts) && ts[j+1].Sub(ts[j]) == time.Second {
			j++
		}
		if j == i {
			out = append(out, ts[i].Format(time.TimeOnly))
		} else {
			out = append(out, fmt.Sprintf("%s–%s (%d)", ts[i].Format(time.TimeOnly), ts[j].Format(time.TimeOnly), j-i+1))
		}
		i = j + 1
	}
	return strings.Join(out, ", ")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// capList joins the first n items and says how many more there are.
func capList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:n], "; "), len(items)-n)
}
