#!/usr/bin/env bash
# Secrets Manager: replication lag (two region processes) and GetSecretValue throughput vs
# moto_server, in one run.
#
#   bench/secrets/run.sh [--meridian build/meridian] [--puts 200] [--duration 10s]
#                        [--moto-duration 5s] [--doc docs/benchmarks.md]
#
# Starts moto_server and `meridian up --regions us-east-1,us-west-2` on free loopback ports,
# runs bench/secrets/secrets_bench.py, writes its section of docs/benchmarks.md, and stops
# everything it started on exit, whatever happens (trap).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
repo_root="$bench_repo_root"
meridian="$repo_root/build/meridian"
puts=200
duration=10s
moto_duration=5s
doc="$repo_root/docs/benchmarks.md"
original_args=("$@")

while (($#)); do
  case "$1" in
    --meridian) meridian="$2"; shift 2 ;;
    --puts) puts="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --moto-duration) moto_duration="$2"; shift 2 ;;
    --doc) doc="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

bench_find_python boto3 moto
bench_require_tools wrk moto_server
bench_require_meridian "$meridian"
bench_make_workdir secrets
workdir="$bench_workdir"

moto_port="$(free_port)"
bench_spawn "$workdir/moto.log" moto_server -H 127.0.0.1 -p "$moto_port"
wait_for_port moto "$moto_port" "${bench_pids[-1]}" "$workdir/moto.log"

meridian_port="$(free_port_block 8)"
bench_start_meridian meridian "$meridian_port" --regions us-east-1,us-west-2

command_line="$(bench_command_line bench/secrets/run.sh "${original_args[@]}")"
"$python" "$repo_root/bench/secrets/secrets_bench.py" \
  --meridian-cluster "$workdir/meridian-data/cluster.json" \
  --moto-endpoint "http://127.0.0.1:$moto_port" \
  --workdir "$workdir" --puts "$puts" --duration "$duration" --moto-duration "$moto_duration" \
  --doc "$doc" --command "$command_line"
