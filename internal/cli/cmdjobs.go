package cli

import (
	"context"
	"fmt"
	"time"
)

// The jobs commands.

var jobsNoun = noun("jobs", "List, describe, change and run jobs", `  pink jobs list
  pink jobs describe backup
  pink jobs trigger backup --reason "restore test"`,
	apiSpec{
		use: "list", aliases: []string{"ls"}, short: "List the jobs with their last run and next fire",
		long: `List the jobs by name (all pages), with the outcome and age of their last finished run,
their next fire and whether they are paused. -o wide adds the concurrency policy, the
job's age, labels and description; -o yaml prints a file pink apply takes.`,
		example: "  pink jobs list\n  pink jobs ls --group batch -o wide\n  pink jobs list --failing   # whose last run failed\n  pink jobs list -o yaml > jobs.yaml   # pink apply -f jobs.yaml recreates them",
		run: func(f *flags) func(context.Context, Env, []string) error {
			group := f.string("group", "", "only jobs of this group")
			failing := f.bool("failing", false, "only jobs whose last finished run failed (among them the ones PinkGroupJobsFailing counts)")
			return func(ctx context.Context, e Env, _ []string) error { return e.JobsList(ctx, *group, *failing) }
		},
	},
	apiSpec{
		use: "get NAME", short: "Print one job", args: 1, complete: jobNames,
		long:    "Print one job: its spec, next fires and last run. -o yaml prints a file pink apply takes.",
		example: "  pink jobs get backup\n  pink jobs get backup -o yaml > backup.yaml",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.JobGet(ctx, a[0]) }
		},
	},
	apiSpec{
		use: "describe NAME", short: "Show a job for people: spec, next fires, last runs, live snapshots, audit",
		args: 1, complete: jobNames,
		example: "  pink jobs describe backup",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.JobDescribe(ctx, a[0], time.Now()) }
		},
	},
	apiSpec{
		use: "delete NAME", aliases: []string{"rm"}, short: "Delete a job (its pending snapshots are canceled)",
		args: 1, complete: jobNames, write: true,
		example: "  pink jobs delete old-report --reason \"replaced by report-v2\"",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.JobDelete(ctx, a[0]) }
		},
	},
	apiSpec{
		use: "pause NAME", short: "Pause a job: it fires no more until resumed (or until --until)",
		args: 1, complete: jobNames, write: true,
		example: "  pink jobs pause backup --until 2h --reason \"storage maintenance\"",
		run: func(f *flags) func(context.Context, Env, []string) error {
			until := f.string("until", "", "resume automatically at this RFC 3339 time or after this duration (2h)")
			return func(ctx context.Context, e Env, a []string) error { return e.JobPause(ctx, a[0], *until) }
		},
	},
	apiSpec{
		use: "resume NAME", short: "Resume a paused job", args: 1, complete: jobNames, write: true,
		example: "  pink jobs resume backup",
		run: func(*flags) func(context.Context, Env, []string) error {
			return func(ctx context.Context, e Env, a []string) error { return e.JobResume(ctx, a[0]) }
		},
	},
	apiSpec{
		use: "trigger NAME", short: "Run a job now (a manual fire)", args: 1, complete: jobNames, write: true,
		example: "  pink jobs trigger backup\n  pink jobs trigger backup --force   # even while a forbid job runs",
		run: func(f *flags) func(context.Context, Env, []string) error {
			force := f.bool("force", false, "run even if the job forbids overlap and a run is in progress")
			return func(ctx context.Context, e Env, a []string) error { return e.JobTrigger(ctx, a[0], *force) }
		},
	},
	apiSpec{
		use: "backfill NAME", short: "Run every fire of a job between two past times", args: 1, complete: jobNames, write: true,
		example: "  pink jobs backfill report --from 2026-11-01T00:00:00Z --to 2026-11-07T00:00:00Z",
		run: func(f *flags) func(context.Context, Env, []string) error {
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
		},
	},
	apiSpec{
		use: "preview NAME", short: "Print a job's next fires in its time zone", args: 1, complete: jobNames,
		example: "  pink jobs preview report -n 5",
		run: func(f *flags) func(context.Context, Env, []string) error {
			n := limitFlag(f, 10, "how many fires (1-100)")
			return func(ctx context.Context, e Env, a []string) error { return e.JobPreview(ctx, a[0], *n) }
		},
	},
	apiSpec{
		use: "watch", short: "Print the jobs, then each change as it happens (runs start and finish)",
		long: `Print the jobs as jobs list does, then a line each time a job changes, a fire is written,
a run starts or a run finishes (from the live events stream, GET /api/v1/events), until
Ctrl-C.`,
		example: "  pink jobs watch\n  pink jobs watch --group batch",
		run: func(f *flags) func(context.Context, Env, []string) error {
			group := f.string("group", "", "only jobs of this group")
			return func(ctx context.Context, e Env, _ []string) error { return e.JobsWatch(ctx, *group) }
		},
	},
)

// limitFlag is -n/--limit, the same flag on every command that bounds a
// list.
func limitFlag(f *flags, def int, usage string) *int {
	return f.intP("limit", "n", def, usage)
}
