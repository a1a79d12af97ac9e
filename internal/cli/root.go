package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// The command line is a cobra tree (github.com/spf13/cobra: the CLI
// library of kubectl, gh, helm and etcdctl, so -h, --help, `help`,
// aliases and shell completion behave as their users expect, and help is
// generated from the same definitions that parse).

// Command groups of pink --help.
const (
	groupRun    = "run"
	groupManage = "manage"
)

// runError is an error of a command's own work (not of its command line):
// it exits with the code ExitCode gives it, not with the usage code.
type runError struct{ err error }

func (r *runError) Error() string { return r.err.Error() }
func (r *runError) Unwrap() error { return r.err }

// newRoot builds the whole command tree, printing to stdout and stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "pink",
		Short: "An observability-first distributed cron scheduler on etcd",
		Long: `pink — an observability-first distributed cron scheduler on etcd.

Run a cluster with dev, scheduler and worker; manage it through the API with the other
commands (--server, --token; PINK_SERVER, PINK_TOKEN, or ~/.config/pink/config.yaml).
Connection flags can also be set in the environment (--etcd-endpoints is
PINK_ETCD_ENDPOINTS; each flag's help names its variable); all other flags, such as
--prune, --force or --group, are read from the command line only.

Client exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 denied, 6 bad input.`,
		Example: `  pink dev                      # everything in one process, console at http://127.0.0.1:8080/
  pink jobs list                # the jobs, their last run and next fire
  pink apply -f jobs.yaml       # make the cluster match a file
  pink runs list --status failed --since 24h`,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddGroup(&cobra.Group{ID: groupRun, Title: "Run pink:"},
		&cobra.Group{ID: groupManage, Title: "Manage jobs through the API:"})
	showVersion := root.Flags().Bool("version", false, "print the version (as pink version)")
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if *showVersion {
			v := versionCommand(stdout)
			v.SetArgs([]string{})
			v.SilenceErrors, v.SilenceUsage = true, true
			return v.ExecuteContext(cmd.Context())
		}
		return cmd.Help()
	}
	for _, c := range []*cobra.Command{devCommand(stderr), schedulerCommand(stderr), workerCommand(stderr), benchCommand(stdout, stderr)} {
		c.GroupID = groupRun
		root.AddCommand(c)
	}
	for _, c := range apiCommands(stdout) {
		c.GroupID = groupManage
		root.AddCommand(c)
	}
	root.AddCommand(versionCommand(stdout), alertRulesCommand(stdout))
	initHelpAndCompletion(root)
	wrapRuns(root)
	return root
}

// wrapRuns marks the errors of every command's RunE as run errors, so
// Main tells them from command-line mistakes.
func wrapRuns(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if err := run(cmd, args); err != nil {
				return &runError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapRuns(sub)
	}
}

// Main runs the pink command line with args (without the program name) and
// returns the process's exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	if len(args) > 0 && args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var re *runError
	if errors.As(err, &re) {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), re.err)
		if errors.Is(err, ErrUsage) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return ExitCode(re.err)
	}
	// A command-line mistake cobra found: unknown command or flag, wrong
	// arguments.
	fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
	return ExitUsage
}
