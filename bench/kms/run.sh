#!/usr/bin/env bash
# KMS throughput: Meridian vs moto_server vs nginx (fixed 130-byte body), in one run.
#
#   bench/kms/run.sh [--meridian build/meridian] [--duration 10s] [--moto-duration 5s]
#                    [--half-load-duration 5s]
#                    [--doc docs/benchmarks.md] [--operations Encrypt,Decrypt,GenerateDataKey]
#
# Starts nginx (config generated into a temp dir, high port, keep-alive), moto_server and
# `meridian up` on free loopback ports, runs bench/kms/kms_bench.py (wrk with SigV4-signed
# requests), writes the "KMS throughput" section of docs/benchmarks.md, and stops everything it
# started on exit, whatever happens (trap).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
meridian="$repo_root/build/meridian"
duration=10s
moto_duration=5s
half_load_duration=5s
doc="$repo_root/docs/benchmarks.md"
operations="Encrypt,Decrypt,GenerateDataKey"
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
    --duration) duration="$2"; shift 2 ;;
    --moto-duration) moto_duration="$2"; shift 2 ;;
    --half-load-duration) half_load_duration="$2"; shift 2 ;;
    --doc) doc="$2"; shift 2 ;;
    --operations) operations="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# moto_server (and boto3) come with the image's python3; its bin directory may not be on PATH.
PATH="$("$python" -c 'import os, sys; print(os.path.dirname(sys.executable))'):$PATH"
for tool in wrk nginx moto_server "$python"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x "$meridian" ]] || { echo "run.sh: $meridian not built (make build)" >&2; exit 1; }
meridian="$(cd "$(dirname "$meridian")" && pwd)/$(basename "$meridian")"

workdir="$(mktemp -d /tmp/meridian-bench-kms.XXXXXX)"
pids=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "${MERIDIAN_BENCH_KEEP:-}" ]]; then
    echo "run.sh: kept $workdir" >&2
  else
    rm -rf "$workdir"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() {  # name port pid
  local i
  for i in $(seq 300); do
    if "$python" -c "import socket,sys; socket.create_connection(('127.0.0.1',$2),0.2)" 2>/dev/null; then
      return 0
    fi
    kill -0 "$3" 2>/dev/null || { echo "run.sh: $1 exited early; log:" >&2; cat "$workdir/$1.log" >&2; return 1; }
    sleep 0.1
  done
  echo "run.sh: $1 did not open port $2" >&2
  return 1
}

# --- nginx: fixed 130-byte body, keep-alive, everything under $workdir -------------------------
nginx_port="$(free_port)"
body130="$(printf '{"status":"ok","service":"nginx-ceiling","padding":"%s"}' "$(printf 'x%.0s' $(seq 76))")"
[[ ${#body130} -eq 130 ]] || { echo "run.sh: nginx body is ${#body130} bytes, not 130" >&2; exit 1; }
mkdir -p "$workdir/nginx"
cat > "$workdir/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $workdir/nginx/nginx.pid;
error_log $workdir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $workdir/nginx/body;
  proxy_temp_path $workdir/nginx/proxy;
  fastcgi_temp_path $workdir/nginx/fastcgi;
  uwsgi_temp_path $workdir/nginx/uwsgi;
  scgi_temp_path $workdir/nginx/scgi;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_buffer_size 16k;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      default_type application/x-amz-json-1.1;
      return 200 '$body130';
    }
  }
}
EOF
nginx -e "$workdir/nginx/error.log" -p "$workdir/nginx" -c "$workdir/nginx/nginx.conf" >"$workdir/nginx.log" 2>&1 &
pids+=($!)
wait_for_port nginx "$nginx_port" "${pids[-1]}"

# --- moto_server ---------------------------------------------------------------------------------
moto_port="$(free_port)"
moto_server -H 127.0.0.1 -p "$moto_port" >"$workdir/moto.log" 2>&1 &
pids+=($!)
wait_for_port moto "$moto_port" "${pids[-1]}"

# --- meridian up ---------------------------------------------------------------------------------
meridian_port="$(free_port)"
mkdir -p "$workdir/meridian-data"
"$meridian" up --data-dir "$workdir/meridian-data" --port "$meridian_port" \
  >"$workdir/meridian.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
  grep -q '^meridian: ready' "$workdir/meridian.log" && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "run.sh: meridian exited early:" >&2; cat "$workdir/meridian.log" >&2; exit 1; }
  sleep 0.1
done
grep -q '^meridian: ready' "$workdir/meridian.log" || { echo "run.sh: meridian not ready" >&2; exit 1; }

# --- meridian up --audit off: the same server without its audit trail, for the audit's cost ------
noaudit_port="$(free_port)"
mkdir -p "$workdir/meridian-noaudit-data"
"$meridian" up --data-dir "$workdir/meridian-noaudit-data" --port "$noaudit_port" --audit off \
  >"$workdir/meridian-noaudit.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
  grep -q '^meridian: ready' "$workdir/meridian-noaudit.log" && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "run.sh: meridian (audit off) exited early:" >&2; cat "$workdir/meridian-noaudit.log" >&2; exit 1; }
  sleep 0.1
done

echo "nginx :$nginx_port  moto_server :$moto_port  meridian :$meridian_port  meridian --audit off :$noaudit_port  (work dir $workdir)"

command_line="bench/kms/run.sh"
if ((${#original_args[@]})); then
  command_line+=" $(printf '%q ' "${original_args[@]}")"
  command_line="${command_line% }"
fi

"$python" "$repo_root/bench/kms/kms_bench.py" \
  --meridian-endpoint "http://127.0.0.1:$meridian_port" \
  --meridian-cluster "$workdir/meridian-data/cluster.json" \
  --noaudit-endpoint "http://127.0.0.1:$noaudit_port" \
  --noaudit-cluster "$workdir/meridian-noaudit-data/cluster.json" \
  --moto-endpoint "http://127.0.0.1:$moto_port" \
  --nginx-endpoint "http://127.0.0.1:$nginx_port" \
  --workdir "$workdir" \
  --duration "$duration" --moto-duration "$moto_duration" \
  --half-load-duration "$half_load_duration" \
  --operations "$operations" \
  --doc "$doc" \
  --command "$command_line   # or: make bench"
