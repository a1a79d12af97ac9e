package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/pink-scheduler/pink/internal/console"
	"github.com/pink-scheduler/pink/internal/node"
	"github.com/pink-scheduler/pink/pkg/job"
)

// compactFlag is --etcd-compact-interval of the commands that lead.
type compactFlag struct{ every *time.Duration }

func addCompactFlag(f *flags) compactFlag {
	return compactFlag{f.duration("etcd-compact-interval", node.DefaultCompactEvery,
		"history etcd keeps: the leader compacts every fifth of this to the revision of this long ago, keeping less while etcd is over half full (0: never, for an etcd that compacts itself)")}
}

// addConsoleFlags are the web console's link templates, of the commands
// that serve the API.
func addConsoleFlags(f *flags) func() console.Config {
	grafana := f.string("console-grafana-url", "", "link from a job in the web console to its Grafana dashboard, {job} replaced by the job's name (empty: no link)")
	trace := f.string("console-trace-url", "", "link from a run in the web console to its trace, {trace_id} replaced by the run's trace id (empty: no link)")
	return func() console.Config { return console.Config{GrafanaURL: *grafana, TraceURL: *trace} }
}

// addLookaheadFlag is --lookahead of the commands that lead; the value it
// returns is as node configs take it: negative for off.
func addLookaheadFlag(f *flags) func() time.Duration {
	return addOffDuration(f, "lookahead", node.DefaultLookahead,
		"how far ahead of its nominal time the leader writes a fire of a job that allows overlap, for its worker to start on time (0: off; docs/jobs.md)")
}

// addClaimAheadFlag is --claim-ahead of the commands that run a worker; the
// value it returns is as node configs take it: negative for off.
func addClaimAheadFlag(f *flags) func() time.Duration {
	return addOffDuration(f, "claim-ahead", node.DefaultClaimAhead,
		"how long before its nominal time the worker claims a fire the leader wrote ahead, so that it starts on time (0: claim at the nominal time; docs/jobs.md)")
}

// addOffDuration is a duration flag where 0 turns the feature off and a
// negative value is a usage error; the value it returns is as node configs
// take it, where zero means the default: negative for off.
func addOffDuration(f *flags, name string, def time.Duration, usage string) func() time.Duration {
	d := f.duration(name, def, usage)
	f.checks = append(f.checks, func() error {
		if *d < 0 {
			return fmt.Errorf("--%s must not be negative, got %s", name, *d)
		}
		return nil
	})
	return func() time.Duration {
		if *d == 0 {
			return -1
		}
		return *d
	}
}

// addJobInfoLabelsFlag is --metrics-job-info-labels of the commands that
// lead: the job label keys pink_job_info carries.
func addJobInfoLabelsFlag(f *flags) func() []string {
	v := f.string("metrics-job-info-labels", "", "comma-separated job label keys that pink_job_info exports as label_<key>, for alert routing (e.g. team,tier)")
	f.checks = append(f.checks, func() error {
		for _, k := range splitList(*v) {
			if !job.ValidLabelName(k) {
				return fmt.Errorf("--metrics-job-info-labels: %q is not a job label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 63 characters)", k)
			}
		}
		return nil
	})
	return func() []string { return splitList(*v) }
}

// addHistoryBytesFlag is --history-max-bytes of the commands that lead.
func addHistoryBytesFlag(f *flags) *int64 {
	return f.bytes("history-max-bytes", node.DefaultHistoryMaxBytes,
		"bound of all run history in etcd: jobs keep fewer runs than --history-limit when that is what fits (docs/architecture.md)")
}

// interval is the flag as node configs take it: negative for never.
func (c compactFlag) interval() (time.Duration, error) {
	switch d := *c.every; {
	case d == 0:
		return -1, nil
	case d < time.Second:
		return 0, fmt.Errorf("%w: --etcd-compact-interval must be 0 (never) or at least 1s", ErrUsage)
	default:
		return d, nil
	}
}

