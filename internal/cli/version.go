package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

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

// runVersion prints this binary's build and, when one answers within a
// second, the server's version.
func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("version", stderr)
	cf := addClientFlags(f)
	f.fs.StringVar(cf.output, "o", *cf.output, "output: table or json (shorthand of --output)")
	if err := f.parse(args); err != nil {
		return err
	}
	e, err := cf.env(stdout)
	if err != nil {
		return err
	}
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
	if e.JSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"client": build, "server": sv})
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
