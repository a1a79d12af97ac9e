package bench

import (
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/etcdspace"
	"github.com/pink-scheduler/pink/internal/telemetry"
)

// SpaceSample is etcd's space at one moment of a run: the database file,
// the part of it in use, and (for the embedded etcd) the whole data
// directory on disk, WAL and snapshots included.
type SpaceSample struct {
	Seconds    float64 `json:"seconds"`
	DBBytes    int64   `json:"db_bytes"`
	InUseBytes int64   `json:"in_use_bytes"`
	DirBytes   int64   `json:"dir_bytes,omitempty"`
	NoSpace    bool    `json:"nospace,omitempty"`
}

// spaceWatch samples etcd's space every etcdspace.Every, and, for the
// embedded etcd, defragments it as pink dev does.
type spaceWatch struct {
	mu      sync.Mutex
	start   time.Time
	samples []SpaceSample
	stop    func()
	done    chan struct{}
}

// watchSpace starts sampling; dir is the embedded etcd's data directory
// ("" for an external etcd, which is then not defragmented).
func watchSpace(ctx context.Context, cli *clientv3.Client, dir string, log *slog.Logger) *spaceWatch {
	w := &spaceWatch{start: time.Now(), done: make(chan struct{})}
	m := etcdspace.NewMonitor(cli, telemetry.NewEtcdSpace(prometheus.NewRegistry()), log)
	if dir != "" {
		m.DefragEmbedded(cli.Endpoints()[0], etcdspace.DefaultDefragFree)
	}
	m.OnStatus(func(_ context.Context, st etcdspace.Status) {
		s := SpaceSample{Seconds: time.Since(w.start).Seconds(), NoSpace: st.NoSpace, DirBytes: dirBytes(dir)}
		for _, e := range st.Endpoints {
			s.DBBytes, s.InUseBytes = max(s.DBBytes, e.Size), max(s.InUseBytes, e.InUse)
		}
		w.mu.Lock()
		w.samples = append(w.samples, s)
		w.mu.Unlock()
	})
	ctx, w.stop = context.WithCancel(ctx)
	go func() {
		defer close(w.done)
		_ = m.Run(ctx)
	}()
	return w
}

// finish stops sampling and puts the samples and their maxima into res.
func (w *spaceWatch) finish(res *Result) {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	res.EtcdSpace = w.samples
	for _, s := range w.samples {
		res.EtcdDBMaxBytes = max(res.EtcdDBMaxBytes, s.DBBytes)
		res.EtcdInUseMaxBytes = max(res.EtcdInUseMaxBytes, s.InUseBytes)
		res.EtcdDirMaxBytes = max(res.EtcdDirMaxBytes, s.DirBytes)
		res.EtcdNoSpace = res.EtcdNoSpace || s.NoSpace
	}
}

// dirBytes is the size of the files under dir (0 for "").
func dirBytes(dir string) int64 {
	if dir == "" {
		return 0
	}
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
