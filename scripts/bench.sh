#!/usr/bin/env bash
# Runs the benchmark scenarios of docs/benchmarks.md and writes one JSON
# report per scenario to $OUT (default ./bench-results). Takes about 30
# minutes; run it on an otherwise idle machine.
#   scripts/bench.sh            # every scenario
#   scripts/bench.sh minute-10k # only the named ones
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench-results}
mkdir -p "$OUT"
go build -o "$OUT/pink" ./cmd/pink

declare -A scenarios=(
  [second-1k]="--jobs 1000 --warmup 5s --duration 30s --runs 3"
  [second-2k]="--jobs 2000 --warmup 5s --duration 30s --runs 3"
  [second-3k]="--jobs 3000 --warmup 5s --duration 30s --runs 3"
  [minute-10k]="--jobs 10000 --schedule '0 * * * * *' --warmup 5s --duration 61s --runs 3"
  [registered-100k]="--jobs 10 --idle-jobs 100000 --no-job-label --warmup 2s --duration 5s --runs 3"
  [registered-100k-job-label]="--jobs 10 --idle-jobs 100000 --warmup 2s --duration 5s --runs 3"
  [leader-kill]="--jobs 100 --schedulers 3 --kill-leader-every 15s --duration 60s"
  [leader-stop]="--jobs 100 --schedulers 3 --stop-leader-every 10s --duration 60s"
  [worker-kill]="--jobs 200 --workers 3 --run-time 500ms --kill-worker-every 10s --duration 60s"
)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(second-1k second-2k second-3k minute-10k registered-100k registered-100k-job-label leader-kill leader-stop worker-kill)
fi
for name in "${names[@]}"; do
  args=${scenarios[$name]:?unknown scenario $name}
  echo "== $name: pink bench $args" >&2
  eval "\"$OUT/pink\" bench $args --json" >"$OUT/$name.json"
done
echo "reports in $OUT/" >&2
