// Package profiling writes Go CPU profiles of pink processes, so that a
// benchmark's figures come with the profile that explains them.
package profiling

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// StartCPU starts a CPU profile into path and returns what ends it; an
// empty path profiles nothing.
func StartCPU(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}
