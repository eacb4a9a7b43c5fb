#!/usr/bin/env bash
# Policy evaluation throughput: decisions per second for a 10-statement KMS key policy with
# conditions (brief target: >= 1,000,000 decisions/s per core).
#
#   bench/policy/run.sh [--build-dir build] [--min-time 2]
#
# Builds the policy_bench target (Google Benchmark; libbenchmark-dev) in the build directory,
# runs it on one thread and prints decisions/s per benchmark. Rates are per CPU-second of the
# benchmark thread (Google Benchmark's items_per_second), i.e. per core, so they stay meaningful
# when other processes share the machine; wall-clock rates are printed alongside.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="$repo_root/build"
min_time=2

while (($#)); do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in cmake ninja python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$repo_root" -B "$build_dir" -G Ninja >/dev/null
fi
ninja -C "$build_dir" policy_bench >/dev/null
bench="$build_dir/src/iam/policy/policy_bench"
[[ -x "$bench" ]] || { echo "run.sh: $bench was not built (is libbenchmark-dev installed?)" >&2; exit 1; }

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$bench" --benchmark_min_time="$min_time" --benchmark_format=json >"$out"

python3 - "$out" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
print("Policy evaluation, 10-statement key policy with conditions (one thread)")
print(f"{'benchmark':36} {'decisions/s per core':>22} {'wall-clock decisions/s':>24} {'ns/decision (CPU)':>18}")
for b in data["benchmarks"]:
    cpu_ns = b["cpu_time"]  # time_unit is ns
    real_ns = b["real_time"]
    print(f"{b['name']:36} {b['items_per_second']:>22,.0f} {1e9 / real_ns:>24,.0f} {cpu_ns:>18.0f}")
main = next(b for b in data["benchmarks"] if b["name"] == "BM_KeyPolicyDecisionWithContext")
rate = main["items_per_second"]
print(f"decisions/s (context build + evaluation, per core): {rate:,.0f} — target 1,000,000: "
      f"{'met' if rate >= 1_000_000 else 'NOT met'}")
PY
