// Package version says which pink this is: the module version, the VCS
// revision and commit time the Go toolchain stamped into the binary, and
// the Go version that built it.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Override, when set at link time (-ldflags "-X .../version.Override=v1.2.3"),
// replaces the module version the toolchain recorded.
var Override string

// Info is what a binary knows of its own build.
type Info struct {
	// Version is the module version: a tag (v1.2.0), a pseudo-version of
	// the commit (v0.0.0-20261202045512-567abfd3c1e2), "+dirty" with
	// uncommitted changes, or "dev" when nothing was recorded (go run).
	Version string `json:"version"`
	// Revision and CommitTime are the VCS commit built, when recorded.
	Revision   string `json:"revision,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	// Modified says the working tree had uncommitted changes.
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get reads the running binary's build information.
func Get() Info {
	info := Info{Version: "dev", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.CommitTime = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if Override != "" {
		info.Version = Override
	}
	return info
}

// String is the one-line form: "pink v1.2.0 (revision 567abfd3c1e2, modified; go1.26.8 linux/amd64)".
func (i Info) String() string {
	rev := "revision unknown"
	if i.Revision != "" {
		rev = "revision " + short(i.Revision)
		if i.Modified {
			rev += ", modified"
		}
	}
	return fmt.Sprintf("pink %s (%s; %s %s)", i.Version, rev, i.GoVersion, i.Platform)
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
