package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Session is the lease a node or a worker registers with. It keeps the
// lease alive with one KeepAliveOnce request every third of its TTL, each
// with a short deadline and retried at once, rather than with clientv3's
// keepalive stream: a stream lives on one etcd member and, when that member
// freezes or loses its leader, hangs silently until the lease is nearly
// gone, while a unary request goes to whichever member answers (the client
// routes around members the endpoint checker found unhealthy).
//
// The session ends (Done) only when etcd says the lease is gone or Close is
// called, not when the keepalives fail for a while: etcd renews every lease
// when it elects a new leader, so a lease usually survives an outage of
// the whole cluster, and its holder (the leader) can go on at once when
// quorum returns instead of waiting out its own old lease in a new
// election. Nothing is unsafe in staying: every write that depends on the
// lease compares a key bound to it.
type Session struct {
	cli    *clientv3.Client
	log    *slog.Logger
	id     clientv3.LeaseID
	ttl    time.Duration
	cancel context.CancelFunc
	done   chan struct{}
	close  sync.Once
}

// Keepalive timing: an attempt waits at most keepAliveAttempt (a healthy
// member answers in milliseconds); after a failure that came back sooner,
// the next one waits keepAliveRetry, so that a refused request is not
// repeated in a tight loop.
const (
	keepAliveAttempt = time.Second
	keepAliveRetry   = 100 * time.Millisecond
)

// NewSession grants a lease of ttl (rounded up to whole seconds) and keeps
// it alive until Close or until etcd no longer knows it. The keepalives
// outlive ctx on purpose: Close must still be able to revoke the lease
// after ctx is canceled, so that others take over at once instead of after
// the TTL.
func NewSession(ctx context.Context, log *slog.Logger, cli *clientv3.Client, ttl time.Duration) (*Session, error) {
	secs := int64(math.Ceil(ttl.Seconds()))
	resp, err := cli.Grant(ctx, secs)
	if err != nil {
		return nil, fmt.Errorf("grant lease: %w", err)
	}
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Session{cli: cli, log: log, id: resp.ID, ttl: time.Duration(secs) * time.Second, cancel: cancel, done: make(chan struct{})}
	go s.keepAlive(kctx)
	return s, nil
}

// Lease is the session's lease.
func (s *Session) Lease() clientv3.LeaseID { return s.id }

// Done is closed when the session has ended: etcd no longer knows the
// lease (it expired) or Close was called.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close stops the keepalives and revokes the lease, so that its keys go at
// once; if etcd does not answer within two seconds, the lease ends with
// its TTL.
func (s *Session) Close() error {
	var err error
	s.close.Do(func() {
		s.cancel()
		<-s.done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, rerr := s.cli.Revoke(ctx, s.id); rerr != nil && !errors.Is(rerr, rpctypes.ErrLeaseNotFound) {
			err = fmt.Errorf("revoke lease %x: %w", s.id, rerr)
		}
	})
	return err
}

// Election is the election under prefix, campaigned for with this
// session's lease.
func (s *Session) Election(prefix string) (*concurrency.Election, error) {
	// concurrency.Session would keep the lease alive over the stream this
	// type avoids; given a canceled context, it keeps nothing alive and
	// only lends the election the lease.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cs, err := concurrency.NewSession(s.cli, concurrency.WithLease(s.id), concurrency.WithContext(canceled))
	if err != nil {
		return nil, fmt.Errorf("election session: %w", err)
	}
	return concurrency.NewElection(cs, prefix), nil
}

// keepAlive renews the lease every third of its TTL until ctx ends or etcd
// says it is gone.
func (s *Session) keepAlive(ctx context.Context) {
	defer close(s.done)
	every := s.ttl / 3
	timer := time.NewTimer(every)
	defer timer.Stop()
	var failingSince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		actx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), keepAliveAttempt)
		_, err := s.cli.KeepAliveOnce(actx, s.id)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			s.log.Warn("session lease expired", "lease", fmt.Sprintf("%x", s.id), "ttl", s.ttl)
			return
		case err != nil:
			if failingSince.IsZero() {
				failingSince = start
			}
			s.log.Debug("lease keepalive failed; retrying", "lease", fmt.Sprintf("%x", s.id), "err", err)
			timer.Reset(max(0, keepAliveRetry-time.Since(start)))
		default:
			if !failingSince.IsZero() && time.Since(failingSince) > every {
				s.log.Warn("lease kept through an etcd outage", "lease", fmt.Sprintf("%x", s.id), "outage", time.Since(failingSince).Round(time.Millisecond))
			}
			failingSince = time.Time{}
			timer.Reset(every)
		}
	}
}
