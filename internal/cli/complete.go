package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Shell completion: cobra writes the bash, zsh and fish scripts (pink
// completion bash); the scripts call `pink __complete ...`, which asks
// the server for the names of jobs, groups and snapshots with the
// command's own --server and --token.

// completeTimeout bounds a completion's request: a shell must not hang on
// a server that does not answer.
const completeTimeout = 2 * time.Second

// completer lists the names a positional argument can be, starting with
// prefix; nil completes nothing.
type completer func(ctx context.Context, e Env, prefix string) ([]string, error)

// args completes the first n positional arguments of a command.
func (c completer) args(cf clientFlags, n int) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if c == nil || len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return c.run(cf, prefix)
	}
}

func (c completer) run(cf clientFlags, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	e, err := cf.env(io.Discard)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	names, err := c(ctx, e, prefix)
	if err != nil {
		cobra.CompDebugln("pink completion: "+err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeLimit is how many names a completion offers at most.
const completeLimit = 200

// jobNames completes job names: the server's search (q) narrows, the
// prefix decides.
func jobNames(ctx context.Context, e Env, prefix string) ([]string, error) {
	var page struct {
		Jobs []struct {
			Name string `json:"name"`
		} `json:"jobs"`
	}
	path := fmt.Sprintf("/api/v1/jobs?limit=%d&q=%s", completeLimit, url.QueryEscape(prefix))
	if err := e.Client.Do(ctx, http.MethodGet, path, nil, &page, nil); err != nil {
		return nil, err
	}
	var out []string
	for _, j := range page.Jobs {
		if strings.HasPrefix(j.Name, prefix) {
			out = append(out, j.Name)
		}
	}
	return out, nil
}

// groupNames completes group names.
func groupNames(ctx context.Context, e Env, prefix string) ([]string, error) {
	var page struct {
		Groups []struct {
			Name string `json:"name"`
		} `json:"groups"`
	}
	if err := e.Client.Do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/groups?limit=%d", completeLimit), nil, &page, nil); err != nil {
		return nil, err
	}
	var out []string
	for _, g := range page.Groups {
		if strings.HasPrefix(g.Name, prefix) {
			out = append(out, g.Name)
		}
	}
	return out, nil
}

// snapshotIDs completes the ids of live snapshots.
func snapshotIDs(ctx context.Context, e Env, prefix string) ([]string, error) {
	var page struct {
		Snapshots []snapshot.Snapshot `json:"snapshots"`
	}
	if err := e.Client.Do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/snapshots?limit=%d", completeLimit), nil, &page, nil); err != nil {
		return nil, err
	}
	var out []string
	for _, s := range page.Snapshots {
		if strings.HasPrefix(s.ID, prefix) {
			out = append(out, s.ID)
		}
	}
	return out, nil
}

// completeFlags completes the flags that name server objects or take
// one of a few values.
func completeFlags(c *cobra.Command, cf clientFlags) {
	named := map[string]completer{"job": jobNames, "group": groupNames}
	for name, comp := range named {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, func(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return comp.run(cf, prefix)
			})
		}
	}
	fixed := map[string][]string{"output": formats, "status": runStatuses}
	for name, values := range fixed {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
}

// initHelpAndCompletion adds cobra's help and completion commands now
// (cobra would at Execute), so they carry examples like every command.
func initHelpAndCompletion(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  pink help jobs list\n  pink jobs list --help"
		case "completion":
			c.Example = "  source <(pink completion bash)\n  pink completion zsh > \"${fpath[1]}/_pink\"\n  pink completion fish > ~/.config/fish/completions/pink.fish"
			for _, sh := range c.Commands() {
				sh.Example = "  pink completion " + sh.Name() + " > pink.completion." + sh.Name()
			}
		}
	}
}
