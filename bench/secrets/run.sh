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

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
meridian="$repo_root/build/meridian"
puts=200
duration=10s
moto_duration=5s
doc="$repo_root/docs/benchmarks.md"
python=""
for candidate in "${MERIDIAN_PYTHON:-}" python3 "$HOME/.pyenv/shims/python3"; do
  if [[ -n "$candidate" ]] && "$candidate" -c 'import boto3, moto' >/dev/null 2>&1; then
    python="$candidate"; break
  fi
done
[[ -n "$python" ]] || { echo "run.sh: no python3 with boto3 and moto (see scripts/install-deps.sh)" >&2; exit 1; }
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

PATH="$("$python" -c 'import os, sys; print(os.path.dirname(sys.executable))'):$PATH"
for tool in wrk moto_server "$python"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x "$meridian" ]] || { echo "run.sh: $meridian not built (make build)" >&2; exit 1; }
meridian="$(cd "$(dirname "$meridian")" && pwd)/$(basename "$meridian")"

workdir="$(mktemp -d /tmp/meridian-bench-secrets.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "${MERIDIAN_BENCH_KEEP:-}" ]]; then echo "run.sh: kept $workdir" >&2; else rm -rf "$workdir"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

moto_port="$(free_port)"
moto_server -H 127.0.0.1 -p "$moto_port" >"$workdir/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  "$python" -c "import socket; socket.create_connection(('127.0.0.1',$moto_port),0.2)" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "run.sh: moto exited early:" >&2; cat "$workdir/moto.log" >&2; exit 1; }
  sleep 0.1
done

meridian_port="$(free_port)"
mkdir -p "$workdir/meridian-data"
"$meridian" up --data-dir "$workdir/meridian-data" --port "$meridian_port" --regions us-east-1,us-west-2 \
  >"$workdir/meridian.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
  grep -q '^meridian: ready' "$workdir/meridian.log" && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "run.sh: meridian exited early:" >&2; cat "$workdir/meridian.log" >&2; exit 1; }
  sleep 0.1
done
grep -q '^meridian: ready' "$workdir/meridian.log" || { echo "run.sh: meridian not ready" >&2; exit 1; }

command_line="bench/secrets/run.sh"
if ((${#original_args[@]})); then
  command_line+=" $(printf '%q ' "${original_args[@]}")"
  command_line="${command_line% }"
fi
"$python" "$repo_root/bench/secrets/secrets_bench.py" \
  --meridian-cluster "$workdir/meridian-data/cluster.json" \
  --moto-endpoint "http://127.0.0.1:$moto_port" \
  --workdir "$workdir" --puts "$puts" --duration "$duration" --moto-duration "$moto_duration" \
  --doc "$doc" --command "$command_line"
