package store

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// WithEndpointChanges makes the store's watches reopen each time the etcd
// client's endpoints change: next returns a channel that is closed at the
// next change (etcdhealth.Checker.Changed). A watch lives on one gRPC
// stream to one etcd member; when the client stops using a member that
// froze, the stream on it is left to drain and hangs with the member, so
// the watch would stay silent while the cluster goes on. Reopened, it
// resumes from the revision it delivered last, on a member that answers.
func WithEndpointChanges(next func() <-chan struct{}) Option {
	return func(s *Store) { s.endpointsChanged = next }
}

// errRewatch ends a watch that must be reopened at once (not after a
// backoff): the endpoints changed.
var errRewatch = errors.New("etcd endpoints changed; reopening the watch")

// rewatch is closed when the watches opened now must be reopened; nil
// (never) without WithEndpointChanges.
func (s *Store) rewatch() <-chan struct{} {
	if s.endpointsChanged == nil {
		return nil
	}
	return s.endpointsChanged()
}

// watchStreams numbers the watches freshStream opens.
var watchStreams atomic.Uint64

// freshStream gives ctx metadata of its own, so that a watch opened with
// it gets a gRPC stream of its own: clientv3 puts every watch whose context
// carries the same metadata on one shared stream, and a watch reopened
// because its stream hung would join that same stream again.
func freshStream(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "pink-watch-stream", strconv.FormatUint(watchStreams.Add(1), 10))
}

// errWatchClosed is a watch channel closed by clientv3 (its context ended,
// or etcd ended the watch).
var errWatchClosed = errors.New("watch channel closed")

// watchStream is one watch on a stream of its own, ended early when the
// endpoints change.
type watchStream struct {
	wch     clientv3.WatchChan
	rewatch <-chan struct{}
	cancel  context.CancelFunc
}

// openWatch watches key with opts, requiring the member to have a leader
// (one cut off from its cluster ends the watch instead of keeping it
// silently stale). close must be called.
func (s *Store) openWatch(ctx context.Context, key string, opts ...clientv3.OpOption) *watchStream {
	rewatch := s.rewatch()
	wctx, cancel := context.WithCancel(freshStream(clientv3.WithRequireLeader(ctx)))
	if rewatch != nil {
		// clientv3's Watch returns only once the member has answered that
		// the watch is created: on a frozen member, never. A change of
		// endpoints cancels it, so that it returns.
		go func() {
			select {
			case <-rewatch:
				cancel()
			case <-wctx.Done():
			}
		}()
	}
	return &watchStream{wch: s.c.Watch(wctx, key, opts...), rewatch: rewatch, cancel: cancel}
}

// next is the watch's next response: errRewatch once the endpoints
// changed, errWatchClosed once the channel closed.
func (w *watchStream) next() (clientv3.WatchResponse, error) {
	select {
	case <-w.rewatch:
		return clientv3.WatchResponse{}, errRewatch
	case resp, ok := <-w.wch:
		if ok {
			return resp, nil
		}
		select {
		case <-w.rewatch:
			return resp, errRewatch
		default:
			return resp, errWatchClosed
		}
	}
}

func (w *watchStream) close() { w.cancel() }
