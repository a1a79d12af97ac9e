package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags and runs.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"dev", "run everything in one process on an embedded etcd", runDev},
	{"scheduler", "run a scheduler node against an etcd cluster", runScheduler},
	{"worker", "run a worker of one group against an etcd cluster", runWorker},
	{"bench", "measure throughput, lag and failover of a pink cluster", runBench},
	{"version", "print the version", runVersion},
}

// apiNouns are the client commands: pink <noun> <verb> [args] [flags].
var apiNouns = []struct{ name, summary string }{
	{"apply", "make groups and jobs match a file: apply -f jobs.yaml [--prune] [--dry-run]"},
	{"jobs", "list, get, delete, pause, resume, trigger, backfill, preview"},
	{"groups", "list, create, delete"},
	{"runs", "list (of a job, or across jobs), get, logs (a run's output as text)"},
	{"snapshots", "list, delete"},
	{"nodes", "list"},
	{"audit", "list"},
	{"schedule", "validate, changes (jobs whose fires moved with crontab(5)'s day rule)"},
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

// Main runs the pink command line with args (without the program name) and
// returns the process's exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, n := range apiNouns {
		if n.name == args[0] {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runAPI(ctx, args[0], args[1:], stdout, stderr)
		}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		go func() {
			// After the first signal, a second one kills at once.
			<-ctx.Done()
			stop()
		}()
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			if err != errUsage {
				fmt.Fprintf(stderr, "pink %s: %v\n", c.name, err)
			}
			return 2
		default:
			fmt.Fprintf(stderr, "pink %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "pink: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "pink — an observability-first distributed cron scheduler on etcd")
	fmt.Fprintln(w, "\nUsage: pink <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nAPI client commands (--server, --token, -o json; PINK_SERVER, PINK_TOKEN):")
	for _, n := range apiNouns {
		fmt.Fprintf(w, "  %-10s %s\n", n.name, n.summary)
	}
	fmt.Fprintln(w, "\nRun 'pink <command> -h' for the flags of a command. Connection flags can also be")
	fmt.Fprintln(w, "set in the environment (--etcd-endpoints is PINK_ETCD_ENDPOINTS; -h names the variable);")
	fmt.Fprintln(w, "all other flags, such as --prune, --force or --group, are read from the command line only.")
	fmt.Fprintln(w, "Client exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 denied, 6 bad input.")
}
