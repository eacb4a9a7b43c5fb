#!/usr/bin/env bash
# SDK benchmark, all measured in one run on this machine:
#   - Meridian SDK (bench/sdk/sdk_bench.cpp): bulk encrypt/decrypt MB/s, suites 0x0478 and 0x0578,
#     4 KiB frames, 64 MiB; 1 KiB messages/s
#   - openssl speed -evp aes-256-gcm at 4096 and 16384 bytes (one core; the AES-GCM ceiling)
#   - the JavaScript SDK (@aws-crypto/client-node, bench/sdk/js_bench.mjs) on the same cases
# Prints a markdown table with ratios and writes it to docs/benchmarks-sdk.md.
#
# Usage: bench/sdk/run.sh [build-dir]   (default: build-bench; configured Release if missing)
# Env: SIZE_MIB (64), FRAME (4096), SECONDS (2), OUT (docs/benchmarks-sdk.md)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-bench}"
SIZE_MIB="${SIZE_MIB:-64}"
FRAME="${FRAME:-4096}"
SECONDS_PER_CASE="${SECONDS:-2}"
OUT="${OUT:-$ROOT/docs/benchmarks-sdk.md}"
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS" "$(dirname "$OUT")"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$BUILD" sdk_bench >/dev/null
BENCH="$(find "$BUILD" -name sdk_bench -type f -perm -u+x | head -1)"

echo "== Meridian SDK ($BENCH)" >&2
"$BENCH" --size-mib "$SIZE_MIB" --frame "$FRAME" --seconds "$SECONDS_PER_CASE" | tee "$RESULTS/sdk_meridian.jsonl" >&2

echo "== openssl speed -evp aes-256-gcm" >&2
: > "$RESULTS/sdk_openssl.txt"
for bytes in 4096 16384; do
  openssl speed -evp aes-256-gcm -bytes "$bytes" -seconds 3 2>/dev/null | tail -1 | sed "s/^/$bytes /" | tee -a "$RESULTS/sdk_openssl.txt" >&2
done

JS_STATUS="ok"
if [ -d "$ROOT/node_modules/@aws-crypto/client-node" ] && command -v node >/dev/null; then
  echo "== JavaScript SDK" >&2
  node "$ROOT/bench/sdk/js_bench.mjs" --size-mib "$SIZE_MIB" --frame "$FRAME" --seconds "$SECONDS_PER_CASE" \
    | tee "$RESULTS/sdk_js.jsonl" >&2
else
  JS_STATUS="skipped (run npm ci)"
  : > "$RESULTS/sdk_js.jsonl"
fi

python3 - "$RESULTS" "$OUT" "$SIZE_MIB" "$FRAME" "$JS_STATUS" "$LOAD_BEFORE" <<'PY'
import json, sys, datetime, platform, os, subprocess
results, out, size_mib, frame, js_status, load_before = sys.argv[1:7]
def load(name):
    rows = {}
    for line in open(os.path.join(results, name)):
        line = line.strip()
        if line:
            r = json.loads(line)
            rows[(r["case"], r["suite"])] = r
    return rows
m, js = load("sdk_meridian.jsonl"), load("sdk_js.jsonl")
ossl = {}
for line in open(os.path.join(results, "sdk_openssl.txt")):
    parts = line.split()
    # "<bytes> AES-256-GCM <k-bytes-per-s>"
    ossl[int(parts[0])] = float(parts[-1].rstrip("k")) * 1000 / 1e6  # MB/s
# aws-encryption-sdk-c anchors measured on this machine class (docs: ../shared/BRIEF.md).
c_sdk = {("bulk_encrypt", "0478"): 2250, ("bulk_decrypt", "0478"): 2110,
         ("bulk_encrypt", "0578"): 593, ("bulk_decrypt", "0578"): 586, ("small_encrypt", "0478"): 53000}
targets = {("bulk_encrypt", "0478"): 1.3, ("bulk_decrypt", "0478"): 1.3,
           ("bulk_encrypt", "0578"): 1.2, ("bulk_decrypt", "0578"): 1.2}
