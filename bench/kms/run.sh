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

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
repo_root="$bench_repo_root"
meridian="$repo_root/build/meridian"
duration=10s
moto_duration=5s
half_load_duration=5s
doc="$repo_root/docs/benchmarks.md"
operations="Encrypt,Decrypt,GenerateDataKey"
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

bench_find_python boto3 moto
bench_require_tools wrk nginx moto_server
bench_require_meridian "$meridian"
bench_make_workdir kms
workdir="$bench_workdir"

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
bench_spawn "$workdir/nginx.log" nginx -e "$workdir/nginx/error.log" -p "$workdir/nginx" -c "$workdir/nginx/nginx.conf"
wait_for_port nginx "$nginx_port" "${bench_pids[-1]}" "$workdir/nginx.log"

# --- moto_server ---------------------------------------------------------------------------------
moto_port="$(free_port)"
bench_spawn "$workdir/moto.log" moto_server -H 127.0.0.1 -p "$moto_port"
wait_for_port moto "$moto_port" "${bench_pids[-1]}" "$workdir/moto.log"

# --- meridian up ---------------------------------------------------------------------------------
meridian_port="$(free_port_block 8)"
bench_start_meridian meridian "$meridian_port"

# --- meridian up --audit off: the same server without its audit trail, for the audit's cost ------
noaudit_port="$(free_port_block 8)"
bench_start_meridian meridian-noaudit "$noaudit_port" --audit off

echo "nginx :$nginx_port  moto_server :$moto_port  meridian :$meridian_port  meridian --audit off :$noaudit_port  (work dir $workdir)"

command_line="$(bench_command_line bench/kms/run.sh "${original_args[@]}")"

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
