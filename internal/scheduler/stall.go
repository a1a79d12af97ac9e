package scheduler

import (
	"context"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// A worker that dies keeps its registration until its lease ends (the
// worker's --lease-ttl, 5 s by default), and the fires assigned to it,
// written ahead for the seconds to come, would wait that long. Its claims
// tell sooner: a live worker claims each fire by its nominal time (ahead
// of it, by default) or, when all its slots are busy, as they free up. A
// client that has left a fire unclaimed more than stallGrace past its
// nominal time and has claimed nothing for stallGrace is stalled: the
// leader moves what it has not started to other clients (failover reason
// client_stalled; a claim compares the assignment, so the move and a late
// claim cannot both hold) and gives it no new work for stallHold, or until
// it claims again. Fires it claimed ahead stay: only its start mark can
// tell whether they started, and it moves only with the registration.
const (
	stallGrace      = 300 * time.Millisecond
	stallHold       = 5 * time.Second
	stallCheckEvery = 200 * time.Millisecond
)

// clientClaims follows each client's claims: when it last claimed (or
// joined), and until when it is stalled.
type clientClaims map[string]*claimState

type claimState struct {
	last         time.Time
	stalledUntil time.Time
}

func (cc clientClaims) state(id string) *claimState {
	s := cc[id]
	if s == nil {
		s = &claimState{}
		cc[id] = s
	}
	return s
}

// joined starts following a client that registered at now.
func (cc clientClaims) joined(id string, now time.Time) { cc.state(id).last = now }

// claimed records a claim of client id at now; it reports whether the
// client was stalled until then.
func (cc clientClaims) claimed(id string, now time.Time) bool {
	s := cc.state(id)
	s.last = now
	was := !s.stalledUntil.IsZero()
	s.stalledUntil = time.Time{}
	return was
}

// stalled reports whether client id is held stalled.
func (cc clientClaims) stalled(id string) bool {
	s := cc[id]
	return s != nil && !s.stalledUntil.IsZero()
}

// findStalled marks the clients that stopped claiming (see above) and
// lets the failover move their unstarted work; it also ends holds that
// have run out. It looks every stallCheckEvery: it reads every assignment.
func (t *term) findStalled(ctx context.Context) error {
	now := t.cfg.Now()
	if now.Before(t.nextStallCheck) || !t.view.ready {
		return nil
	}
	t.nextStallCheck = now.Add(stallCheckEvery)
	for _, g := range t.view.groups {
		overdue := map[string][]*snapshot.Live{}
		for _, l := range g.assigned {
			if l.State == snapshot.StateDispatched && l.ScheduledAt.Before(now.Add(-stallGrace)) {
				overdue[l.Client] = append(overdue[l.Client], l)
			}
		}
		for _, s := range g.claims {
			if !s.stalledUntil.IsZero() && now.After(s.stalledUntil) {
				s.stalledUntil = time.Time{}
				g.sorted = nil
			}
		}
		for id, lives := range overdue {
			c := g.clients[id]
			s := g.claims.state(id)
			// Silence counts from the last claim, or from when etcd could be
			// reached again after an outage, plus the longest a worker's
			// retry waits: during the outage nobody could claim.
			since := s.last
			if back := t.etcdBack.Load(); back != 0 {
				since = later(since, time.Unix(0, back).Add(workerRetryMax))
			}
			if c == nil || c.Draining || !s.stalledUntil.IsZero() || now.Sub(since) < stallGrace {
				continue
			}
			if !t.confirmStalled(ctx, g.name, id, lives) {
				s.last = now
				continue
			}
			s.stalledUntil = now.Add(stallHold)
			g.sorted = nil
			t.view.todo.orphans = true
			t.log.Warn("client stopped claiming its work; moving what it has not started to other clients",
				"group", g.name, "client", id, "last_claim", s.last, "hold", stallHold)
		}
	}
	return nil
}

// workerRetryMax is the longest a worker waits between two attempts of a
// claim (pkg/worker maxRetryDelay), doubled for an attempt under way: after
// an etcd outage its claims resume within it.
const workerRetryMax = time.Second

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// stallConfirmTimeout bounds the read that confirms a stall.
const stallConfirmTimeout = time.Second

// confirmStalled asks etcd whether the overdue fires of client id are still
// unclaimed, as the view says. The view can be behind: the leader was
// frozen and has a backlog of events to read, or its watch hangs on an etcd
// member that froze or lost its leader while the client claims through
// another. A client is judged stalled only on what etcd says now; when etcd
// cannot say (the read fails), the client gets another stallGrace, counted
// from now.
func (t *term) confirmStalled(ctx context.Context, group, id string, lives []*snapshot.Live) bool {
	rctx, cancel := context.WithTimeout(ctx, stallConfirmTimeout)
	defer cancel()
	ok, err := t.st.Unchanged(rctx, lives)
	switch {
	case err != nil:
		t.log.Debug("could not confirm that a client stopped claiming", "group", group, "client", id, "err", err)
		return false
	case !ok:
		t.log.Debug("a client's claims are in etcd but not yet in the leader's view", "group", group, "client", id)
		return false
	}
	return true
}
