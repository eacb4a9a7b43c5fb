#!/usr/bin/env bash
# Multi-Region key replication: lag of ReplicateKey and of a key rotation (p50/p99), and Decrypt
# throughput at a replica next to the primary's, in one run of a 3-region `meridian up`.
#
#   bench/regions/run.sh [--meridian build/meridian] [--samples 40] [--duration 5s]
#                        [--doc docs/benchmarks.md]
#
# The anchor for the replica's Decrypt throughput is the primary's, measured in the same run
# (issue 4: "must equal the primary's"); the lag figures are compared with the BRIEF's
# replication target (p99 under 250 ms). Everything started is stopped on exit.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python=""
for candidate in "${MERIDIAN_PYTHON:-}" python3 "$HOME/.pyenv/shims/python3"; do
  if [[ -n "$candidate" ]] && "$candidate" -c 'import boto3' >/dev/null 2>&1; then
    python="$candidate"; break
  fi
done
[[ -n "$python" ]] || { echo "run.sh: no python3 with boto3 (see scripts/install-deps.sh)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "run.sh: wrk not found (run scripts/install-deps.sh)" >&2; exit 1; }
exec "$python" "$repo_root/bench/regions/regions_bench.py" --repo "$repo_root" --command "bench/regions/run.sh $*" "$@"
