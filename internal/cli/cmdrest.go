package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/pkg/client"
)

// The commands of the other nouns, and apply.

var groupsNoun = noun("groups", "List, show, create and delete groups", "  pink groups list\n  pink groups get default",
	apiSpec{
		use: "list", aliases: []string{"ls"}, short: "List the groups with their live clients",
		example: "  pink groups list",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, _ []string) error { return e.GroupsList(ctx) }
		},
	},
	apiSpec{
		use: "get NAME", short: "Print a group and its live clients (workers)", args: 1, complete: groupNames,
		example: "  pink groups get default",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.GroupGet(ctx, a[0]) }
		},
	},
	apiSpec{
		use: "create NAME", short: "Create a group", args: 1, write: true,
		example: "  pink groups create batch --description \"nightly batch workers\"",
		run: func(f *flags) func(context.Context, Env, []string) error {
			desc := f.string("description", "", "what the group is for")
			return func(ctx context.Context, e Env, a []string) error { return e.GroupCreate(ctx, a[0], *desc) }
		},
	},
	apiSpec{
		use: "delete NAME", aliases: []string{"rm"}, short: "Delete a group no job uses", args: 1, complete: groupNames, write: true,
		example: "  pink groups delete old-batch",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.GroupDelete(ctx, a[0]) }
		},
	},
)

// runStatuses are the values of runs list --status: the final statuses
// of history, and the live states of snapshots.
var runStatuses = []string{"succeeded", "failed", "timed_out", "canceled", "lost", "running", "pending"}

var runsNoun = noun("runs", "List runs across jobs, show one, print its output, watch them", `  pink runs list --status failed --since 24h
  pink runs logs backup@20261202T030000Z.001`,
	apiSpec{
		use: "list", aliases: []string{"ls"}, short: "List runs, newest first: of one job or across jobs",
		long: `List runs newest first: of one job (--job), or across all jobs (filters --group, --status,
--since). --status running or pending lists live snapshots instead of history: running,
and pending (not started: pending or dispatched).`,
		example: "  pink runs list --job backup -n 5\n  pink runs ls --status failed --since 24h\n  pink runs list --status running",
		run: func(f *flags) func(context.Context, Env, []string) error {
			job := f.string("job", "", "only runs of this job")
			group := f.string("group", "", "only runs of this group's jobs (not with --job)")
			status := f.string("status", "", "only runs with this status: succeeded, failed, timed_out, canceled, lost; or running, pending")
			since := f.string("since", "", "only runs scheduled since: a duration back from now (1h) or an RFC 3339 time (not with --job)")
			limit := limitFlag(f, 20, "how many runs (1-1000)")
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
				if *limit < 1 || *limit > 1000 {
					return fmt.Errorf("%w: --limit must be 1-1000", ErrUsage)
				}
				return e.RunsList(ctx, rf, *limit)
			}
		},
	},
	apiSpec{
		use: "get ID", short: "Print one run: its facts, whole error and output", args: 1,
		example: "  pink runs get backup@20261202T030000Z.001\n  pink runs get backup@20261202T030000Z.001 -o json",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.RunGet(ctx, a[0]) }
		},
	},
	apiSpec{
		use: "logs ID", short: "Print a run's output as text", args: 1,
		long: `Print a run's output as it is, for a pipe or a pager. ID is a run id, or the id of a live
snapshot: with --follow, logs waits for a pending or running one to finish (pink records
a run's output when it ends) and then prints it.`,
		example: "  pink runs logs backup@20261202T030000Z.001 | less\n  pink runs logs --follow backup@20261202T030000Z",
		run: func(f *flags) func(context.Context, Env, []string) error {
			follow := f.fs.BoolP("follow", "f", false, "wait for a live run to finish, then print its output")
			return func(ctx context.Context, e Env, a []string) error { return e.RunLogs(ctx, a[0], *follow) }
		},
	},
	apiSpec{
		use: "watch", short: "Print each run as it is written, starts and finishes",
		long: `Print a line each time a fire is written (pending), assigned (dispatched), starts (running)
or finishes (its status), from the live events stream, until Ctrl-C; like kubectl get -w.`,
		example: "  pink runs watch\n  pink runs watch --job backup",
		run: func(f *flags) func(context.Context, Env, []string) error {
			job := f.string("job", "", "only runs of this job")
			group := f.string("group", "", "only runs of this group's jobs")
			return func(ctx context.Context, e Env, _ []string) error { return e.RunsWatch(ctx, *job, *group) }
		},
	},
)

