#!/usr/bin/env python3
"""KMS throughput benchmark driver (called by bench/kms/run.sh, which starts and stops servers).

For each target (Meridian, moto_server, nginx) and each operation (Encrypt, Decrypt,
GenerateDataKey) it creates a key with boto3, signs one real KMS request with botocore's SigV4
signer immediately before the run, and replays it with wrk from a Lua script (a SigV4 signature
stays valid for the 5-minute clock-skew window, longer than a run). nginx answers every request
with a fixed 130-byte body: it is the HTTP ceiling of this machine, not a KMS.

Peak: wrk -t2 -c16 --latency. Half-load p99 (Meridian): wrk2 is not available, so the driver
uses plain wrk with fewer connections (closed loop): it runs c = 1, 2, 4, 8 and reports the run
whose throughput is closest to half of the peak, with its actual rate.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
from botocore.awsrequest import AWSRequest

OPERATIONS = ("Encrypt", "Decrypt", "GenerateDataKey")
REGION = "us-east-1"
PLAINTEXT = bytes(range(64))  # 64-byte payload, the size of a typical wrapped secret
NGINX_BODY_SIZE = 130


def lua_string(value):
    return '"' + "".join(c if c.isalnum() or c in " -_./:=,;+{}[]" else "\\%03d" % ord(c)
                         for c in value) + '"'


class Target:
    def __init__(self, name, endpoint, access_key, secret_key):
        self.name = name
        self.endpoint = endpoint.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        self.key_id = None
        self.ciphertext = None

    def client(self):
        return boto3.session.Session().client(
            "kms", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=botocore.config.Config(retries={"total_max_attempts": 1}))

    def prepare(self):
        kms = self.client()
        self.key_id = kms.create_key(Description=f"bench {self.name}")["KeyMetadata"]["KeyId"]
        self.ciphertext = kms.encrypt(KeyId=self.key_id, Plaintext=PLAINTEXT)["CiphertextBlob"]

    def body(self, operation):
        if operation == "Encrypt":
            return {"KeyId": self.key_id, "Plaintext": base64.b64encode(PLAINTEXT).decode()}
        if operation == "Decrypt":
            return {"CiphertextBlob": base64.b64encode(self.ciphertext).decode()}
        if operation == "GenerateDataKey":
            return {"KeyId": self.key_id, "KeySpec": "AES_256"}
        raise ValueError(operation)

    def check(self, operation):
        """One request through boto3 so a broken target fails loudly instead of benchmarking
        error responses."""
        kms = self.client()
        if operation == "Encrypt":
            kms.encrypt(KeyId=self.key_id, Plaintext=PLAINTEXT)
        elif operation == "Decrypt":
            assert kms.decrypt(CiphertextBlob=self.ciphertext)["Plaintext"] == PLAINTEXT
        else:
            assert len(kms.generate_data_key(KeyId=self.key_id, KeySpec="AES_256")["Plaintext"]) == 32


def signed_lua(endpoint, operation, body, access_key, secret_key, path):
    """Writes a wrk script replaying one SigV4-signed KMS request (signed now)."""
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"TrentService.{operation}",
    })
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(access_key, secret_key), "kms",
                            REGION).add_auth(request)
    host = endpoint.split("://", 1)[1]
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(data.decode())}",
             f'wrk.headers["Host"] = {lua_string(host)}']
    for name, value in request.headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_duration_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output):
    result = {"rps": None, "latency_ms": {}, "non2xx": 0, "socket_errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if m:
        result["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", output)
    if m:
        result["requests"] = int(m.group(1))
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.M):
        result["latency_ms"][pct] = parse_duration_ms(value)
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if m:
        result["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        result["socket_errors"] = sum(int(x) for x in m.groups())
    return result


def run_wrk(url, script, threads, connections, duration, log):
    threads = min(threads, connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency",
           "-s", script, url]
    log.write(f"$ {shlex.join(cmd)}\n")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    log.write(proc.stdout + proc.stderr + "\n")
    log.flush()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr}")
    result = parse_wrk(proc.stdout)
    result["command"] = shlex.join(cmd)
    result["connections"] = connections
    if result["rps"] is None:
        raise RuntimeError(f"could not parse wrk output:\n{proc.stdout}")
    return result


def fmt_ms(value):
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} µs" if value < 1 else f"{value:.2f} ms"


def fmt_rps(result):
    if result is None:
        return "n/a"
    text = f"{result['rps']:,.0f}"
    if result["non2xx"] or result["socket_errors"]:
        text += f" ⚠ {result['non2xx']} non-2xx, {result['socket_errors']} socket errors"
    return text


def ratio(a, b):
    if not a or not b or not a.get("rps") or not b.get("rps"):
        return "n/a"
    r = a["rps"] / b["rps"]
    if r < 0.1:
        return f"{r:.3f}"
    return f"{r:.2f}" if r < 10 else f"{r:,.0f}×"


def machine_description():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def tool_versions():
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"
    import moto
    return {
        "wrk": first_line(["wrk", "--version"]).split(" Copyright")[0],
        "nginx": first_line(["nginx", "-v"]),
        "moto": f"moto_server {moto.__version__}",
    }


def update_doc(path, section):
    heading = "## KMS throughput"
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if not text.strip():
        text = "# Benchmarks\n\nFigures measured by the scripts in `bench/`; ratios are taken in one run.\n\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = re.compile(r"^## ", re.M).search(text, start + len(heading))
        end = nxt.start() if nxt else len(text)
        text = text[:start] + section + ("\n" + text[end:] if nxt else "")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--meridian-endpoint", required=True)
    ap.add_argument("--meridian-cluster", required=True, help="path to cluster.json")
    ap.add_argument("--noaudit-endpoint", help="a Meridian started with --audit off")
    ap.add_argument("--noaudit-cluster", help="its cluster.json")
    ap.add_argument("--moto-endpoint", required=True)
    ap.add_argument("--nginx-endpoint", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--moto-duration", default="5s")
    ap.add_argument("--half-load-duration", default="5s")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--doc", required=True, help="markdown file to update (docs/benchmarks.md)")
    ap.add_argument("--command", required=True, help="the command line to record in the doc")
    ap.add_argument("--operations", default=",".join(OPERATIONS))
    args = ap.parse_args()

    operations = [op for op in args.operations.split(",") if op]
    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    with open(args.meridian_cluster) as f:
        admin = json.load(f)["admin"]
    meridian = Target("meridian", args.meridian_endpoint, admin["access_key_id"],
                      admin["secret_access_key"])
    moto = Target("moto", args.moto_endpoint, "AKIAMOTOBENCH", "moto-bench-secret")
    noaudit = None
    if args.noaudit_endpoint:
        with open(args.noaudit_cluster) as f:
            noaudit_admin = json.load(f)["admin"]
        noaudit = Target("noaudit", args.noaudit_endpoint, noaudit_admin["access_key_id"],
                         noaudit_admin["secret_access_key"])
    for target in [t for t in (meridian, moto, noaudit) if t]:
        target.prepare()
        for op in operations:
            target.check(op)

    log_path = os.path.join(args.workdir, "wrk.log")
    results = {}
    with open(log_path, "w") as log:
        def bench(target_name, endpoint, op, body, creds, connections, duration):
            script = os.path.join(args.workdir, f"{target_name}-{op}-{connections}.lua")
            signed_lua(endpoint, op, body, creds[0], creds[1], script)  # signed just before wrk
            res = run_wrk(endpoint + "/", script, args.threads, connections, duration, log)
            print(f"  {target_name:8s} {op:16s} c={connections:<3d} {res['rps']:>12,.0f} req/s  "
                  f"p50 {fmt_ms(res['latency_ms'].get('50'))}  p99 {fmt_ms(res['latency_ms'].get('99'))}"
                  + (f"  NON-2XX {res['non2xx']}" if res["non2xx"] else ""), flush=True)
            return res

        print("nginx (fixed 130-byte body, HTTP ceiling)", flush=True)
        # Same request bytes as Meridian's Encrypt, so the ceiling is measured with equal input.
        results["nginx"] = bench("nginx", args.nginx_endpoint, "Encrypt",
                                 meridian.body("Encrypt"),
                                 (meridian.access_key, meridian.secret_key),
                                 args.connections, args.duration)
        for op in operations:
            print(f"{op}", flush=True)
            results[("meridian", op)] = bench("meridian", meridian.endpoint, op,
                                              meridian.body(op),
                                              (meridian.access_key, meridian.secret_key),
                                              args.connections, args.duration)
            if noaudit:
                results[("noaudit", op)] = bench("noaudit", noaudit.endpoint, op, noaudit.body(op),
                                                 (noaudit.access_key, noaudit.secret_key),
                                                 args.connections, args.duration)
            results[("moto", op)] = bench("moto", moto.endpoint, op, moto.body(op),
                                          (moto.access_key, moto.secret_key),
                                          args.connections, args.moto_duration)
            peak = results[("meridian", op)]["rps"]
            sweep = []
            for c in (1, 2, 4, 8):
                sweep.append(bench("meridian", meridian.endpoint, op, meridian.body(op),
                                   (meridian.access_key, meridian.secret_key), c,
                                   args.half_load_duration))
                if sweep[-1]["rps"] >= 0.75 * peak:
                    break
            results[("half", op)] = min(sweep, key=lambda r: abs(r["rps"] - peak / 2))

    nginx = results["nginx"]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = tool_versions()
    rows = []
    for op in operations:
        m, mo, half = results[("meridian", op)], results[("moto", op)], results[("half", op)]
        rows.append(
            f"| {op} | {fmt_rps(m)} | {fmt_rps(nginx)} | {fmt_rps(mo)} | {ratio(m, nginx)} | "
            f"{ratio(m, mo)} | {fmt_ms(m['latency_ms'].get('50'))} / "
            f"{fmt_ms(m['latency_ms'].get('99'))} | {fmt_ms(mo['latency_ms'].get('99'))} | "
            f"{fmt_ms(half['latency_ms'].get('99'))} at {half['rps']:,.0f} req/s "
            f"({half['rps'] / m['rps'] * 100:.0f}% of peak, c={half['connections']}) |")
    audit_rows = []
    if noaudit:
        for op in operations:
            on, off = results[("meridian", op)], results[("noaudit", op)]
            audit_rows.append(f"| {op} | {fmt_rps(on)} | {fmt_rps(off)} | {ratio(on, off)} | "
                              f"{fmt_ms(on['latency_ms'].get('99'))} / {fmt_ms(off['latency_ms'].get('99'))} |")
    audit_table = [
        "",
        "Auditing on (the default: every request recorded in the hash-chained trail before its "
        "response is released, group-committed) against `meridian up --audit off`, same run "
        "(target: on within 10% of off):",
        "",
        "| Operation | audit on req/s | audit off req/s | on / off | p99 on / off |",
        "|---|---:|---:|---:|---:|",
        *audit_rows,
    ] if audit_rows else []
    section = "\n".join([
        "## KMS throughput",
        "",
        f"Measured {now} on {machine_description()}; Meridian, moto_server and nginx were "
        "started by the same run and measured one after another on loopback (HTTP/1.1 "
        f"keep-alive, no TLS), with wrk on the same two cores. Load average (1/5/15 min) "
        f"before the run: {load_before}; other work on the machine lowers every figure.",
        "",
        "```sh",
        args.command,
        "```",
        "",
        f"Each request is a real SigV4-signed KMS request (botocore's signer, signed just before "
        f"its wrk run and replayed within the 5-minute skew window; {len(PLAINTEXT)}-byte "
        f"plaintext for Encrypt, AES_256 for GenerateDataKey). nginx returns a fixed "
        f"{NGINX_BODY_SIZE}-byte body to the same request: the machine's HTTP ceiling. Peak: "
        f"`wrk -t{args.threads} -c{args.connections} -d{args.duration} --latency` "
        f"(moto: -d{args.moto_duration}). Half load: wrk2 is not available, so plain wrk with "
        "fewer connections (closed loop, c = 1, 2, 4, 8) and the run whose throughput is "
        "closest to half of the peak is reported with its actual rate; closed-loop latency "
        "under-reports queueing compared to an open-loop (constant-rate) generator.",
        "",
        "| Operation | Meridian req/s | nginx req/s | moto req/s | Meridian / nginx | "
        "Meridian / moto | Meridian p50 / p99 at peak | moto p99 | Meridian p99 at ~half peak |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"Targets (BRIEF.md): Meridian / nginx ≥ 0.40, Meridian / moto ≥ 100×, p99 < 2 ms at "
        f"half of peak. Tools: {versions['wrk']}, {versions['nginx']}, {versions['moto']}.",
        *audit_table,
        "",
    ])
    update_doc(args.doc, section)
    print()
    print(section)
    print(f"wrk output: {log_path}; updated {args.doc}")
    bad = [k for k, v in results.items() if v["non2xx"] or v["socket_errors"]]
    if bad:
        print(f"WARNING: non-2xx responses or socket errors in {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
