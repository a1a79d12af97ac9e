package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pink-scheduler/pink/pkg/client"
)

// clientFlags are the flags of every API command; reason only of the
// commands that change something.
type clientFlags struct {
	server, token, caCert, output, reason *string
}

func addClientFlags(f *flags, write bool) clientFlags {
	c := clientFlags{
		server: f.string("server", "", "API address (default: the config file's server, else http://127.0.0.1:8080)"),
		token:  f.string("token", "", "API bearer token"),
		caCert: f.string("ca-cert", "", "CA certificate (PEM) to trust for an https server"),
		output: f.stringP("output", "o", formatTable, "output: "+strings.Join(formats, ", ")),
		reason: new(string),
	}
	if write {
		c.reason = f.string("reason", "", "why: recorded in the audit log with the change")
	}
	return c
}

func (c clientFlags) env(stdout io.Writer) (Env, error) {
	cfg, err := loadClientConfig()
	if err != nil {
		return Env{}, err
	}
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	cl, err := client.New(client.Options{
		Server: pick(*c.server, cfg.Server, "http://127.0.0.1:8080"),
		Token:  pick(*c.token, cfg.Token),
		CACert: pick(*c.caCert, cfg.CACert),
	})
	if err != nil {
		return Env{}, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if !slices.Contains(formats, *c.output) {
		return Env{}, fmt.Errorf("%w: --output must be one of %s", ErrUsage, strings.Join(formats, ", "))
	}
	return Env{Client: cl, Out: stdout, Err: io.Discard, Format: *c.output, Reason: *c.reason}, nil
}

// apiSpec is one command of the API client, `pink <noun> <verb> [ARG]`.
type apiSpec struct {
	use      string
	aliases  []string
	short    string
	long     string
	example  string
	args     int
	complete completer
	// write commands change something: they take --reason.
	write bool
	// run defines the command's own flags and returns what it does.
	run func(f *flags) func(ctx context.Context, e Env, args []string) error
}

func (s apiSpec) command(stdout io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use: s.use, Aliases: s.aliases, Short: s.short, Long: s.long, Example: s.example,
		Args: exactArgs(s.args),
	}
	f := newFlags(c.Flags())
	run := s.run(f)
	cf := addClientFlags(f, s.write)
	c.ValidArgsFunction = s.complete.args(cf, s.args)
	completeFlags(c, cf)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if err := f.check(); err != nil {
			return err
		}
		e, err := cf.env(stdout)
		if err != nil {
			return err
		}
		e.Err = cmd.ErrOrStderr()
		return run(cmd.Context(), e, args)
	}
	return c
}

// exactArgs wants n positional arguments, and says which are missing or
// too many by the command's usage line.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return fmt.Errorf("missing %s (usage: %s)", strings.Join(strings.Fields(cmd.Use)[1+len(args):1+n], " "), cmd.UseLine())
		case len(args) > n:
			return fmt.Errorf("unexpected arguments %q (usage: %s)", args[n:], cmd.UseLine())
		}
		return nil
	}
}

// noun is `pink <noun>`: alone or with help it prints its help; an
// unknown verb is a usage error naming the verbs there are.
func noun(name, short, example string, verbs ...apiSpec) func(io.Writer) *cobra.Command {
	return func(stdout io.Writer) *cobra.Command {
		c := &cobra.Command{Use: name, Short: short, Example: example, Args: cobra.ArbitraryArgs}
		for _, v := range verbs {
			c.AddCommand(v.command(stdout))
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			if args[0] == "help" {
				sub, _, err := cmd.Find(args[1:])
				if err != nil {
					return fmt.Errorf("%w: %v", ErrUsage, err)
				}
				return sub.Help()
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return fmt.Errorf("%w: unknown command %q; try: %s", ErrUsage, args[0], strings.Join(names, ", "))
		}
		return c
	}
}

// apiCommands are the client commands: apply and the nouns.
func apiCommands(stdout io.Writer) []*cobra.Command {
	cmds := []*cobra.Command{applySpec.command(stdout)}
	for _, n := range []func(io.Writer) *cobra.Command{jobsNoun, groupsNoun, runsNoun, snapshotsNoun, nodesNoun, auditNoun, scheduleNoun} {
		cmds = append(cmds, n(stdout))
	}
	return cmds
}