func devCommand(stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "dev",
		Short: "Run everything in one process on an embedded etcd",
		Long: `Run a scheduler, a worker of group "default" (http and shell targets) and an embedded
etcd in one process: the API, the web console and /metrics on --listen. Data survives
restarts in --data-dir. Loopback only; not for production.`,
		Example: `  pink dev
  pink dev --listen 127.0.0.1:8081 --etcd-listen 127.0.0.1:2381 --data-dir ./pink-data-2`,
		Args: cobra.NoArgs,
	}
	f := newFlags(c.Flags())
	dataDir := f.string("data-dir", "./pink-data", "directory of the embedded etcd's data; survives restarts")
	listen := f.string("listen", "127.0.0.1:8080", "address of the JSON API and /metrics (loopback only)")
	etcdListen := f.string("etcd-listen", "127.0.0.1:2379", "client address of the embedded etcd, for extra workers to join")
	root := f.string("root", "/pink", "etcd key prefix")
	ttl := f.duration("session-ttl", node.DefaultSessionTTL, "lease TTL of the scheduler session and the worker registration")
	lookahead := addLookaheadFlag(f)
	capacity := f.int("capacity", node.DefaultCapacity, "runs the built-in worker executes at once")
	noShell := f.bool("no-shell", false, "disable the shell target (enabled by default in dev mode)")
	eg := addEgressFlags(f)
	jobLabel := f.bool("metrics-job-label", true, "label metrics by job (set false for very many jobs)")
	infoLabels := addJobInfoLabelsFlag(f)
	compact := addCompactFlag(f)
	defragFree := f.bytes("etcd-defrag-free", node.DefaultDefragFree,
		"defragment the embedded etcd when its database has held this much free space, and at least half of its file, for 10 minutes (0: never)")
	quota := f.bytes("etcd-quota", node.DefaultEtcdQuota, "the embedded etcd's backend quota: past it etcd refuses writes (NOSPACE)")
	historyBytes := addHistoryBytesFlag(f)
	consoleCfg := addConsoleFlags(f)
	cluster := addClusterFlag(f)
	drain := f.duration("drain-timeout", node.DefaultDevDrainTimeout, "on Ctrl-C, how long runs in progress may finish before they are interrupted (and retried at the next start)")
	lf := addLogFlags(f)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		log, err := lf.logger(f, stderr)
		if err != nil {
			return err
		}
		allow, deny, err := eg.rules()
		if err != nil {
			return err
		}
		every, err := compact.interval()
		if err != nil {
			return err
		}
		if *defragFree == 0 {
			*defragFree = -1
		}
		return node.RunDev(cmd.Context(), node.DevConfig{
			DataDir: *dataDir, Listen: *listen, EtcdListen: *etcdListen, Root: *root, SessionTTL: *ttl, Lookahead: lookahead(),
			AllowShell: !*noShell, Capacity: *capacity, NoJobLabel: !*jobLabel, JobInfoLabels: infoLabels(), Logger: log,
			HTTPAllow: allow, HTTPDeny: deny, SecretsDir: *eg.secretsDir,
			CompactEvery: every, DefragFree: *defragFree, EtcdQuota: *quota, HistoryMaxBytes: *historyBytes,
			Console: consoleCfg(), DrainTimeout: *drain, ClusterName: *cluster,
		})
	}
	return c
}

