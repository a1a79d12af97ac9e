#!/usr/bin/env bash
# Runs the benchmark scenarios of docs/benchmarks.md and writes one JSON
# report per scenario to $OUT (default ./bench-results), with a heap profile
# of each scheduler at the end of the last run's window
# ($OUT/<scenario>.heap.bench-s<i>). Prints, per scenario, the figures of
# the page's tables (needs jq). Takes about 112 minutes (the soak alone 32);
# run it on an otherwise idle machine. A few scenarios are e2e tests instead
# of `pink bench` runs (see tests below): they print the test's figures and
# keep its log in $OUT/<scenario>.log.
#   scripts/bench.sh             # every scenario
#   scripts/bench.sh minute-10k  # only the named ones
#   scripts/bench.sh etcd-faults # issue 22's etcd member faults (about 90 s)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench-results}
mkdir -p "$OUT"
go build -o "$OUT/pink" ./cmd/pink

declare -A scenarios=(
  [second-10]="--jobs 10 --warmup 5s --duration 30s --runs 3"
  [second-1k]="--jobs 1000 --warmup 5s --duration 30s --runs 3"
  [second-2k]="--jobs 2000 --warmup 5s --duration 30s --runs 3"
  [second-3k]="--jobs 3000 --warmup 5s --duration 30s --runs 3"
  [minute-10k]="--jobs 10000 --schedule '0 * * * * *' --warmup 5s --duration 61s --runs 3"
  [registered-100k]="--jobs 10 --idle-jobs 100000 --no-job-label --warmup 2s --duration 5s --runs 3"
  [registered-100k-job-label]="--jobs 10 --idle-jobs 100000 --warmup 2s --duration 5s --runs 3"
  [leader-kill]="--jobs 100 --schedulers 3 --kill-leader-every 15s --duration 60s --runs 3"
  [leader-kill-ttl2]="--jobs 100 --schedulers 3 --session-ttl 2s --kill-leader-every 10s --duration 60s --runs 3"
  [leader-stop]="--jobs 100 --schedulers 3 --stop-leader-every 10s --duration 60s --runs 3"
  [worker-kill]="--jobs 200 --workers 3 --run-time 500ms --kill-worker-every 10s --duration 60s --runs 3"
  # Issue 19's scenario: 5 jobs every second, the default TTLs, lookahead and claim ahead.
  [ontime-leader-kill]="--jobs 5 --schedulers 3 --kill-leader-every 15s --duration 60s --runs 3"
  [ontime-leader-stop]="--jobs 5 --schedulers 3 --stop-leader-every 15s --duration 60s --runs 3"
  [ontime-worker-kill]="--jobs 5 --workers 2 --kill-worker-every 15s --duration 60s --runs 3"
  [soak]="--jobs 1000 --warmup 5s --duration 30m --runs 1"
)
# Scenarios that are e2e tests: the test, and the prefix of the lines of its
# log that hold its figures.
declare -A tests=(
  # Issue 22's scenario: a real 3-member etcd cluster, 3 schedulers, 2 workers, 5 jobs every second;
  # kill -9 the etcd leader, a follower, SIGSTOP the leader 10 s, no quorum for 15 s, kill -9 the etcd
  # leader and the pink leader together. Per fault: the runs more than 1 s late, and the API's answers.
  [etcd-faults]="TestEtcdMemberFaults etcdfaults:"
)
order=(second-10 second-1k second-2k second-3k minute-10k registered-100k registered-100k-job-label
  leader-kill leader-kill-ttl2 leader-stop worker-kill ontime-leader-kill ontime-leader-stop ontime-worker-kill
  etcd-faults soak)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=("${order[@]}")
fi

