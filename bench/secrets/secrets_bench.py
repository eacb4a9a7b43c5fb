#!/usr/bin/env python3
"""Secrets Manager benchmark driver (called by bench/secrets/run.sh, which starts and stops servers).

1. Replication lag: a secret in us-east-1 replicated to us-west-2 (`meridian up --regions
   us-east-1,us-west-2`, peer link over mutual TLS). N times: PutSecretValue on the primary, then
   GetSecretValue in the replica in a tight loop until it returns the new value. The lag is
   measured from the start of the PutSecretValue call (and, separately, from its response).
2. GetSecretValue throughput: one SigV4-signed request replayed by wrk (-t2 -c16) against the
   primary region's endpoint and against moto_server, in the same run.

The wrk helpers (parsing, formatting, machine description) are bench/kms/kms_bench.py's.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
from botocore.awsrequest import AWSRequest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kms"))
from kms_bench import fmt_ms, fmt_rps, lua_string, machine_description, ratio, run_wrk, tool_versions  # noqa: E402

PRIMARY, REPLICA = "us-east-1", "us-west-2"
HEADING = "## Secrets Manager: GetSecretValue throughput and replication lag"


def client(endpoint, region, access_key, secret_key):
    return boto3.session.Session().client(
        "secretsmanager", endpoint_url=endpoint, region_name=region,
        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        config=botocore.config.Config(retries={"total_max_attempts": 1}))


def signed_lua(endpoint, region, body, access_key, secret_key, path):
    """Writes a wrk script replaying one SigV4-signed GetSecretValue request (signed now)."""
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.GetSecretValue",
    })
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(access_key, secret_key), "secretsmanager",
                            region).add_auth(request)
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(data.decode())}",
             f'wrk.headers["Host"] = {lua_string(endpoint.split("://", 1)[1])}']
    for name, value in request.headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def percentile(values, pct):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


PUTS_PER_SECRET = 90  # a secret keeps every version younger than 24 h, at most 100


def create_replicated(primary, name):
    primary.create_secret(Name=name, SecretString="v0", AddReplicaRegions=[{"Region": REPLICA}])
    deadline = time.monotonic() + 60
    while True:
        status = primary.describe_secret(SecretId=name)["ReplicationStatus"][0]["Status"]
        if status == "InSync":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"replica not InSync after 60 s: {status}")
        time.sleep(0.05)


def measure_lag(primary, replica, puts):
    from_start, from_ack, put_latency, polls = [], [], [], 0
    for i in range(1, puts + 1):
        if (i - 1) % PUTS_PER_SECRET == 0:
            name = f"bench/replication-lag-{(i - 1) // PUTS_PER_SECRET}"
            create_replicated(primary, name)
        value = f"value-{i}-{time.time_ns()}"
        t0 = time.perf_counter()
        primary.put_secret_value(SecretId=name, SecretString=value)
        t1 = time.perf_counter()
        while True:
            polls += 1
            if replica.get_secret_value(SecretId=name)["SecretString"] == value:
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError(f"put {i} not visible in {REPLICA} after 30 s")
        t2 = time.perf_counter()
        from_start.append((t2 - t0) * 1000)
        from_ack.append((t2 - t1) * 1000)
        put_latency.append((t1 - t0) * 1000)
    return {"puts": puts, "polls": polls,
            "lag_ms": {p: percentile(from_start, p) for p in (50, 99)} | {"max": max(from_start),
                                                                         "mean": statistics.mean(from_start)},
            "after_ack_ms": {p: percentile(from_ack, p) for p in (50, 99)},
            "put_ms": {p: percentile(put_latency, p) for p in (50, 99)}}


def update_doc(path, section):
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    start = text.find(HEADING)
    if start == -1:
        other = text.find("## Other benchmarks")  # keep the pointers section last
        text = text.rstrip("\n") + "\n\n" + section if other == -1 else text[:other] + section + "\n" + text[other:]
    else:
        nxt = re.compile(r"^## ", re.M).search(text, start + len(HEADING))
        end = nxt.start() if nxt else len(text)
        text = text[:start] + section + ("\n" + text[end:] if nxt else "")
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--meridian-cluster", required=True, help="cluster.json of the two-region `meridian up`")
    ap.add_argument("--moto-endpoint", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--puts", type=int, default=200)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--moto-duration", default="5s")
    ap.add_argument("--doc", required=True)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()

    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    with open(args.meridian_cluster) as f:
        cluster = json.load(f)
    ak, sk = cluster["admin"]["access_key_id"], cluster["admin"]["secret_access_key"]
    endpoints = {r: cluster["regions"][r]["endpoint"].rstrip("/") for r in (PRIMARY, REPLICA)}
    primary = client(endpoints[PRIMARY], PRIMARY, ak, sk)
    replica = client(endpoints[REPLICA], REPLICA, ak, sk)

    lag = measure_lag(primary, replica, args.puts)
    print(f"replication lag over {lag['puts']} puts: p50 {lag['lag_ms'][50]:.2f} ms, "
          f"p99 {lag['lag_ms'][99]:.2f} ms, max {lag['lag_ms']['max']:.2f} ms")

    # GetSecretValue throughput, Meridian (primary region endpoint) and moto_server.
    secret_value = "x" * 64
    primary.create_secret(Name="bench/get", SecretString=secret_value)
    moto = client(args.moto_endpoint, PRIMARY, "AKIAMOTOBENCH", "moto-bench-secret")
    moto.create_secret(Name="bench/get", SecretString=secret_value)
    assert moto.get_secret_value(SecretId="bench/get")["SecretString"] == secret_value
    results = {}
    with open(os.path.join(args.workdir, "wrk.log"), "w") as log:
        for name, endpoint, creds, duration in (("meridian", endpoints[PRIMARY], (ak, sk), args.duration),
                                                ("moto", args.moto_endpoint.rstrip("/"),
                                                 ("AKIAMOTOBENCH", "moto-bench-secret"), args.moto_duration)):
            script = os.path.join(args.workdir, f"{name}.lua")
            signed_lua(endpoint, PRIMARY, {"SecretId": "bench/get"}, creds[0], creds[1], script)
            results[name] = run_wrk(endpoint + "/", script, 2, 16, duration, log)
            print(f"GetSecretValue {name}: {fmt_rps(results[name])} req/s")
    with open("/proc/loadavg") as f:
        load_after = " ".join(f.read().split()[:3])

    versions = tool_versions()
    m, o = results["meridian"], results["moto"]
    section = f"""{HEADING}

