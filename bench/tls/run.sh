#!/usr/bin/env bash
# HTTPS throughput: Meridian's listener (a trivial handler) next to nginx, both TLS 1.3 only,
# keep-alive, the same 130-byte body and the same certificate, measured with wrk in one run.
#
#   bench/tls/run.sh [build-dir] [--duration 10s] [--connections 16] [--wrk-threads 2]
#
# nginx gets a config in a temp dir on a free high port; everything started here is stopped on
# exit (trap). Prints one line per server: requests/s and latency.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
repo_root="$bench_repo_root"
build="$repo_root/build"
duration=10s
connections=16
wrk_threads=2
if (($#)) && [[ "$1" != --* ]]; then build="$1"; shift; fi
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --wrk-threads) wrk_threads="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bench_require_tools wrk nginx openssl
cmake -S "$repo_root" -B "$build" -G Ninja >/dev/null
ninja -C "$build" https_bench_server >/dev/null

bench_make_workdir tls
workdir="$bench_workdir"

wait_for_tls() {  # port
  for _ in $(seq 100); do
    if openssl s_client -connect "127.0.0.1:$1" -tls1_3 </dev/null >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: nothing serves TLS 1.3 on port $1" >&2
  return 1
}

check_tls12_refused() {  # name port
  if openssl s_client -connect "127.0.0.1:$2" -tls1_2 </dev/null >/dev/null 2>&1; then
    echo "run.sh: $1 accepted a TLS 1.2 handshake" >&2
    exit 1
  fi
}

run_wrk() {  # name port
  local out rps latency
  out="$(wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency "https://127.0.0.1:$2/")"
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  latency="$(awk '/^ *Latency / {print $2; exit}' <<<"$out")"
  p99="$(awk '/^ *99% / {print $2; exit}' <<<"$out")"
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "$out" >&2; fi
  printf '%-28s %12s req/s   latency avg %s  p99 %s\n' "$1" "$rps" "$latency" "$p99"
}

# Meridian: the listener with a trivial handler (sync and async forms), TLS 1.3 only.
meridian_port="$(free_port)"
bench_spawn "$workdir/meridian.out" "$build/src/server/https_bench_server" --pki-dir "$workdir/pki" --port "$meridian_port"
wait_for_tls "$meridian_port"
read -r _ _ _ cert _ key <"$workdir/meridian.out"

# nginx: same certificate, TLS 1.3 only, keep-alive, fixed 130-byte body.
nginx_port="$(free_port)"
mkdir -p "$workdir/nginx"
body="$(printf 'x%.0s' $(seq 129))"
cat >"$workdir/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $workdir/nginx/nginx.pid;
error_log $workdir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $workdir/nginx/body;
  proxy_temp_path $workdir/nginx/proxy;
  fastcgi_temp_path $workdir/nginx/fastcgi;
  uwsgi_temp_path $workdir/nginx/uwsgi;
  scgi_temp_path $workdir/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.3;
    location / { default_type text/plain; return 200 "$body\n"; }
  }
}
CONF
bench_spawn "$workdir/nginx.log" nginx -c "$workdir/nginx/nginx.conf" -e "$workdir/nginx/error.log"
wait_for_tls "$nginx_port"

check_tls12_refused meridian "$meridian_port"
check_tls12_refused nginx "$nginx_port"

echo "wrk -t$wrk_threads -c$connections -d$duration, keep-alive, TLS 1.3, 130-byte body, $(nproc) cores"
run_wrk "nginx (TLS 1.3)" "$nginx_port"
run_wrk "meridian listener (TLS 1.3)" "$meridian_port"

# The same listener with the asynchronous handler form.
kill -TERM "${bench_pids[0]}"; wait "${bench_pids[0]}" 2>/dev/null || true
async_port="$(free_port)"
bench_spawn "$workdir/async.out" "$build/src/server/https_bench_server" --pki-dir "$workdir/pki" --port "$async_port" --async
wait_for_tls "$async_port"
run_wrk "meridian async (TLS 1.3)" "$async_port"
