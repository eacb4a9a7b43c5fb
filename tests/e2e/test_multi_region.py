"""Multi-region deployments: `meridian up --regions us-east-1,us-west-2,eu-west-1` as real
processes (one per region, peer links over mutual TLS, an edge endpoint routing by the signed
region), driven with boto3, openssl s_client and python's ssl module.

Covers multi-Region key (MRK) lifecycle, shared vs. independent properties, decrypting while the
producing region is SIGKILLed, catch-up of a rotation made while a replica region was down,
UpdatePrimaryRegion, per-region keys that never leave their region (bytes on disk), peer-listener
transport security, and the edge endpoint's answer for a region that is not running.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import time
import unittest
import uuid

import botocore.exceptions

from meridian_harness import MeridianProcess, RegionServerProcess, send_raw

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
PRIMARY = "us-east-1"
REPLICATION_TIMEOUT_S = 30.0
REPLICATION_PATH = "/_meridian/replication/v1"


class Deployment:
    """A three-region `meridian up` with one boto3 client per region's direct endpoint and per
    region through the edge endpoint."""

    def __init__(self):
        self.up = MeridianProcess(regions=REGIONS)
        try:
            self.up.start()
        except Exception:
            self.up.cleanup()
            raise
        self.account_id = self.up.account_id()
        self.direct = {r: self.up.client(region=r, endpoint_url=self.up.region_endpoint(r))
                       for r in REGIONS}
        self.edge = {r: self.up.client(region=r) for r in REGIONS}

    def arn(self, region, key_id):
        return f"arn:aws:kms:{region}:{self.account_id}:key/{key_id}"

    def peer_port(self, region):
        with open(os.path.join(self.up.data_dir, region, "server.json")) as f:
            return json.load(f)["peer_listener"]["port"]

    def tls_files(self, region):
        tls_dir = os.path.join(self.up.data_dir, region, "tls")
        return (os.path.join(tls_dir, f"{region}-cert.pem"),
                os.path.join(tls_dir, f"{region}-key.pem"))

    @property
    def ca_file(self):
        return os.path.join(self.up.data_dir, "ca", "ca-cert.pem")

    def kill_region(self, region):
        """SIGKILLs one region's process (a child of `up`) and waits until its ports are closed."""
        pids = self.up.region_pids()
        if region not in pids:
            raise AssertionError(f"no `meridian server` child for {region}: {pids}")
        os.kill(pids[region], signal.SIGKILL)
        port = int(self.up.region_endpoint(region).rsplit(":", 1)[1])
        deadline = time.monotonic() + 15
        for p in (port, self.peer_port(region)):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
                except OSError:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{region} port {p} still open after SIGKILL")
                time.sleep(0.05)

    def stop(self):
        try:
            return self.up.stop()
        finally:
            self.up.cleanup()


def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


