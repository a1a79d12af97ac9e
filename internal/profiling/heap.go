package profiling

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// HeapOnSignal writes a heap profile of the process to path each time it
// receives SIGUSR1, until ctx ends; an empty path does nothing. Each profile
// follows a garbage collection, so its in-use figures are the live heap of
// that moment; it is written to a temporary file and renamed, so path only
// ever holds a whole profile.
func HeapOnSignal(ctx context.Context, path string, log *slog.Logger) {
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
			}
			if err := writeHeap(path); err != nil {
				log.Error("could not write the heap profile", "err", err)
				continue
			}
			log.Info("wrote a heap profile", "path", path)
		}
	}()
}

func writeHeap(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer os.Remove(f.Name())
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}
