package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pink-scheduler/pink/pkg/client"
)

// clientConfig is the optional file ~/.config/pink/config.yaml (or
// $PINK_CONFIG): defaults for the client flags.
type clientConfig struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
	CACert string `yaml:"ca_cert"`
}

func loadClientConfig() (clientConfig, error) {
	var c clientConfig
	path := os.Getenv("PINK_CONFIG")
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return c, nil
		}
		path = filepath.Join(dir, "pink", "config.yaml")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv("PINK_CONFIG") == "" {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("client config: %w", err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("client config %s: %w", path, err)
	}
	return c, nil
}

// clientFlags are the flags of every API command.
type clientFlags struct {
	server, token, caCert, output, reason *string
}

func addClientFlags(f *flags) clientFlags {
	return clientFlags{
		server: f.string("server", "", "API address (default from the config file, else http://127.0.0.1:8080)"),
		token:  f.string("token", "", "API bearer token"),
		caCert: f.string("ca-cert", "", "CA certificate (PEM) to trust for an https server"),
		output: f.string("output", "table", "output: table or json (also -o)"),
		reason: f.string("reason", "", "why: recorded in the audit log with a change"),
	}
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
	if *c.output != "table" && *c.output != "json" {
		return Env{}, fmt.Errorf("%w: --output must be table or json", ErrUsage)
	}
	return Env{Client: cl, Out: stdout, JSON: *c.output == "json", Reason: *c.reason}, nil
}

// apiCommand is a command of the API client: `pink <noun> <verb> [args]`.
type apiCommand struct {
	usage string
	// args is how many positional arguments it takes.
	args  int
	flags func(f *flags) func(ctx context.Context, e Env, args []string) error
}

// apiCommands maps "noun verb" to its command.
var apiCommands = map[string]apiCommand{
	"jobs list": {"[--group G]", 0, func(f *flags) func(context.Context, Env, []string) error {
		group := f.string("group", "", "only jobs of this group")
		return func(ctx context.Context, e Env, _ []string) error { return e.JobsList(ctx, *group) }
	}},
	"jobs get": {"NAME", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.JobGet(ctx, a[0]) }
	}},
	"jobs delete": {"NAME", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.JobDelete(ctx, a[0]) }
	}},
	"jobs pause": {"NAME [--until TIME|DURATION] [--reason R]", 1, func(f *flags) func(context.Context, Env, []string) error {
		until := f.string("until", "", "resume automatically at this RFC 3339 time or after this duration (2h)")
		return func(ctx context.Context, e Env, a []string) error { return e.JobPause(ctx, a[0], *until) }
	}},
	"jobs resume": {"NAME", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.JobResume(ctx, a[0]) }
	}},
	"jobs trigger": {"NAME [--force]", 1, func(f *flags) func(context.Context, Env, []string) error {
		force := f.bool("force", false, "run even if the job forbids overlap and a run is in progress")
		return func(ctx context.Context, e Env, a []string) error { return e.JobTrigger(ctx, a[0], *force) }
	}},
	"jobs backfill": {"NAME --from TIME --to TIME", 1, func(f *flags) func(context.Context, Env, []string) error {
		from := f.string("from", "", "first nominal time (RFC 3339)")
		to := f.string("to", "", "last nominal time (RFC 3339)")
		return func(ctx context.Context, e Env, a []string) error {
			ft, err1 := time.Parse(time.RFC3339, *from)
			tt, err2 := time.Parse(time.RFC3339, *to)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("%w: --from and --to must be RFC 3339 times, e.g. 2026-11-01T00:00:00Z", ErrUsage)
			}
			return e.JobBackfill(ctx, a[0], ft, tt)
		}
	}},
	"jobs preview": {"NAME [-n N]", 1, func(f *flags) func(context.Context, Env, []string) error {
		n := f.int("n", 10, "how many fires")
		return func(ctx context.Context, e Env, a []string) error { return e.JobPreview(ctx, a[0], *n) }
	}},
	"groups list": {"", 0, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, _ []string) error { return e.GroupsList(ctx) }
	}},
	"groups create": {"NAME [--description D]", 1, func(f *flags) func(context.Context, Env, []string) error {
		desc := f.string("description", "", "what the group is for")
		return func(ctx context.Context, e Env, a []string) error { return e.GroupCreate(ctx, a[0], *desc) }
	}},
	"groups delete": {"NAME", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.GroupDelete(ctx, a[0]) }
	}},
	"runs list": {"[--job NAME | --group G] [--status S] [--since 1h|TIME] [--limit N]", 0, func(f *flags) func(context.Context, Env, []string) error {
		job := f.string("job", "", "only runs of this job")
		group := f.string("group", "", "only runs of this group's jobs (not with --job)")
		status := f.string("status", "", "only runs with this status: succeeded, failed, timed_out, canceled, lost")
		since := f.string("since", "", "only runs scheduled since: a duration back from now (1h) or an RFC 3339 time (not with --job)")
		limit := f.int("limit", 20, "how many runs (1-1000)")
		return func(ctx context.Context, e Env, _ []string) error {
			rf := client.RunFilter{Job: *job, Group: *group, Status: *status}
			if *job != "" && (*group != "" || *since != "") {
				return fmt.Errorf("%w: --group and --since filter runs across jobs: leave out --job, or them", ErrUsage)
			}
			if *since != "" {
				t, err := sinceTime(*since, time.Now())
				if err != nil {
					return fmt.Errorf("%w: --since: %v", ErrUsage, err)
				}
				rf.Since = t
			}
			return e.RunsList(ctx, rf, *limit)
		}
	}},
	"runs get": {"ID", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.RunGet(ctx, a[0]) }
	}},
	"runs logs": {"ID", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.RunLogs(ctx, a[0]) }
	}},
	"snapshots list": {"[--group G] [--job NAME]", 0, func(f *flags) func(context.Context, Env, []string) error {
		group := f.string("group", "", "only this group")
		job := f.string("job", "", "only this job")
		return func(ctx context.Context, e Env, _ []string) error { return e.SnapshotsList(ctx, *group, *job) }
	}},
	"snapshots delete": {"ID", 1, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, a []string) error { return e.SnapshotCancel(ctx, a[0]) }
	}},
	"nodes list": {"", 0, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, _ []string) error { return e.NodesList(ctx) }
	}},
	"audit list": {"[--limit N]", 0, func(f *flags) func(context.Context, Env, []string) error {
		limit := f.int("limit", 50, "how many entries (1-1000)")
		return func(ctx context.Context, e Env, _ []string) error { return e.AuditList(ctx, *limit) }
	}},
	"schedule validate": {"EXPR [--timezone TZ] [-n N]", 1, func(f *flags) func(context.Context, Env, []string) error {
		tz := f.string("timezone", "", "IANA time zone (default UTC)")
		n := f.int("n", 10, "how many fires to show")
		return func(ctx context.Context, e Env, a []string) error { return e.ValidateSchedule(ctx, a[0], *tz, *n) }
	}},
	"schedule changes": {"", 0, func(*flags) func(context.Context, Env, []string) error {
		return func(ctx context.Context, e Env, _ []string) error { return e.ScheduleChanges(ctx) }
	}},
}

