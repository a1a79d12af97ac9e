package node

import (
	"io"
	"log/slog"
	"time"

	"github.com/pink-scheduler/pink/internal/etcdspace"
	"github.com/pink-scheduler/pink/internal/scheduler"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// Defaults of the configs in this package: the flags that fill them show
// these, and a zero field means the same.
const (
	DefaultSessionTTL       = scheduler.DefaultSessionTTL
	DefaultMisfireThreshold = scheduler.DefaultMisfireThreshold
	DefaultLookahead        = scheduler.DefaultLookahead
	DefaultHistoryLimit     = scheduler.DefaultHistoryLimit
	DefaultHistoryMaxAge    = scheduler.DefaultHistoryMaxAge
	DefaultCompactEvery     = scheduler.DefaultCompactEvery
	DefaultHistoryMaxBytes  = scheduler.DefaultHistoryMaxBytes
	DefaultDefragFree       = etcdspace.DefaultDefragFree
	// DefaultEtcdQuota is etcd's own default backend quota.
	DefaultEtcdQuota    = 2 << 30
	DefaultCapacity     = worker.DefaultCapacity
	DefaultLeaseTTL     = worker.DefaultLeaseTTL
	DefaultDrainTimeout = worker.DefaultDrainTimeout
	DefaultClaimAhead   = worker.DefaultClaimAhead
	// DefaultDevDrainTimeout is short: Ctrl-C of pink dev on a laptop
	// should stop it at once; runs it interrupts are retried at the next
	// start, as after a crash.
	DefaultDevDrainTimeout = 500 * time.Millisecond
)

// NewLogger returns a process's logger: format text or json, level debug,
// info, warn or error; every line carries the trace and snapshot ids of its
// context.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	return telemetry.NewLogger(w, format, level)
}