def fmt(v, unit):
    return "—" if v is None else (f"{v:,.0f} {unit}")
lines = []
cpu = ""
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    pass
lines.append("# SDK benchmarks")
lines.append("")
lines.append(f"Measured {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC by `bench/sdk/run.sh` on {os.cpu_count()} cores ({cpu}), "
             f"{size_mib} MiB inputs, {frame}-byte frames, raw AES-256 keyring, all in one run. "
             f"JavaScript SDK: {js_status}. aws-encryption-sdk-c figures are the anchors BRIEF.md gives for this machine class "
             "(not re-measured here). "
             f"Load average before the run: {load_before}; after: {open('/proc/loadavg').read().split()[0]} "
             "(figures above ~1.0 mean other processes shared the 2 cores and the numbers understate Meridian).")
lines.append("")
lines.append("| case | suite | Meridian (wall) | Meridian (per CPU-s) | JS SDK (wall) | JS SDK (per CPU-s) | Meridian / JS (per CPU-s) | aws-c (anchor) | Meridian / aws-c (wall) | Meridian / aws-c (per CPU-s) | target |")
lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for case, unit, key in [("bulk_encrypt", "MB/s", "mb_per_s"), ("bulk_decrypt", "MB/s", "mb_per_s"),
                        ("small_encrypt", "msg/s", "msgs_per_s"), ("small_decrypt", "msg/s", "msgs_per_s")]:
    cpu_key = key.replace("_per_s", "_per_cpu_s")
    for suite in ("0478", "0578"):
        mv = m.get((case, suite), {}).get(key)
        mc = m.get((case, suite), {}).get(cpu_key)
        jv = js.get((case, suite), {}).get(key)
        jc = js.get((case, suite), {}).get(cpu_key)
        cv = c_sdk.get((case, suite))
        t = targets.get((case, suite))
        target = f"≥ {t}x aws-c" if t else ("≥ 100,000 msg/s per core" if case.startswith("small") and suite == "0478" else "")
        r_js = f"{mc / jc:.1f}x" if mc and jc else "—"
        r_c = f"{mv / cv:.2f}x" if mv and cv else "—"
        r_cc = f"{mc / cv:.2f}x" if mc and cv else "—"
        lines.append(f"| {case.replace('_', ' ')} | 0x{suite} | {fmt(mv, unit)} | {fmt(mc, unit)} | {fmt(jv, unit)} | {fmt(jc, unit)} | {r_js} | {fmt(cv, unit)} | {r_c} | {r_cc} | {target} |")
lines.append("")
lines.append("| AES-256-GCM ceiling (`openssl speed -evp aes-256-gcm`, one core, CPU time) | MB/s | Meridian bulk 0x0478 encrypt (per CPU-s) / ceiling |")
lines.append("|---|---:|---:|")
for b in sorted(ossl):
    mv = m.get(("bulk_encrypt", "0478"), {}).get("mb_per_cpu_s")
    lines.append(f"| {b}-byte blocks | {ossl[b]:,.0f} | {mv / ossl[b]:.2f} |" if mv else f"| {b}-byte blocks | {ossl[b]:,.0f} | — |")
lines.append("")
lines.append("Per CPU-second = work divided by the CPU time the benchmark process used (all threads): the "
             "per-core figure, robust to other load on the machine. For 0x0578 the wall figure is the one that shows "
             "the two-core overlap (hashing on one core, AES-GCM on the other); its per-CPU-second figure counts both "
             "cores' time.")
lines.append("")
lines.append("Notes: Meridian reuses one keyed EVP_CIPHER_CTX per message and changes only the IV per frame; "
             "algorithms are fetched once per process. For 0x0578 the SHA-384 hash of the message for the ECDSA "
             "signature runs on a second thread, overlapping AES-GCM. 1 KiB messages include data-key generation, "
             "raw AES key wrapping, HKDF and (0x0578) an ECDSA P-384 key pair and signature per message. "
             "Output buffers are reused between messages (`EncryptInto` / `DecryptInto`).")
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
PY