// applyCommand is `pink apply -f FILE [--prune] [--dry-run]`.
var applyCommand = apiCommand{"-f FILE [--prune] [--dry-run]", 0, func(f *flags) func(context.Context, Env, []string) error {
	file := f.string("file", "", "apply file, YAML or JSON ('-' for stdin; also -f)")
	f.fs.StringVar(file, "f", "", "apply file (shorthand)")
	prune := f.bool("prune", false, "delete jobs of the file's groups that the file does not list")
	dry := f.bool("dry-run", false, "print what would change, change nothing")
	return func(ctx context.Context, e Env, _ []string) error {
		if *file == "" {
			return fmt.Errorf("%w: -f FILE is required", ErrUsage)
		}
		return e.Apply(ctx, *file, *prune, *dry)
	}
}}

// runAPI runs `pink <noun> <verb> ...` or `pink apply ...`.
func runAPI(ctx context.Context, noun string, args []string, stdout, stderr io.Writer) int {
	name, cmd, rest := noun, applyCommand, args
	if noun != "apply" {
		if len(args) == 0 {
			fmt.Fprintf(stderr, "pink %s: which one? %s\n", noun, verbsOf(noun))
			return ExitUsage
		}
		var ok bool
		name = noun + " " + args[0]
		cmd, ok = apiCommands[name]
		if !ok {
			fmt.Fprintf(stderr, "pink %s: unknown command %q; try %s\n", noun, args[0], verbsOf(noun))
			return ExitUsage
		}
		rest = args[1:]
	}
	f := newFlags(name, stderr)
	cf := addClientFlags(f)
	f.fs.StringVar(cf.output, "o", *cf.output, "output: table or json (shorthand of --output)")
	run := cmd.flags(f)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pink %s %s\n\n", name, cmd.usage)
		f.fs.PrintDefaults()
	}
	// Positional arguments may come before the flags (pink jobs get NAME -o json).
	var pos []string
	for len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' && len(pos) < cmd.args {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	if err := f.fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	pos = append(pos, f.fs.Args()...)
	if len(pos) != cmd.args {
		fmt.Fprintf(stderr, "Usage: pink %s %s\n", name, cmd.usage)
		return ExitUsage
	}
	e, err := cf.env(stdout)
	if err == nil {
		err = run(ctx, e, pos)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pink %s: %v\n", name, err)
	}
	return ExitCode(err)
}

func verbsOf(noun string) string {
	var verbs []string
	for k := range apiCommands {
		if n, v, _ := strings.Cut(k, " "); n == noun {
			verbs = append(verbs, v)
		}
	}
	sort.Strings(verbs)
	return strings.Join(verbs, ", ")
}