func schedulerCommand(stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "scheduler",
		Short: "Run a scheduler node against an etcd cluster",
		Long: `Run a scheduler node: it serves the API, the web console and /metrics, and takes part in
the leader election; the leader turns schedules into snapshots and dispatches them to workers.
Run any number of them against one etcd cluster and --root.`,
		Example: `  pink scheduler --etcd-endpoints http://10.0.0.1:2379,http://10.0.0.2:2379 \
    --listen 0.0.0.0:8080 --api-tokens-file /etc/pink/tokens.yaml`,
		Args: cobra.NoArgs,
	}
	f := newFlags(c.Flags())
	ef := addEtcdFlags(f)
	listen := f.string("listen", "127.0.0.1:8080", "address of the JSON API and /metrics")
	insecure := f.bool("insecure-allow-unauthenticated", false, "allow the API to listen beyond loopback without authentication")
	tokens := f.string("api-tokens-file", "", "YAML or JSON file of API tokens (name, role, token_sha256); turns on authentication")
	metricsToken := f.bool("metrics-require-token", false, "make /metrics need a viewer token too")
	tlsCert := f.string("tls-cert", "", "certificate (PEM) to serve the API over HTTPS")
	tlsKey := f.string("tls-key", "", "key (PEM) of --tls-cert")
	nodeID := f.string("node-id", "", "unique id of this node (default host-pid)")
	advertise := f.string("advertise-url", "", "base URL other scheduler nodes reach this API at, to forward HTTP workers' requests (default: the listen address, with the host name for 0.0.0.0)")
	ttl := f.duration("session-ttl", node.DefaultSessionTTL, "lease TTL of the election session: how fast a dead leader is replaced")
	misfire := f.duration("misfire-threshold", node.DefaultMisfireThreshold, "how late a fire may be and still count as on time")
	lookahead := addLookaheadFlag(f)
	historyLimit := f.int("history-limit", node.DefaultHistoryLimit, "runs kept per job unless the job sets history_limit")
	historyAge := f.duration("history-max-age", node.DefaultHistoryMaxAge, "runs older than this are deleted")
	historyBytes := addHistoryBytesFlag(f)
	jobLabel := f.bool("metrics-job-label", true, "label metrics by job (set false for very many jobs)")
	infoLabels := addJobInfoLabelsFlag(f)
	profile := f.string("cpu-profile", "", "write a CPU profile of the whole run to this file")
	memProfile := f.string("mem-profile", "", "write a heap profile to this file on each SIGUSR1")
	compact := addCompactFlag(f)
	consoleCfg := addConsoleFlags(f)
	lf := addLogFlags(f)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		log, err := lf.logger(f, stderr)
		if err != nil {
			return err
		}
		if *ttl < 1e9 {
			return fmt.Errorf("%w: --session-ttl must be at least 1s", ErrUsage)
		}
		every, err := compact.interval()
		if err != nil {
			return err
		}
		if err := node.CheckAdvertiseURL(*advertise); err != nil {
			return fmt.Errorf("%w: %w", ErrUsage, err)
		}
		return node.RunScheduler(cmd.Context(), node.SchedulerConfig{
			Etcd: ef.config(), Listen: *listen, AllowUnauthenticated: *insecure, TokensFile: *tokens,
			MetricsNeedToken: *metricsToken, TLSCert: *tlsCert, TLSKey: *tlsKey, NodeID: *nodeID, AdvertiseURL: *advertise,
			SessionTTL: *ttl, MisfireThreshold: *misfire, Lookahead: lookahead(), HistoryLimit: *historyLimit, HistoryMaxAge: *historyAge,
			NoJobLabel: !*jobLabel, JobInfoLabels: infoLabels(), CPUProfile: *profile, MemProfile: *memProfile, Logger: log, CompactEvery: every,
			HistoryMaxBytes: *historyBytes, Console: consoleCfg(),
		})
	}
	return c
}

func workerCommand(stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker of one group against an etcd cluster",
		Long: `Run a worker: it registers in --group with a lease and runs the snapshots the leader assigns
to it with the built-in http target (and shell with --allow-shell). /metrics and /healthz
on --listen.`,
		Example: `  pink worker --etcd-endpoints http://10.0.0.1:2379 --group batch --capacity 8
  pink worker --etcd-endpoints http://10.0.0.1:2379 --group ops --allow-shell`,
		Args: cobra.NoArgs,
	}
	f := newFlags(c.Flags())
	ef := addEtcdFlags(f)
	group := f.string("group", "", "group this worker serves (created if missing)")
	listen := f.string("listen", "127.0.0.1:9090", "address of /metrics and /healthz")
	name := f.string("name", "", "client id prefix (default host-pid); each registration adds a random suffix")
	capacity := f.int("capacity", node.DefaultCapacity, "runs executed at once")
	ttl := f.duration("lease-ttl", node.DefaultLeaseTTL, "registration lease TTL: how fast the leader notices a dead worker")
	drain := f.duration("drain-timeout", node.DefaultDrainTimeout, "on SIGTERM, how long running handlers may finish before they are canceled")
	claimAhead := addClaimAheadFlag(f)
	shell := f.bool("allow-shell", false, "enable the shell target (runs commands from job params on this host)")
	eg := addEgressFlags(f)
	jobLabel := f.bool("metrics-job-label", true, "label metrics by job (set false for very many jobs)")
	lf := addLogFlags(f)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		log, err := lf.logger(f, stderr)
		if err != nil {
			return err
		}
		if *group == "" {
			return fmt.Errorf("%w: --group is required", ErrUsage)
		}
		if *ttl < 1e9 {
			return fmt.Errorf("%w: --lease-ttl must be at least 1s", ErrUsage)
		}
		allow, deny, err := eg.rules()
		if err != nil {
			return err
		}
		return node.RunWorker(cmd.Context(), node.WorkerConfig{
			Etcd: ef.config(), Group: *group, Listen: *listen, Name: *name, Capacity: *capacity,
			LeaseTTL: *ttl, DrainTimeout: *drain, ClaimAhead: claimAhead(), AllowShell: *shell, NoJobLabel: !*jobLabel, Logger: log,
			HTTPAllow: allow, HTTPDeny: deny, SecretsDir: *eg.secretsDir,
		})
	}
	return c
}
