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
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_find_python boto3
bench_require_tools wrk
exec "$python" "$bench_repo_root/bench/regions/regions_bench.py" --repo "$bench_repo_root" --command "bench/regions/run.sh $*" "$@"
