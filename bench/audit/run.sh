#!/usr/bin/env bash
# Builds and runs the audit group-commit benchmark; prints durable appends/s for 1-16 threads.
# Usage: bench/audit/run.sh [build-dir]   (AUDIT_BENCH_DIR=... to choose the disk)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$repo/build}"
cmake -S "$repo" -B "$build" -G Ninja >/dev/null
ninja -C "$build" audit_bench >/dev/null
"$build/src/audit/audit_bench" --benchmark_counters_tabular=true