# summary prints the figures of a report as the page's tables show them:
# medians, with the range of the runs behind the lag medians.
summary() {
  command -v jq >/dev/null || { echo "(install jq for a summary; the report is $1)" >&2; return; }
  jq -r '
    def ms: . * 1000 | round | tostring;
    def rng(k): (.spread[k] // [.[k], .[k]]) | "\(.[0] | ms)–\(.[1] | ms)";
    def mib: . / 1048576 | round | tostring;
    def pct: . * 1000 | round / 10 | tostring;
    "runs/s \(.runs_per_second | round); fires ran / expected \(.fires_ran) / \(.fires_expected); missed \(.missed); dup. \(.duplicates); retried \(.retried)",
    "schedule lag p50 / p99 / max \(.schedule_lag_p50 | ms) / \(.schedule_lag_p99 | ms) / \(.schedule_lag_max | ms) ms (p99 of the runs: \(rng("schedule_lag_p99")) ms)",
    "dispatch lag p99 \(.dispatch_lag_p99 | ms) ms (runs: \(rng("dispatch_lag_p99")) ms)",
    "start lag p50 / p99 \(.start_lag_p50 | ms) / \(.start_lag_p99 | ms) ms (p99 of the runs: \(rng("start_lag_p99")) ms)",
    "etcd writes / keys per run \(.etcd_writes_per_run * 1000 | round / 1000) / \(.etcd_keys_per_run * 10 | round / 10); etcd txn/s \(.etcd_txn_per_second | round)",
    "etcd baseline (\(.etcd_baseline_concurrency) in flight, \(.etcd_baseline_value_bytes) B values): \(.etcd_baseline_txn_per_second | round) txn/s, \(.etcd_baseline_keys_per_second | round) keys/s",
    "share of the etcd limit: \(.etcd_limit_ratio | pct) % by requests, \(.etcd_keys_limit_ratio | pct) % by keys",
    "etcd database max: file \(.etcd_db_max_bytes | mib) MiB, in use \(.etcd_in_use_max_bytes | mib) MiB, data dir \(.etcd_dir_max_bytes | mib) MiB; NOSPACE \(.etcd_nospace)",
    "scheduler CPU \(.scheduler_cpu_cores * 100 | round / 100) cores; RSS at the end \(.scheduler_rss_bytes | mib) MiB, peak \((.scheduler_peak_rss_bytes // 0) | mib) MiB; leader ready \(.leader_ready_seconds * 10 | round / 10) s",
    (if (.leader_failover_seconds | length) > 0 then "leader failover (s): \(.leader_failover_seconds | map(. * 100 | round / 100) | join(", ")); median \(.leader_failover_seconds | sort | .[length / 2 | floor] * 100 | round / 100)" else empty end),
    (if (.leader_resign_seconds | length) > 0 then "leader resign (s): \(.leader_resign_seconds | map(. * 1000 | round / 1000) | join(", ")); median \(.leader_resign_seconds | sort | .[length / 2 | floor] * 1000 | round / 1000)" else empty end),
    (if (.worker_failover_seconds | length) > 0 then "worker failover (s): \(.worker_failover_seconds | map(. * 100 | round / 100) | join(", ")); median \(.worker_failover_seconds | sort | .[length / 2 | floor] * 100 | round / 100)" else empty end)
  ' "$1"
}

# run_test runs the e2e test of scenario $1 (with the pink binary built
# above) and prints its figures, whether it passed or not: a test that fails
# its limits still measured them.
failed=()
run_test() {
  local name=$1 test prefix out status=0
  read -r test prefix <<<"${tests[$name]}"
  out=$(cd "$OUT" && pwd)
  echo "== $name: go test ./e2e -run '^$test\$'" >&2
  go test -c -o "$out/e2e.test" ./e2e
  (cd e2e && PINK_TEST_BINARY="$out/pink" "$out/e2e.test" -test.run "^$test\$" -test.v -test.timeout 10m) \
    >"$out/$name.log" 2>&1 || status=$?
  grep -o "$prefix.*" "$out/$name.log" || true
  if [ "$status" -ne 0 ]; then
    echo "$name: $test failed (exit $status): its errors are in $out/$name.log" >&2
    failed+=("$name")
  fi
}

for name in "${names[@]}"; do
  if [ -n "${tests[$name]:-}" ]; then
    run_test "$name"
    continue
  fi
  args=${scenarios[$name]:?unknown scenario $name}
  echo "== $name: pink bench $args" >&2
  eval "\"$OUT/pink\" bench $args --mem-profile \"$OUT/$name.heap\" --json" >"$OUT/$name.json"
  summary "$OUT/$name.json"
done
echo "reports in $OUT/" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
