#!/usr/bin/env bash
# Deterministic KMS request cost: instructions per request under callgrind, audit on and off.
#
#   bench/kms/instructions.sh [--meridian build/meridian] [--requests 2000] [--warmup 300]
#                             [--connections 8] [--operations Encrypt,Decrypt,GenerateDataKey]
#                             [--modes on,off] [--keep DIR]
#
# Wall-clock throughput (bench/kms/run.sh) needs a quiet machine; instruction counts do not: they
# are the same whatever else runs. For each mode (audit on = the default fail-closed trail,
# audit off = `up --audit off`), the script creates a one-region deployment with `meridian up`
# (natively, so the scrypt unsealing and schema setup stay out of the count), stops it, then runs
# that region's `meridian server --config .../server.json` under
# `valgrind --tool=callgrind --instr-atstart=no`. bench/kms/replay.py creates a key, then per
# operation sends --warmup requests, the counters are zeroed (callgrind_control -z), --requests
# signed requests go out over --connections keep-alive connections in waves (one request per
# connection, then every response), and the counters are dumped (callgrind_control -d). Every
# thread of the server is counted: I/O threads, the audit writer, the maintenance thread.
#
# Printed per mode and operation: Ir/request (instructions), and the same server natively
# (no valgrind): context switches per request (voluntary + involuntary, all threads, from
# /proc/PID/task/*/status) — the thread hand-offs a request costs. With --keep DIR the callgrind
# files stay in DIR for `callgrind_annotate --inclusive=yes DIR/<mode>/callgrind.out.<pid>.<n>`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
meridian="$repo_root/build/meridian"
requests=2000
warmup=300
connections=8
operations="Encrypt,Decrypt,GenerateDataKey"
modes="on,off"
keep=""
python="${MERIDIAN_PYTHON:-python3}"

while (($#)); do
  case "$1" in
    --meridian) meridian="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --operations) operations="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "instructions.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in valgrind callgrind_control "$python"; do
  command -v "$tool" >/dev/null || { echo "instructions.sh: $tool not found" >&2; exit 1; }
done
"$python" -c 'import boto3' 2>/dev/null || { echo "instructions.sh: $python has no boto3" >&2; exit 1; }
[[ -x "$meridian" ]] || { echo "instructions.sh: $meridian not built" >&2; exit 1; }
meridian="$(cd "$(dirname "$meridian")" && pwd)/$(basename "$meridian")"

workdir="${keep:-$(mktemp -d /tmp/meridian-instructions.XXXXXX)}"
mkdir -p "$workdir"
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [[ -n "$keep" ]] || rm -rf "$workdir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for_port() {  # port pid log seconds
  local i
  for i in $(seq $(($4 * 10))); do
    "$python" -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "instructions.sh: server exited; log:" >&2; cat "$3" >&2; return 1; }
    sleep 0.1
  done
  echo "instructions.sh: port $1 not open after $4 s" >&2
  return 1
}
stop() {  # pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local remaining=()
  local p
  for p in "${pids[@]}"; do [[ "$p" == "$1" ]] || remaining+=("$p"); done
  pids=("${remaining[@]+"${remaining[@]}"}")
}
context_switches() {  # pid: voluntary + involuntary, summed over the process's threads
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n + 0}'
}

IFS=, read -r -a mode_list <<<"$modes"
IFS=, read -r -a operation_list <<<"$operations"
results=()