var snapshotsNoun = noun("snapshots", "List, show and cancel live snapshots (fires not finished yet)", "  pink snapshots list --group default",
	apiSpec{
		use: "list", aliases: []string{"ls"}, short: "List the live snapshots: pending, dispatched, running",
		example: "  pink snapshots list\n  pink snapshots ls --job backup",
		run: func(f *flags) func(context.Context, Env, []string) error {
			group := f.string("group", "", "only this group")
			job := f.string("job", "", "only this job")
			return func(ctx context.Context, e Env, _ []string) error { return e.SnapshotsList(ctx, *group, *job) }
		},
	},
	apiSpec{
		use: "get ID", short: "Print one live snapshot", args: 1, complete: snapshotIDs,
		example: "  pink snapshots get backup@20261202T030000Z",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.SnapshotGet(ctx, a[0]) }
		},
	},
	apiSpec{
		use: "delete ID", aliases: []string{"rm", "cancel"}, short: "Cancel a snapshot that has not started",
		args: 1, complete: snapshotIDs, write: true,
		example: "  pink snapshots delete backup@20261202T030000Z --reason \"not needed today\"",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.SnapshotCancel(ctx, a[0]) }
		},
	},
)

var nodesNoun = noun("nodes", "List the scheduler nodes", "  pink nodes list",
	apiSpec{
		use: "list", aliases: []string{"ls"}, short: "List the scheduler nodes and which one leads",
		example: "  pink nodes list",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, _ []string) error { return e.NodesList(ctx) }
		},
	},
)

var auditNoun = noun("audit", "Read the audit log", "  pink audit list -n 20",
	apiSpec{
		use: "list", aliases: []string{"ls"}, short: "List the audit log, newest first",
		example: "  pink audit list\n  pink audit ls -n 200 -o json",
		run: func(f *flags) func(context.Context, Env, []string) error {
			limit := limitFlag(f, 50, "how many entries (1-1000)")
			return func(ctx context.Context, e Env, _ []string) error { return e.AuditList(ctx, *limit) }
		},
	},
)

var scheduleNoun = noun("schedule", "Check schedules: validate an expression, list jobs whose fires moved", `  pink schedule validate "30 2 * * 1-5" --timezone Europe/Berlin`,
	apiSpec{
		use: "validate EXPR", short: "Check a schedule and print its next fires (writes nothing)", args: 1,
		example: "  pink schedule validate \"30 2 * * *\" --timezone America/New_York -n 3\n  pink schedule validate \"@every 90s\"",
		run: func(f *flags) func(context.Context, Env, []string) error {
			tz := f.string("timezone", "", "IANA time zone (default UTC)")
			n := limitFlag(f, 10, "how many fires to show (1-100)")
			return func(ctx context.Context, e Env, a []string) error { return e.ValidateSchedule(ctx, a[0], *tz, *n) }
		},
	},
	apiSpec{
		use: "changes", short: "List jobs whose fires moved when pink began reading schedules as crontab(5) does",
		example: "  pink schedule changes",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, _ []string) error { return e.ScheduleChanges(ctx) }
		},
	},
)

// applySpec is `pink apply -f FILE [--prune] [--dry-run]`.
var applySpec = apiSpec{
	use: "apply", short: "Make groups and jobs match a file (YAML or JSON)", write: true,
	long: `Make the groups and jobs the file lists match it: create what is missing, update what
differs, leave the rest (and with --prune delete the jobs of the file's groups that the file
does not list). Nothing changes when the file does not parse or a job is invalid. A .json
file is read as strict JSON, anything else as YAML; pink jobs list -o yaml writes such a file.`,
	example: "  pink apply -f jobs.yaml --dry-run\n  pink apply -f jobs.yaml --prune --reason \"deploy 42\"\n  cat jobs.yaml | pink apply -f -",
	run: func(f *flags) func(context.Context, Env, []string) error {
		file := f.stringP("file", "f", "", "apply file, YAML or JSON ('-' for stdin)")
		prune := f.bool("prune", false, "delete jobs of the file's groups that the file does not list")
		dry := f.bool("dry-run", false, "print what would change, change nothing")
		return func(ctx context.Context, e Env, _ []string) error {
			if *file == "" {
				return fmt.Errorf("%w: -f FILE is required", ErrUsage)
			}
			return e.Apply(ctx, *file, *prune, *dry)
		}
	},
}