def eventually(fn, timeout=REPLICATION_TIMEOUT_S, interval=0.2):
    """Calls fn until it returns without raising an AssertionError or a ClientError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (AssertionError, botocore.exceptions.ClientError):
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


class MultiRegionTestBase(unittest.TestCase):
    maxDiff = None

    def assertAwsError(self, code, fn, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            fn(*args, **kwargs)
        got = error_code(ctx.exception)
        self.assertEqual(got, code, f"expected {code}, got {got}: "
                         f"{ctx.exception.response.get('Error', {}).get('Message')!r}")
        return ctx.exception

    def create_replicated_mrk(self, d, replicas=("us-west-2", "eu-west-1"), **kwargs):
        """CreateKey MultiRegion=True in us-east-1 and ReplicateKey to `replicas`; waits until
        every replica is Enabled. Returns the key id."""
        md = d.direct[PRIMARY].create_key(MultiRegion=True, **kwargs)["KeyMetadata"]
        key_id = md["KeyId"]
        for region in replicas:
            d.direct[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion=region)
        for region in replicas:
            self.wait_key_state(d, region, key_id, "Enabled")
        return key_id

    def wait_key_state(self, d, region, key_id, state):
        def check():
            md = d.direct[region].describe_key(KeyId=key_id)["KeyMetadata"]
            self.assertEqual(md["KeyState"], state, f"{region}: {md}")
            return md
        return eventually(check)


class MultiRegionKeysTest(MultiRegionTestBase):
    """One deployment shared by the tests that leave every region running."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Deployment()

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        super().tearDownClass()
        if code != 0:
            raise AssertionError(f"meridian up exited with {code} on SIGTERM")

    # ---- 1. MRK lifecycle -------------------------------------------------------------------

    def test_mrk_lifecycle_across_three_regions(self):
        d = self.d
        kms = d.direct
        md = kms[PRIMARY].create_key(MultiRegion=True, Description="primary description",
                                     Tags=[{"TagKey": "site", "TagValue": "virginia"}])["KeyMetadata"]
        key_id = md["KeyId"]
        self.assertRegex(key_id, r"^mrk-[0-9a-f]{32}$")
        self.assertEqual(md["Arn"], d.arn(PRIMARY, key_id))
        self.assertTrue(md["MultiRegion"])
        self.assertEqual(md["MultiRegionConfiguration"], {
            "MultiRegionKeyType": "PRIMARY",
            "PrimaryKey": {"Arn": d.arn(PRIMARY, key_id), "Region": PRIMARY},
            "ReplicaKeys": [],
        })

        # ReplicateKey: the answer shows the replica as Creating, in its own region.
        for region in ("us-west-2", "eu-west-1"):
            out = kms[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion=region,
                                             Description=f"replica in {region}")
            rmd = out["ReplicaKeyMetadata"]
            self.assertEqual(rmd["KeyId"], key_id)
            self.assertEqual(rmd["Arn"], d.arn(region, key_id))
            self.assertEqual(rmd["KeyState"], "Creating", rmd)
            self.assertEqual(rmd["MultiRegionConfiguration"]["MultiRegionKeyType"], "REPLICA")
            self.assertEqual(rmd["MultiRegionConfiguration"]["PrimaryKey"],
                             {"Arn": d.arn(PRIMARY, key_id), "Region": PRIMARY})
            self.assertIn("ReplicaPolicy", out)

        for region in ("us-west-2", "eu-west-1"):
            self.wait_key_state(d, region, key_id, "Enabled")

        expected_replicas = sorted([{"Arn": d.arn(r, key_id), "Region": r}
                                    for r in ("us-west-2", "eu-west-1")],
                                   key=lambda r: r["Region"])

        def full_view(region):
            rmd = kms[region].describe_key(KeyId=key_id)["KeyMetadata"]
            self.assertEqual(rmd["KeyId"], key_id)
            self.assertEqual(rmd["Arn"], d.arn(region, key_id))
            self.assertEqual(rmd["AWSAccountId"], d.account_id)
            self.assertTrue(rmd["MultiRegion"])
            mrc = rmd["MultiRegionConfiguration"]
            self.assertEqual(mrc["MultiRegionKeyType"],
                             "PRIMARY" if region == PRIMARY else "REPLICA", f"{region}: {mrc}")
            self.assertEqual(mrc["PrimaryKey"], {"Arn": d.arn(PRIMARY, key_id), "Region": PRIMARY})
            self.assertEqual(sorted(mrc["ReplicaKeys"], key=lambda r: r["Region"]),
                             expected_replicas, f"replica list seen in {region}")
            # Shared properties are the primary's.
            for field in ("KeySpec", "KeyUsage", "Origin", "EncryptionAlgorithms"):
                self.assertEqual(rmd[field], md[field], f"{field} in {region}")
            return rmd

        for region in REGIONS:
            eventually(lambda: full_view(region))

        # The edge endpoint routes by the signed region to the same keys.
        for region in REGIONS:
            self.assertEqual(d.edge[region].describe_key(KeyId=key_id)["KeyMetadata"]["Arn"],
                             d.arn(region, key_id))

        # The key material is shared: ciphertext from any region decrypts in every other one.
        for src in REGIONS:
            blob = kms[src].encrypt(KeyId=key_id, Plaintext=f"from {src}".encode(),
                                    EncryptionContext={"src": src})["CiphertextBlob"]
            for dst in REGIONS:
                out = kms[dst].decrypt(CiphertextBlob=blob, EncryptionContext={"src": src})
                self.assertEqual(out["Plaintext"], f"from {src}".encode(), f"{src} -> {dst}")
                self.assertEqual(out["KeyId"], d.arn(dst, key_id), f"{src} -> {dst}")

        # Independent properties: description, tags, enabled/disabled stay per region.
        self.assertEqual(kms[PRIMARY].describe_key(KeyId=key_id)["KeyMetadata"]["Description"],
                         "primary description")
        for region in ("us-west-2", "eu-west-1"):
            self.assertEqual(kms[region].describe_key(KeyId=key_id)["KeyMetadata"]["Description"],
                             f"replica in {region}")
        kms["us-west-2"].update_key_description(KeyId=key_id, Description="edited in oregon")
        kms["eu-west-1"].tag_resource(KeyId=key_id, Tags=[{"TagKey": "site", "TagValue": "dublin"}])
        kms["eu-west-1"].disable_key(KeyId=key_id)
        kms[PRIMARY].tag_resource(KeyId=key_id, Tags=[{"TagKey": "only", "TagValue": "primary"}])
        time.sleep(2)  # give a (wrong) propagation of these changes time to happen
        descriptions = {r: kms[r].describe_key(KeyId=key_id)["KeyMetadata"]["Description"]
                        for r in REGIONS}
        self.assertEqual(descriptions, {"us-east-1": "primary description",
                                        "us-west-2": "edited in oregon",
                                        "eu-west-1": "replica in eu-west-1"})
        tags = {r: sorted((t["TagKey"], t["TagValue"])
                          for t in kms[r].list_resource_tags(KeyId=key_id)["Tags"])
                for r in REGIONS}
        self.assertEqual(tags, {"us-east-1": [("only", "primary"), ("site", "virginia")],
                                "us-west-2": [],
                                "eu-west-1": [("site", "dublin")]})
        states = {r: kms[r].describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] for r in REGIONS}
        self.assertEqual(states, {"us-east-1": "Enabled", "us-west-2": "Enabled",
                                  "eu-west-1": "Disabled"})
        self.assertAwsError("DisabledException", kms["eu-west-1"].encrypt, KeyId=key_id,
                            Plaintext=b"x")
        kms["us-west-2"].encrypt(KeyId=key_id, Plaintext=b"still enabled here")
        kms["eu-west-1"].enable_key(KeyId=key_id)
        kms["eu-west-1"].encrypt(KeyId=key_id, Plaintext=b"enabled again")

        # ReplicateKey errors.
        plain = kms[PRIMARY].create_key()["KeyMetadata"]["KeyId"]
        self.assertAwsError("UnsupportedOperationException", kms[PRIMARY].replicate_key,
                            KeyId=plain, ReplicaRegion="us-west-2")
        self.assertAwsError("AlreadyExistsException", kms[PRIMARY].replicate_key,
                            KeyId=key_id, ReplicaRegion="us-west-2")
        self.assertAwsError("UnsupportedOperationException", kms["us-west-2"].replicate_key,
                            KeyId=key_id, ReplicaRegion="eu-west-1")  # only from the primary
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            kms[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion="ap-south-1")
        err = ctx.exception.response["Error"]
        self.assertIn(err["Code"], ("ValidationException", "UnsupportedOperationException",
                                    "InvalidArnException", "NotFoundException"), err)
        self.assertIn("ap-south-1", err.get("Message", ""), err)
        # Still exactly two replicas after the refused calls.
        eventually(lambda: full_view(PRIMARY))

    # ---- 4. UpdatePrimaryRegion ------------------------------------------------------------

    def test_update_primary_region_moves_rotation(self):
        d = self.d
        kms = d.direct
        key_id = self.create_replicated_mrk(d)
        before = kms[PRIMARY].encrypt(KeyId=key_id, Plaintext=b"before the move")["CiphertextBlob"]
        kms[PRIMARY].update_primary_region(KeyId=key_id, PrimaryRegion="us-west-2")

        def moved(region):
            md = kms[region].describe_key(KeyId=key_id)["KeyMetadata"]
            self.assertEqual(md["KeyState"], "Enabled", f"{region}: {md}")
            mrc = md["MultiRegionConfiguration"]
            self.assertEqual(mrc["MultiRegionKeyType"],
                             "PRIMARY" if region == "us-west-2" else "REPLICA", f"{region}: {mrc}")
            self.assertEqual(mrc["PrimaryKey"],
                             {"Arn": d.arn("us-west-2", key_id), "Region": "us-west-2"},
                             f"{region}: {mrc}")
            self.assertEqual(sorted(r["Region"] for r in mrc["ReplicaKeys"]),
                             ["eu-west-1", "us-east-1"], f"{region}: {mrc}")

        for region in REGIONS:
            eventually(lambda: moved(region))

        self.assertAwsError("UnsupportedOperationException", kms[PRIMARY].rotate_key_on_demand,
                            KeyId=key_id)
        kms["us-west-2"].rotate_key_on_demand(KeyId=key_id)

        def rotated(region):
            rotations = kms[region].list_key_rotations(KeyId=key_id)["Rotations"]
            self.assertEqual([r["RotationType"] for r in rotations], ["ON_DEMAND"],
                             f"{region}: {rotations}")

        for region in REGIONS:
            eventually(lambda: rotated(region))
        after = kms["us-west-2"].encrypt(KeyId=key_id, Plaintext=b"after the move")["CiphertextBlob"]
        for region in REGIONS:
            self.assertEqual(kms[region].decrypt(CiphertextBlob=before)["Plaintext"],
                             b"before the move", region)
            self.assertEqual(kms[region].decrypt(CiphertextBlob=after)["Plaintext"],
                             b"after the move", region)

    # ---- 5. Per-region keys stay in their region ---------------------------------------------

    def test_per_region_key_never_leaves_its_region(self):
        d = self.d
        kms = d.direct
        key_id = kms[PRIMARY].create_key(Description="stays home")["KeyMetadata"]["KeyId"]
        self.assertNotRegex(key_id, r"^mrk-")
        blob = kms[PRIMARY].encrypt(KeyId=key_id, Plaintext=b"regional secret")["CiphertextBlob"]
        kms[PRIMARY].enable_key_rotation(KeyId=key_id)
        kms[PRIMARY].rotate_key_on_demand(KeyId=key_id)

        # Anything us-east-1 queued for its peers before this point is delivered before a later
        # ReplicateKey (in-order links): once that replica exists everywhere, the files are final.
        self.create_replicated_mrk(d)

        # The wrapped key material of the regional key, as us-east-1 stores it.
        db = os.path.join(d.up.data_dir, PRIMARY, "meridian.db")
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            wrapped = [bytes(v) for k, v in conn.execute(
                "SELECT k, v FROM kms_key_material") if key_id in str(k)]
        finally:
            conn.close()
        self.assertTrue(wrapped, "no kms_key_material row for the key in us-east-1")

        needles = {"key id (text)": key_id.encode(),
                   "key id (binary)": uuid.UUID(key_id).bytes}
        for i, w in enumerate(wrapped):
            self.assertGreaterEqual(len(w), 32)
            needles[f"wrapped material #{i} (first 32 bytes)"] = w[:32]
            needles[f"wrapped material #{i} (last 32 bytes)"] = w[-32:]
        # Searching the whole blob of the primary proves the needles are findable.
        primary_hits = self.scan(os.path.join(d.up.data_dir, PRIMARY), {"id": key_id.encode()})
        self.assertTrue(primary_hits, "the key id is not even in us-east-1's files")
        for region in ("us-west-2", "eu-west-1"):
            hits = self.scan(os.path.join(d.up.data_dir, region), needles)
            self.assertEqual(hits, [], f"us-east-1's regional key found in {region}'s files")

        # Only now (the audit trail records request parameters): NotFound, no decrypt elsewhere.
        for region in ("us-west-2", "eu-west-1"):
            self.assertAwsError("NotFoundException", kms[region].describe_key, KeyId=key_id)
            self.assertAwsError("NotFoundException", kms[region].describe_key,
                                KeyId=d.arn(region, key_id))
            self.assertAwsError("NotFoundException", kms[region].encrypt, KeyId=key_id,
                                Plaintext=b"x")
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                kms[region].decrypt(CiphertextBlob=blob)
            self.assertIn(error_code(ctx.exception),
                          ("NotFoundException", "InvalidCiphertextException"), region)
        self.assertEqual(kms[PRIMARY].decrypt(CiphertextBlob=blob)["Plaintext"], b"regional secret")

    @staticmethod
    def scan(directory, needles):
        hits = []
        for root, _, files in os.walk(directory):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                for what, needle in needles.items():
                    if needle in data:
                        hits.append((what, path))
        return hits

    # ---- 6. Peer listener transport security ------------------------------------------------

    def openssl_connect(self, port, *args):
        cert, key = self.d.tls_files("eu-west-1")
        return subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", self.d.ca_file,
             "-cert", cert, "-key", key, *args],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=20)

    def test_peer_listener_refuses_tls12(self):
        port = self.d.peer_port(PRIMARY)
        ok = self.openssl_connect(port, "-tls1_3")
        ok_out = ok.stdout.decode("utf-8", "replace")
        self.assertEqual(ok.returncode, 0, ok_out + ok.stderr.decode("utf-8", "replace"))
        self.assertIn("TLSv1.3", ok_out)
        refused = self.openssl_connect(port, "-tls1_2")
        out = refused.stdout.decode("utf-8", "replace") + refused.stderr.decode("utf-8", "replace")
        self.assertNotEqual(refused.returncode, 0, out)
        # (openssl prints "Protocol : TLSv1.2" for the attempted session even when it failed.)
        self.assertIn("Cipher is (NONE)", out)
        self.assertNotRegex(out, r"Cipher is (?!\(NONE\))")
        # The same with python's ssl module, client certificate and all.
        ctx = self.tls_context("eu-west-1", minimum=ssl.TLSVersion.TLSv1_2)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.post_batch(port, ctx, {"source": "eu-west-1", "entries": []})

    def test_peer_listener_gives_no_http_answer_in_plaintext(self):
        port = self.d.peer_port(PRIMARY)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST " + REPLICATION_PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            data = b""
            try:
                while len(data) < 4096:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        self.assertNotIn(b"HTTP/", data)

    def tls_context(self, client_region=None, minimum=ssl.TLSVersion.TLSv1_3):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = minimum
        ctx.load_verify_locations(self.d.ca_file)
        if client_region:
            ctx.load_cert_chain(*self.d.tls_files(client_region))
        return ctx

    def post_batch(self, port, ctx, body):
        """POSTs a replication batch over TLS; returns (status, body) or raises ssl/OS errors."""
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                payload = json.dumps(body).encode()
                s.sendall(f"POST {REPLICATION_PATH} HTTP/1.1\r\nHost: localhost\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                          "Connection: close\r\n\r\n".encode() + payload)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        if not match:
            return None, data
        return int(match.group(1)), rest

    def test_peer_listener_requires_a_client_certificate(self):
        port = self.d.peer_port(PRIMARY)
        try:
            status, body = self.post_batch(port, self.tls_context(None),
                                           {"source": "eu-west-1", "entries": []})
        except (ssl.SSLError, ConnectionError, socket.timeout) as e:
            return  # refused during or right after the handshake
        self.assertIsNone(status, f"answered HTTP {status} without a client certificate: {body!r}")

    def test_peer_cannot_speak_for_another_region(self):
        port = self.d.peer_port(PRIMARY)
        ctx = self.tls_context("eu-west-1")
        # Control: eu-west-1's certificate with its own name as source is accepted.
        status, body = self.post_batch(port, ctx, {"source": "eu-west-1", "entries": []})
        self.assertEqual(status, 200, body)
        status, body = self.post_batch(port, ctx, {"source": "us-west-2", "entries": []})
        self.assertEqual(status, 403, body)
        self.assertIn(b"AccessDeniedException", body)

    # ---- 7. Edge endpoint and an unknown region --------------------------------------------

    def test_replication_traffic_is_audited_on_both_sides(self):
        # Issue 7: replication between regions is recorded in each side's audit trail (one record
        # per batch, naming the peer and the sequence range, never the payload).
        d = self.d
        key_id = d.direct[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        d.direct[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")

        def events(region):
            found = []
            audit_dir = os.path.join(d.up.data_dir, region, "audit")
            for name in sorted(os.listdir(audit_dir)):
                if name.endswith(".jsonl"):
                    with open(os.path.join(audit_dir, name)) as f:
                        for line in f:
                            if line.strip():
                                found.append(json.loads(line))
            return found

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sent = [e for e in events(PRIMARY) if e.get("eventName") == "ReplicationBatchSent"
                    and e.get("userIdentity", {}).get("arn") == "meridian:region:us-west-2"]
            received = [e for e in events("us-west-2") if e.get("eventName") == "ReplicationBatchReceived"
                        and e.get("userIdentity", {}).get("arn") == f"meridian:region:{PRIMARY}"]
            if sent and received:
                break
            time.sleep(0.2)
        self.assertTrue(sent, "no ReplicationBatchSent record in the primary's audit trail")
        self.assertTrue(received, "no ReplicationBatchReceived record in the replica's audit trail")
        self.assertEqual(received[-1]["eventType"], "AwsServiceEvent")
        self.assertEqual(received[-1]["userIdentity"]["type"], "AWSService")

    def test_metrics_report_peer_state_and_lag(self):
        # Issue 4: per-peer replication state and lag in Prometheus text format.
        import urllib.request
        d = self.d
        key_id = d.direct[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        d.direct[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
        url = d.up.region_endpoint(PRIMARY) + "/metrics"
        deadline = time.monotonic() + 20
        text = ""
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=5) as response:
                self.assertEqual(response.status, 200)
                self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
                text = response.read().decode()
            if f'meridian_replication_peer_connected{{region="{PRIMARY}",peer="eu-west-1"}} 1' in text:
                break
            time.sleep(0.2)
        self.assertIn(f'meridian_replication_peer_connected{{region="{PRIMARY}",peer="eu-west-1"}} 1', text)
        for peer in ("us-west-2", "eu-west-1"):
            self.assertIn(f'meridian_replication_lag_seconds{{region="{PRIMARY}",peer="{peer}"}}', text)
            self.assertIn(f'meridian_replication_pending_entries{{region="{PRIMARY}",peer="{peer}"}}', text)
        self.assertIn("meridian_audit_records_written", text)

    def status(self, *args):
        """Runs `meridian status --data-dir DIR --json`; returns (exit code, parsed JSON)."""
        from meridian_harness import meridian_binary
        out = subprocess.run([meridian_binary(), "status", "--data-dir", self.d.up.data_dir, "--json", *args],
                             capture_output=True, text=True, timeout=60)
        return out.returncode, json.loads(out.stdout)

    def test_status_reports_every_region_and_its_peer_links(self):
        # Issue 4: per-peer state and lag in a DescribeRegions-style admin call and `meridian status`.
        d = self.d
        key_id = d.direct[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        d.direct[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
        deadline = time.monotonic() + REPLICATION_TIMEOUT_S
        while True:
            code, report = self.status()
            self.assertEqual(code, 0, report)
            answers = {r["Region"]: r["Answer"] for r in report["Regions"]}
            self.assertEqual(sorted(answers), sorted(REGIONS))
            primary_links = {r["RegionName"]: r for r in answers[PRIMARY]["Regions"]}
            if primary_links["us-west-2"]["Status"] == "Connected" and \
                    primary_links["us-west-2"]["PendingEntries"] == 0:
                break
            self.assertLess(time.monotonic(), deadline, primary_links)
            time.sleep(0.2)
        for region, answer in answers.items():
            self.assertEqual(answer["Region"], region)
            self.assertEqual(answer["AccountId"], d.account_id)
            rows = {r["RegionName"]: r for r in answer["Regions"]}
            self.assertEqual(sorted(rows), sorted(REGIONS))
            self.assertEqual(rows[region]["Role"], "Local")
            for peer in REGIONS:
                if peer == region:
                    continue
                self.assertEqual(rows[peer]["Role"], "Peer")
                for field in ("PendingEntries", "ReplicationLagSeconds", "AcknowledgedSequence",
                              "DeliveryFailures", "PeerEndpoint"):
                    self.assertIn(field, rows[peer])
            self.assertTrue(answer["Audit"]["Enabled"])
        self.assertGreater(primary_links["us-west-2"]["AcknowledgedSequence"], 0)
        # The admin call is authenticated like any other request: unsigned, it is refused.
        unsigned = send_raw(int(d.up.region_endpoint(PRIMARY).rsplit(":", 1)[1]), "POST", "/", b"{}",
                            {"X-Amz-Target": "MeridianAdmin.DescribeRegions",
                             "Content-Type": "application/x-amz-json-1.1"})
        self.assertGreaterEqual(unsigned[0], 400)
        self.assertLess(unsigned[0], 500)
        # The table form names every region.
        from meridian_harness import meridian_binary
        table = subprocess.run([meridian_binary(), "status", "--data-dir", d.up.data_dir],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(table.returncode, 0, table.stderr)
        for region in REGIONS:
            self.assertIn(region, table.stdout)

    def test_edge_names_running_regions_for_unknown_region(self):
        status, _, body = self.d.up.signed_request("ListKeys", {}, region="ap-south-1")
        self.assertGreaterEqual(status, 400, body)
        self.assertLess(status, 500, body)
        self.assertIsInstance(body, dict, body)
        message = body.get("message") or body.get("Message") or ""
        for region in ["ap-south-1"] + REGIONS:
            self.assertIn(region, message, body)
        # And boto3 sees the same as a ClientError.
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.d.up.client(region="ap-south-1").list_keys()
        for region in REGIONS:
            self.assertIn(region, ctx.exception.response["Error"].get("Message", ""))


class RegionFailureTest(MultiRegionTestBase):
    """Tests that kill region processes: each gets its own deployment."""

    def setUp(self):
        self.d = Deployment()
        self.addCleanup(self.d.up.cleanup)
        self.restarted = None

    def tearDown(self):
        if self.restarted is not None:
            self.restarted.cleanup()

    # ---- 2. Decrypt while the producing region is SIGKILLed -----------------------------------

    def test_decrypt_in_replicas_while_primary_is_killed(self):
        d = self.d
        key_id = self.create_replicated_mrk(d)
        ctx = {"purpose": "failover"}
        blob = d.direct[PRIMARY].encrypt(KeyId=key_id, Plaintext=b"survives us-east-1",
                                         EncryptionContext=ctx)["CiphertextBlob"]
        dk = d.edge[PRIMARY].generate_data_key(KeyId=key_id, KeySpec="AES_256")

        d.kill_region(PRIMARY)
        self.assertNotIn(PRIMARY, d.up.region_pids())
        with self.assertRaises(botocore.exceptions.EndpointConnectionError):
            d.direct[PRIMARY].list_keys()

        for region in ("us-west-2", "eu-west-1"):
            for via, client in (("direct", d.direct[region]), ("edge", d.edge[region])):
                label = f"{region} via {via}"
                out = client.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
                self.assertEqual(out["Plaintext"], b"survives us-east-1", label)
                self.assertEqual(out["KeyId"], d.arn(region, key_id), label)
                out = client.decrypt(CiphertextBlob=blob, EncryptionContext=ctx,
                                     KeyId=d.arn(region, key_id))
                self.assertEqual(out["Plaintext"], b"survives us-east-1", label)
                self.assertEqual(client.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"],
                                 dk["Plaintext"], label)
        self.assertEqual(d.stop(), 0)

    def test_status_names_a_dead_region_and_the_lag_towards_it(self):
        from meridian_harness import meridian_binary
        d = self.d
        d.kill_region("eu-west-1")
        key_id = d.direct[PRIMARY].create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        d.direct[PRIMARY].replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
        time.sleep(1.5)
        out = subprocess.run([meridian_binary(), "status", "--data-dir", d.up.data_dir, "--json"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out.stdout)
        report = {r["Region"]: r for r in json.loads(out.stdout)["Regions"]}
        self.assertIn("Error", report["eu-west-1"])
        links = {r["RegionName"]: r for r in report[PRIMARY]["Answer"]["Regions"]}
        self.assertGreater(links["eu-west-1"]["PendingEntries"], 0, links)
        self.assertNotEqual(links["eu-west-1"]["Status"], "Connected", links)
        self.assertGreater(links["eu-west-1"]["ReplicationLagSeconds"], 0.5, links)
        self.assertEqual(d.stop(), 0)

    # ---- UpdatePrimaryRegion: both keys Updating until the new primary has taken over --------

    def test_update_primary_region_is_updating_until_the_new_primary_confirms(self):
        d = self.d
        kms = d.direct
        key_id = self.create_replicated_mrk(d)
        # The new primary's region is down: the old primary stays Updating until it is back.
        d.kill_region("us-west-2")
        kms[PRIMARY].update_primary_region(KeyId=key_id, PrimaryRegion="us-west-2")
        md = kms[PRIMARY].describe_key(KeyId=key_id)["KeyMetadata"]
        self.assertEqual(md["KeyState"], "Updating", md)
        self.assertFalse(md["Enabled"], md)
        self.assertEqual(md["MultiRegionConfiguration"]["MultiRegionKeyType"], "REPLICA", md)
        # Usable in cryptographic operations meanwhile, ...
        blob = kms[PRIMARY].encrypt(KeyId=key_id, Plaintext=b"while updating")["CiphertextBlob"]
        self.assertEqual(kms[PRIMARY].decrypt(CiphertextBlob=blob)["Plaintext"], b"while updating")
        self.assertEqual(kms["eu-west-1"].decrypt(CiphertextBlob=blob)["Plaintext"], b"while updating")
        # ... and it is a replica already: the primary cannot be moved from here any more.
        self.assertAwsError("UnsupportedOperationException", kms[PRIMARY].update_primary_region,
                            KeyId=key_id, PrimaryRegion="eu-west-1")
        time.sleep(1)
        self.assertEqual(kms[PRIMARY].describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"], "Updating")

        self.restarted = RegionServerProcess(d.up, "us-west-2").start()

        def settled(region, key_type):
            md = kms[region].describe_key(KeyId=key_id)["KeyMetadata"]
            self.assertEqual((md["KeyState"], md["Enabled"]), ("Enabled", True), f"{region}: {md}")
            self.assertEqual(md["MultiRegionConfiguration"]["MultiRegionKeyType"], key_type, f"{region}: {md}")
        eventually(lambda: settled("us-west-2", "PRIMARY"))
        eventually(lambda: settled(PRIMARY, "REPLICA"))
        eventually(lambda: settled("eu-west-1", "REPLICA"))
        self.assertEqual(kms["us-west-2"].decrypt(CiphertextBlob=blob)["Plaintext"], b"while updating")
        kms["us-west-2"].rotate_key_on_demand(KeyId=key_id)
        self.assertEqual(self.restarted.stop(), 0, self.restarted.output_tail())

    # ---- 3. A rotation made while a replica region is down reaches it after restart ---------

    def test_rotation_while_replica_down_reaches_it_after_restart(self):
        d = self.d
        kms = d.direct
        key_id = self.create_replicated_mrk(d)
        old = kms[PRIMARY].encrypt(KeyId=key_id, Plaintext=b"old material")["CiphertextBlob"]
        self.assertEqual(kms["eu-west-1"].list_key_rotations(KeyId=key_id)["Rotations"], [])

        d.kill_region("eu-west-1")
        kms[PRIMARY].rotate_key_on_demand(KeyId=key_id)

        def rotations_in(region):
            """The region's rotations with the KeyId (the ARN in that region) checked and
            dropped, so that regions compare on dates and types."""
            rotations = kms[region].list_key_rotations(KeyId=key_id)["Rotations"]
            for r in rotations:
                self.assertIn(r.pop("KeyId"), (key_id, d.arn(region, key_id)), region)
            return rotations

        def primary_rotated():
            rotations = rotations_in(PRIMARY)
            self.assertEqual([r["RotationType"] for r in rotations], ["ON_DEMAND"], rotations)
            return rotations
        expected_rotations = eventually(primary_rotated)
        new = kms[PRIMARY].encrypt(KeyId=key_id, Plaintext=b"new material")["CiphertextBlob"]
        self.assertNotEqual(new[:64], old[:64])

        # The running replica gets it right away.
        eventually(lambda: self.assertEqual(rotations_in("us-west-2"), expected_rotations))
        self.assertEqual(kms["us-west-2"].decrypt(CiphertextBlob=new)["Plaintext"], b"new material")

        # Keep the outbox busy for a moment while eu-west-1 is down (retries with backoff).
        time.sleep(2)
        self.restarted = RegionServerProcess(d.up, "eu-west-1").start()

        def caught_up():
            self.assertEqual(rotations_in("eu-west-1"), expected_rotations)
        eventually(caught_up)
        self.assertEqual(kms["eu-west-1"].decrypt(CiphertextBlob=new)["Plaintext"], b"new material")
        self.assertEqual(kms["eu-west-1"].decrypt(CiphertextBlob=old)["Plaintext"], b"old material")
        md = kms["eu-west-1"].describe_key(KeyId=key_id)["KeyMetadata"]
        self.assertEqual(md["KeyState"], "Enabled")
        self.assertEqual(md["MultiRegionConfiguration"]["MultiRegionKeyType"], "REPLICA")
        # New material encrypted in eu-west-1 is readable back in the primary.
        back = kms["eu-west-1"].encrypt(KeyId=key_id, Plaintext=b"from dublin")["CiphertextBlob"]
        self.assertEqual(kms[PRIMARY].decrypt(CiphertextBlob=back)["Plaintext"], b"from dublin")

        self.assertEqual(self.restarted.stop(), 0, self.restarted.output_tail())
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