for mode in "${mode_list[@]}"; do
  dir="$workdir/$mode"
  mkdir -p "$dir"
  port="$(free_port)"
  audit_flag=()
  [[ "$mode" == "off" ]] && audit_flag=(--audit off)
  # 1. Create the deployment natively, then stop it: the region's server.json stays behind.
  "$meridian" up --data-dir "$dir/data" --port "$port" "${audit_flag[@]}" >"$dir/up.log" 2>&1 &
  pids+=($!)
  up_pid=$!
  for _ in $(seq 600); do
    grep -q '^meridian: ready' "$dir/up.log" && break
    kill -0 "$up_pid" 2>/dev/null || { echo "instructions.sh: meridian up failed:" >&2; cat "$dir/up.log" >&2; exit 1; }
    sleep 0.1
  done
  stop "$up_pid"
  cluster="$dir/data/cluster.json"
  config="$dir/data/us-east-1/server.json"
  [[ -f "$config" ]] || { echo "instructions.sh: no $config" >&2; exit 1; }
  eval "$("$python" -c 'import json,sys,shlex; a=json.load(open(sys.argv[1]))["admin"]; print("export MERIDIAN_ADMIN_ACCESS_KEY_ID=%s MERIDIAN_ADMIN_SECRET_ACCESS_KEY=%s" % (shlex.quote(a["access_key_id"]), shlex.quote(a["secret_access_key"])))' "$cluster")"
  endpoint="http://127.0.0.1:$port"
  state="$dir/state.json"

  # 2. Natively: context switches per request.
  "$meridian" server --config "$config" >"$dir/native.log" 2>&1 &
  pids+=($!)
  server_pid=$!
  wait_for_port "$port" "$server_pid" "$dir/native.log" 60
  "$python" "$repo_root/bench/kms/replay.py" setup --endpoint "$endpoint" --cluster "$cluster" --state "$state"
  declare -A switches=()
  for op in "${operation_list[@]}"; do
    "$python" "$repo_root/bench/kms/replay.py" send --endpoint "$endpoint" --cluster "$cluster" --state "$state" \
      --operation "$op" --requests "$warmup" --connections "$connections"
    before="$(context_switches "$server_pid")"
    "$python" "$repo_root/bench/kms/replay.py" send --endpoint "$endpoint" --cluster "$cluster" --state "$state" \
      --operation "$op" --requests "$requests" --connections "$connections"
    after="$(context_switches "$server_pid")"
    switches[$op]="$(awk -v a="$after" -v b="$before" -v n="$requests" 'BEGIN {printf "%.2f", (a - b) / n}')"
  done
  stop "$server_pid"

  # 3. Under callgrind: instructions per request.
  valgrind --tool=callgrind --instr-atstart=no --collect-systime=no \
    --callgrind-out-file="$dir/callgrind.out.%p" \
    "$meridian" server --config "$config" >"$dir/callgrind.log" 2>&1 &
  pids+=($!)
  server_pid=$!
  wait_for_port "$port" "$server_pid" "$dir/callgrind.log" 600
  callgrind_control -i on "$server_pid" >/dev/null 2>&1
  for op in "${operation_list[@]}"; do
    "$python" "$repo_root/bench/kms/replay.py" send --endpoint "$endpoint" --cluster "$cluster" --state "$state" \
      --operation "$op" --requests "$warmup" --connections "$connections"
    callgrind_control -z "$server_pid" >/dev/null 2>&1
    "$python" "$repo_root/bench/kms/replay.py" send --endpoint "$endpoint" --cluster "$cluster" --state "$state" \
      --operation "$op" --requests "$requests" --connections "$connections"
    callgrind_control -d "$op" "$server_pid" >/dev/null 2>&1
    # The newest dump holds the counts since the zeroing.
    dump="$(ls -t "$dir"/callgrind.out."$server_pid".* | head -1)"
    total="$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")"
    per_request="$(awk -v t="$total" -v n="$requests" 'BEGIN {printf "%.0f", t / n}')"
    results+=("$(printf '%-9s %-16s %12s Ir/request   %6s context switches/request   (%s)' \
      "audit=$mode" "$op" "$per_request" "${switches[$op]}" "$(basename "$dump")")")
    echo "${results[-1]}"
  done
  stop "$server_pid"
  unset switches
done

echo
echo "meridian: $meridian ($(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "+ working tree), $requests requests per operation after $warmup warm-up, $connections connections"
printf '%s\n' "${results[@]}"
