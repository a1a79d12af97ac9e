package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/pink-scheduler/pink/internal/version"
)

// serverVersion is what `pink version` learns of the server: the leader's
// version, or why there is none.
type serverVersion struct {
	Server  string `json:"server"`
	Version string `json:"version,omitempty"`
	Leader  string `json:"leader,omitempty"`
	Error   string `json:"error,omitempty"`
}

// versionCommand is `pink version`.
func versionCommand(stdout io.Writer) *cobra.Command {
	return apiSpec{
		use: "version", short: "Print the version of pink and of the server",
		long: `Print this binary's version, VCS revision, build time, Go version and platform, and the
version of the server's leader when one answers within a second (pink --version is the same).`,
		example: "  pink version\n  pink version -o json",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, _ []string) error { return e.version(ctx) }
		},
	}.command(stdout)
}

// version prints this binary's build and, when one answers within a
// second, the server's version.
func (e Env) version(ctx context.Context) error {
	stdout := e.Out
	build := version.Get()
	sv := serverVersion{Server: e.Client.Base()}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var nodes struct {
		Leader string `json:"leader"`
		Nodes  []struct {
			ID, Version string
		} `json:"nodes"`
	}
	if err := e.Client.Do(qctx, http.MethodGet, "/api/v1/nodes", nil, &nodes, nil); err != nil {
		sv.Error = err.Error()
	} else {
		sv.Leader = nodes.Leader
		for _, n := range nodes.Nodes {
			if n.ID == nodes.Leader || sv.Version == "" {
				sv.Version = n.Version
			}
		}
	}
	switch e.Format {
	case formatJSON:
		return json.NewEncoder(stdout).Encode(map[string]any{"client": build, "server": sv})
	case formatYAML:
		return e.printYAML(map[string]any{"client": build, "server": sv})
	case formatName:
		_, err := fmt.Fprintln(stdout, "version/"+build.Version)
		return err
	}
	fmt.Fprintln(stdout, build.String())
	if build.CommitTime != "" {
		fmt.Fprintln(stdout, "  commit time:", build.CommitTime)
	}
	switch {
	case sv.Error != "":
		fmt.Fprintf(stdout, "  server %s: no answer (%s)\n", sv.Server, sv.Error)
	default:
		fmt.Fprintf(stdout, "  server %s: pink %s (leader %s)\n", sv.Server, sv.Version, sv.Leader)
	}
	return nil
}