Measured {datetime.date.today().isoformat()} on {machine_description()}; load average before /
after: {load_before} / {load_after}. Command: `{args.command}`.

Replication lag: `meridian up --regions {PRIMARY},{REPLICA}` (one process per region, peer link
over mutual TLS, loopback). {lag['puts']} × PutSecretValue on {PRIMARY}, each followed by
GetSecretValue in {REPLICA} in a tight loop until the new value is returned ({lag['polls']} reads
in all). The value is opened from {PRIMARY}'s store at send time, sealed under {REPLICA}'s
aws/secretsmanager key on arrival. Target: p99 under 250 ms.

| lag measured from | p50 | p99 | max |
|---|---:|---:|---:|
| the start of PutSecretValue | {lag['lag_ms'][50]:.2f} ms | {lag['lag_ms'][99]:.2f} ms | {lag['lag_ms']['max']:.2f} ms |
| its response | {lag['after_ack_ms'][50]:.2f} ms | {lag['after_ack_ms'][99]:.2f} ms | |
| (PutSecretValue latency itself) | {lag['put_ms'][50]:.2f} ms | {lag['put_ms'][99]:.2f} ms | |

GetSecretValue throughput (64-byte SecretString, SigV4 verified, audit on, wrk -t2 -c16 on the
same 2 cores; {versions['wrk']}, {versions['moto']}):

| Target | req/s | p50 | p99 | vs moto |
|---|---:|---:|---:|---:|
| Meridian ({PRIMARY} endpoint) | {fmt_rps(m)} | {fmt_ms(m['latency_ms'].get('50'))} | {fmt_ms(m['latency_ms'].get('99'))} | {ratio(m, o)} |
| moto_server | {fmt_rps(o)} | {fmt_ms(o['latency_ms'].get('50'))} | {fmt_ms(o['latency_ms'].get('99'))} | 1 |

The HTTP ceiling of the machine (nginx, fixed body) is in the KMS section above.
"""
    update_doc(args.doc, section)


if __name__ == "__main__":
    main()
