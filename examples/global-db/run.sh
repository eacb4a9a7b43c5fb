#!/usr/bin/env bash
# The global-database example in one command (see README.md):
#
#   examples/global-db/run.sh [--records N] [--report FILE] [--keep] [--no-js] [--fail-region-a] [--no-fsync]
#
# Starts `meridian up --regions us-east-1,eu-west-1` in a scratch directory, then global-db-app,
# which starts a PostgreSQL primary (us-east-1) and a streaming standby (eu-west-1), stores the
# database password in Secrets Manager replicated to eu-west-1, writes client-side-encrypted
# customer records in us-east-1 and reads them back from the standby in eu-west-1 under the three
# key strategies, then runs the JavaScript reader (js_reader.mjs) on the standby's rows.
# --fail-region-a then kills us-east-1 for real (its Meridian region process, SIGKILL; its
# PostgreSQL, immediate stop), promotes the standby, reads and writes in eu-west-1 again, then
# restarts us-east-1's Meridian alone and re-encrypts strategy 3's records for eu-west-1.
# --no-fsync makes both clusters throwaway (no fsync; tests).
#
# Environment: MERIDIAN_BIN (default build/meridian), GLOBAL_DB_APP (default
# build/examples/global-db/global-db-app), REGION_A / REGION_B, NODE (default node).
# Exit status: the app's (0: every strategy behaved as designed). --keep leaves the scratch
# directory (Meridian's data, both PostgreSQL clusters, the logs) for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MERIDIAN=${MERIDIAN_BIN:-$ROOT/build/meridian}
APP=${GLOBAL_DB_APP:-$ROOT/build/examples/global-db/global-db-app}
REGION_A=${REGION_A:-us-east-1}
REGION_B=${REGION_B:-eu-west-1}
NODE=${NODE:-node}
RECORDS=20
REPORT=""
KEEP=0
JS=1
FAIL_A=0
NO_FSYNC=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) RECORDS=$2; shift 2 ;;
    --report) REPORT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-js) JS=0; shift ;;
    --fail-region-a) FAIL_A=1; shift ;;
    --no-fsync) NO_FSYNC=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for bin in "$MERIDIAN" "$APP"; do
  [[ -x $bin ]] || { echo "run.sh: $bin is not built (cmake --build build --target meridian global-db-app)" >&2; exit 2; }
done

# The scratch directory is traversable (not readable) by others: PostgreSQL runs as the postgres
# user when we are root, and its clusters live inside. Meridian's own files in it are 0600/0700.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/meridian-global-db-XXXXXX")
chmod 711 "$SCRATCH"
MERIDIAN_PID=""
cleanup() {
  if [[ -n $MERIDIAN_PID ]] && kill -0 "$MERIDIAN_PID" 2>/dev/null; then
    kill -TERM "$MERIDIAN_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$MERIDIAN_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ $KEEP == 1 ]]; then echo "run.sh: kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT

# Two regions: `meridian up --port P` listens on P (edge) and P+1, P+2 (regions).
PORT=$(python3 -c '
import random, socket
for _ in range(200):
    base = random.randrange(20000, 31990)
    try:
        socks = []
        for p in range(base, base + 8):
            s = socket.socket(); socks.append(s); s.bind(("127.0.0.1", p))
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
')
"$MERIDIAN" up --data-dir "$SCRATCH/meridian" --regions "$REGION_A,$REGION_B" --port "$PORT" \
  >"$SCRATCH/meridian.log" 2>&1 &
MERIDIAN_PID=$!
for _ in $(seq 1 600); do
  grep -q "meridian: ready" "$SCRATCH/meridian.log" 2>/dev/null && break
  kill -0 "$MERIDIAN_PID" 2>/dev/null || { cat "$SCRATCH/meridian.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "meridian: ready" "$SCRATCH/meridian.log" || { echo "run.sh: meridian up not ready" >&2; exit 1; }

# Endpoints and the bootstrap administrator's credentials, from cluster.json (0600). The
# credentials go to the app through the environment, as AWS SDKs take them.
eval "$(python3 - "$SCRATCH/meridian/cluster.json" "$REGION_A" "$REGION_B" <<'PY'
import json, shlex, sys
c = json.load(open(sys.argv[1]))
print("ENDPOINT_A=" + shlex.quote(c["regions"][sys.argv[2]]["endpoint"]))
print("ENDPOINT_B=" + shlex.quote(c["regions"][sys.argv[3]]["endpoint"]))
print("export AWS_ACCESS_KEY_ID=" + shlex.quote(c["admin"]["access_key_id"]))
print("export AWS_SECRET_ACCESS_KEY=" + shlex.quote(c["admin"]["secret_access_key"]))
PY
)"
export AWS_REGION=$REGION_B
echo "run.sh: meridian up: $REGION_A $ENDPOINT_A, $REGION_B $ENDPOINT_B (data in $SCRATCH)"

ARGS=(--work-dir "$SCRATCH" --region-a "$REGION_A" --endpoint-a "$ENDPOINT_A" --region-b "$REGION_B"
      --endpoint-b "$ENDPOINT_B" --records "$RECORDS")
[[ -n $REPORT ]] && ARGS+=(--report "$REPORT")
[[ $NO_FSYNC == 1 ]] && ARGS+=(--no-fsync)
[[ $JS == 1 ]] && ARGS+=(--js-reader "$ROOT/examples/global-db/js_reader.mjs" --node "$NODE")
if [[ $FAIL_A == 1 ]]; then
  # Region A's `meridian server --config <data>/<region A>/server.json`, a child of `meridian up`.
  PID_A=""
  for child in $(pgrep -P "$MERIDIAN_PID"); do
    if tr '\0' ' ' <"/proc/$child/cmdline" 2>/dev/null | grep -q -- "--config $SCRATCH/meridian/$REGION_A/server.json"; then
      PID_A=$child
    fi
  done
  [[ -n $PID_A ]] || { echo "run.sh: cannot find region $REGION_A's process" >&2; exit 1; }
  ARGS+=(--region-a-pid "$PID_A" --meridian-bin "$MERIDIAN" --region-a-config "$SCRATCH/meridian/$REGION_A/server.json")
fi
set +e
"$APP" "${ARGS[@]}"
STATUS=$?
set -e
exit $STATUS
