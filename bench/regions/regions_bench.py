#!/usr/bin/env python3
"""Multi-Region key replication benchmark (run by bench/regions/run.sh).

Starts `meridian up --regions us-east-1,us-west-2,eu-west-1` (peer links over mutual TLS on
loopback) and measures, with boto3 against each region's own endpoint:
  - ReplicateKey lag: from ReplicateKey returning in the primary until the replica's DescribeKey
    answers (and is Enabled) in us-west-2;
  - rotation lag: from RotateKeyOnDemand returning in the primary until the replica's
    ListKeyRotations shows the new rotation;
  - Decrypt throughput with wrk (one SigV4-signed request replayed) at the primary and at the
    replica, in the same run: a replica decrypts locally and must keep up with the primary.
Polling is a tight loop of DescribeKey / ListKeyRotations calls, so a lag figure includes up to
one poll round trip (~1 ms on loopback).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
PRIMARY, REPLICA = "us-east-1", "us-west-2"


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def start_deployment(meridian, workdir):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = open(os.path.join(workdir, "up.log"), "w")
    proc = subprocess.Popen([meridian, "up", "--data-dir", os.path.join(workdir, "data"), "--regions",
                             ",".join(REGIONS), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(os.path.join(workdir, "up.log")) as f:
            if "meridian: ready" in f.read():
                return proc
        if proc.poll() is not None:
            raise RuntimeError("meridian up exited early; see " + log.name)
        time.sleep(0.1)
    raise RuntimeError("meridian up did not become ready")


def clients(workdir):
    with open(os.path.join(workdir, "data", "cluster.json")) as f:
        cluster = json.load(f)
    cfg = botocore.config.Config(retries={"total_max_attempts": 1})
    out = {}
    for region in REGIONS:
        out[region] = boto3.session.Session().client(
            "kms", region_name=region, endpoint_url=cluster["regions"][region]["endpoint"],
            aws_access_key_id=cluster["admin"]["access_key_id"],
            aws_secret_access_key=cluster["admin"]["secret_access_key"], config=cfg)
    return cluster, out


def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
    raise RuntimeError("replication did not arrive within %.0f s" % timeout)


def replicate_key_lag(kms, samples):
    lags = []
    for _ in range(samples):
        key_id = kms[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        kms[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion=REPLICA)
        t0 = time.monotonic()

        def arrived():
            try:
                return kms[REPLICA].describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
            except kms[REPLICA].exceptions.NotFoundException:
                return False
        lags.append((wait_until(arrived) - t0) * 1000.0)
    return lags


def rotation_lag(kms, samples):
    """AWS allows 25 on-demand rotations per key: a fresh replicated key every 20 samples."""
    lags = []
    for i in range(samples):
        if i % 20 == 0:
            key_id = kms[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
            kms[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion=REPLICA)
            wait_until(lambda: _exists(kms[REPLICA], key_id))
        kms[PRIMARY].rotate_key_on_demand(KeyId=key_id)
        t0 = time.monotonic()
        want = i % 20 + 1
        lags.append((wait_until(lambda: len(kms[REPLICA].list_key_rotations(KeyId=key_id, Limit=1000)["Rotations"])
                                >= want) - t0) * 1000.0)
    return lags


def _exists(client, key_id):
    try:
        return client.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    except client.exceptions.NotFoundException:
        return False


def decrypt_throughput(repo, cluster, kms, duration, workdir):
    sys.path.insert(0, os.path.join(repo, "bench", "kms"))
    import kms_bench  # wrk helpers: signed request replay and output parsing
    key_id = kms[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion=REPLICA)
    wait_until(lambda: _exists(kms[REPLICA], key_id))
    blob = kms[PRIMARY].encrypt(KeyId=key_id, Plaintext=bytes(range(64)))["CiphertextBlob"]
    assert kms[REPLICA].decrypt(CiphertextBlob=blob)["Plaintext"] == bytes(range(64))
    body = {"CiphertextBlob": base64.b64encode(blob).decode()}
    results = {}
    log = open(os.path.join(workdir, "wrk.log"), "w")
    for region in (PRIMARY, REPLICA):
        endpoint = cluster["regions"][region]["endpoint"]
        script = os.path.join(workdir, f"decrypt-{region}.lua")
        kms_bench.REGION = region  # the signing region of the replayed request
        kms_bench.signed_lua(endpoint, "Decrypt", body, cluster["admin"]["access_key_id"],
                             cluster["admin"]["secret_access_key"], script)
        results[region] = kms_bench.run_wrk(endpoint + "/", script, 2, 16, duration, log)
    return results, kms_bench


def update_doc(path, section, heading):
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        import re
        nxt = re.compile(r"^## ", re.M).search(text, start + len(heading))
        text = text[:start] + section + ("\n" + text[nxt.start():] if nxt else "")
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--command", default="bench/regions/run.sh")
    ap.add_argument("--meridian", default=None)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--duration", default="5s")
    ap.add_argument("--doc", default=None)
    args = ap.parse_args()
    meridian = os.path.abspath(args.meridian or os.path.join(args.repo, "build", "meridian"))
    doc = args.doc or os.path.join(args.repo, "docs", "benchmarks.md")
    workdir = tempfile.mkdtemp(prefix="meridian-bench-regions.")
    proc = start_deployment(meridian, workdir)
    try:
        cluster, kms = clients(workdir)
        rk = replicate_key_lag(kms, args.samples)
        rot = rotation_lag(kms, args.samples)
        thr, kms_bench = decrypt_throughput(args.repo, cluster, kms, args.duration, workdir)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    load = os.getloadavg()
    rows = [
        ("ReplicateKey → replica Enabled in us-west-2", rk),
        ("RotateKeyOnDemand → rotation listed in us-west-2", rot),
    ]
    lines = ["## Multi-Region key replication", "",
             f"Command: `{args.command}` — 3-region `meridian up` (peer links over mutual TLS on loopback), "
             f"{args.samples} samples each, {os.cpu_count()} cores, load average "
             f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the end of the run.", "",
             "| replication | p50 | p99 | max | target (BRIEF: p99 < 250 ms) |", "|---|---|---|---|---|"]
    for name, lags in rows:
        p99 = percentile(lags, 99)
        lines.append(f"| {name} | {percentile(lags, 50):.1f} ms | {p99:.1f} ms | {max(lags):.1f} ms | "
                     f"{'met' if p99 < 250 else 'NOT met'} |")
    lines += ["", "| Decrypt (wrk -t2 -c16, one signed request replayed) | req/s | p99 |", "|---|---|---|"]
    for region in (PRIMARY, REPLICA):
        r = thr[region]
        label = "primary " + region if region == PRIMARY else "replica " + region
        lines.append(f"| {label} | {kms_bench.fmt_rps(r)} | {kms_bench.fmt_ms(r['latency_ms'].get('99'))} |")
    lines.append(f"\nReplica / primary Decrypt throughput: {kms_bench.ratio(thr[REPLICA], thr[PRIMARY])}.\n")
    section = "\n".join(lines) + "\n"
    print(section)
    update_doc(doc, section, "## Multi-Region key replication")


if __name__ == "__main__":
    main()
