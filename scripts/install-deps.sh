#!/usr/bin/env bash
# Installs everything Meridian needs to build, test and benchmark on a Debian 12 machine.
# Idempotent: a machine that already has every package skips apt-get entirely, and npm ci
# runs only when node_modules is missing or older than package-lock.json.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Every Debian package the project uses, in one place. Components that need another package add
# it here (and say so in their report).
DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libssl-dev libsqlite3-dev sqlite3
  libboost-dev rapidjson-dev libcli11-dev libspdlog-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libpq-dev postgresql  # storage: PostgreSQL backend; its tests start throwaway clusters
  wrk nginx-light jq
  libfaketime  # tests/e2e/test_time_travel.py: deletion and rotation when due
  gnuplot-nox  # `meridian dr-drill --plot`: the failover timeline as a PNG
  clang libclang-rt-14-dev  # libFuzzer targets (fuzz/, MERIDIAN_FUZZ=ON)
  nodejs
  python3
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

missing_packages() {
  local pkg status
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "installed" ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

install_debian_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "all ${#DEBIAN_PACKAGES[@]} Debian packages present"
    return
  fi
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nginx-light's postinst may start the system nginx on port 80; the project never uses it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    "${sudo[@]}" systemctl stop nginx || true
  fi
}

# The end-to-end tests and the benchmark drive Meridian with the real AWS clients, which come with
# the machine image's python3 (PyPI is not reachable, so they cannot be pip-installed here).
check_python_clients() {
  local python="" candidate
  for candidate in "${MERIDIAN_PYTHON:-}" python3 "$HOME/.pyenv/shims/python3"; do
    [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import boto3, botocore, moto' >/dev/null 2>&1; then
      python="$candidate"
      break
    fi
  done
  if [[ -z "$python" ]]; then
    log "ERROR: no python3 with boto3, botocore and moto found (tried \$MERIDIAN_PYTHON, python3"
    log "       on PATH, ~/.pyenv/shims/python3). They ship with the machine image's python3;"
    log "       PyPI is not reachable here, so they cannot be pip-installed."
    exit 1
  fi
  # The clients' entry points live next to that interpreter (the tests look there too).
  local bindir tool
  bindir="$("$python" -c 'import os, sys; print(os.path.dirname(sys.executable))')"
  for tool in aws moto_server; do
    if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x "$bindir/$tool" ]]; then
      log "ERROR: '$tool' not found on PATH or in $bindir; it ships with the image's python3."
      exit 1
    fi
  done
  log "AWS clients: $("$python" -c 'import boto3, moto; print("boto3", boto3.__version__, "moto", moto.__version__)') ($python)"
}

install_npm_packages() {
  cd "$repo_root"
  if [[ ! -f package.json || ! -f package-lock.json ]]; then
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    # The image's nodejs bundles npm; Debian's own nodejs needs the separate package.
    DEBIAN_PACKAGES=(npm)
    install_debian_packages
  fi
  if [[ -d node_modules && -f node_modules/.package-lock.json \
        && ! package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "node_modules up to date"
    return
  fi
  log "running npm ci"
  npm ci --no-audit --no-fund --loglevel=error
}

install_debian_packages
check_python_clients
install_npm_packages
log "done"
