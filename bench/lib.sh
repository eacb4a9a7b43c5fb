# Shared plumbing for the bench/*/run.sh scripts: sourced, never run.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# Invariants: every process a script starts with bench_spawn is in `bench_pids` and is stopped on
# exit (TERM, then KILL after 5 s), whatever ends the script; `bench_workdir` is removed on exit
# unless MERIDIAN_BENCH_KEEP is set.

bench_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_pids=()
bench_workdir=""

# bench_find_python MODULE...: sets `python` to the first python3 that imports every MODULE
# (MERIDIAN_PYTHON first, then python3 on PATH, then pyenv's) and puts its bin directory on PATH
# (moto_server lives there).
bench_find_python() {
  local imports candidate
  imports="$(printf 'import %s; ' "$@")"
  python=""
  for candidate in "${MERIDIAN_PYTHON:-}" python3 "$HOME/.pyenv/shims/python3"; do
    if [[ -n "$candidate" ]] && "$candidate" -c "$imports" >/dev/null 2>&1; then
      python="$candidate"; break
    fi
  done
  [[ -n "$python" ]] || { echo "run.sh: no python3 with $* (see scripts/install-deps.sh)" >&2; exit 1; }
  PATH="$("$python" -c 'import os, sys; print(os.path.dirname(sys.executable))'):$PATH"
}

# bench_require_tools TOOL...: exits with a hint when one is missing.
bench_require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
  done
}

# bench_require_meridian PATH: exits unless PATH is a built binary; sets `meridian` to its absolute path.
bench_require_meridian() {
  [[ -x "$1" ]] || { echo "run.sh: $1 not built (make build)" >&2; exit 1; }
  meridian="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

bench_cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$bench_workdir" ]]; then
    if [[ -n "${MERIDIAN_BENCH_KEEP:-}" ]]; then echo "run.sh: kept $bench_workdir" >&2; else rm -rf "$bench_workdir"; fi
  fi
  exit "$status"
}

# bench_make_workdir NAME: a fresh /tmp/meridian-bench-NAME.XXXXXX in `bench_workdir`, and the
# exit trap that stops everything started and removes it.
bench_make_workdir() {
  bench_workdir="$(mktemp -d "/tmp/meridian-bench-$1.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_spawn LOG COMMAND...: runs COMMAND in the background, output to LOG, and tracks its pid
# (the last one is "${bench_pids[-1]}").
bench_spawn() {
  local log="$1"; shift
  "$@" >"$log" 2>&1 &
  bench_pids+=($!)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# free_port_block N: the first of N consecutive free loopback ports, below the kernel's ephemeral
# range (32768+), so that an outgoing connection cannot take one between this check and the bind.
# `meridian up --port P` listens on P (edge), P+1.. (regions) and the ports after them (peer links).
free_port_block() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 32000 - n)
    sockets = []
    try:
        for port in range(base, base + n):
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", port))
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in sockets:
            s.close()
sys.exit("free_port_block: no block of %d free ports" % n)
PY
}

# wait_for_port NAME PORT PID LOG: until PORT accepts connections; fails if PID exits first.
wait_for_port() {
  for _ in $(seq 300); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1',$2),0.2)" 2>/dev/null; then
      return 0
    fi
    kill -0 "$3" 2>/dev/null || { echo "run.sh: $1 exited early; log:" >&2; cat "$4" >&2; return 1; }
    sleep 0.1
  done
  echo "run.sh: $1 did not open port $2" >&2
  return 1
}

# bench_start_meridian NAME PORT [ARGS...]: `meridian up --data-dir $bench_workdir/NAME-data
# --port PORT ARGS` in the background, waiting for its "meridian: ready" line. Take PORT from
# free_port_block (up uses the ports after PORT too).
bench_start_meridian() {
  local name="$1" port="$2"; shift 2
  local log="$bench_workdir/$name.log"
  mkdir -p "$bench_workdir/$name-data"
  bench_spawn "$log" "$meridian" up --data-dir "$bench_workdir/$name-data" --port "$port" "$@"
  for _ in $(seq 600); do
    grep -q '^meridian: ready' "$log" && return 0
    kill -0 "${bench_pids[-1]}" 2>/dev/null || { echo "run.sh: $name exited early:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "run.sh: $name not ready" >&2
  exit 1
}

# bench_command_line SCRIPT ARGS...: the command as a reader would retype it (for the docs).
bench_command_line() {
  local line="$1"; shift
  if (($#)); then
    line+=" $(printf '%q ' "$@")"
    line="${line% }"
  fi
  printf '%s' "$line"
}
