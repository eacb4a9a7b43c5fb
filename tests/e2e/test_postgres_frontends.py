"""Several stateless frontends per region on PostgreSQL (`meridian up --storage postgres`).

Two `meridian server` processes of one region share its PostgreSQL database and listen on the
region endpoint's port (SO_REUSEPORT) and on a port each (cluster.json "frontends"), which these
tests use to aim at one frontend or the other:
  - a change made on one frontend (DisableKey, DeleteAccessKey, RevokeGrant) takes effect on the
    other within one second: caches are invalidated through LISTEN/NOTIFY (the delay is measured
    over 100 DisableKey/EnableKey trials and printed as p50/p99);
  - conflicting operations hammered on both frontends (the same alias updated, rotation against
    encrypt/decrypt, CreateGrant against RevokeGrant) leave consistent state;
  - SIGKILL of a frontend under load loses no acknowledged write, the region endpoint keeps
    serving, and leadership (background duties) moves to the survivor.
Skipped when the machine has no PostgreSQL server programs.
"""

import concurrent.futures
import glob
import os
import random
import signal
import statistics
import threading
import time
import unittest
import urllib.request

import botocore.exceptions

from meridian_harness import MeridianProcess

REGION = "us-east-1"


def postgres_programs():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def error_code(exc):
    return exc.response.get("Error", {}).get("Code", "")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


@unittest.skipUnless(postgres_programs(), "no PostgreSQL server programs (/usr/lib/postgresql/*/bin); "
                                          "scripts/install-deps.sh installs them")
class PostgresFrontendsTest(unittest.TestCase):
    """The tests share one deployment; the SIGKILL test runs last (test_9_...)."""

    @classmethod
    def setUpClass(cls):
        cls.server = MeridianProcess(extra_args=("--storage", "postgres", "--frontends", "2"))
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.endpoints = cls.server.frontend_endpoints()
        cls.kms1 = cls.server.client(endpoint_url=cls.endpoints[0])
        cls.kms2 = cls.server.client(endpoint_url=cls.endpoints[1])

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    def frontend_client(self, index, service="kms", **kwargs):
        return self.server.client(service, endpoint_url=self.endpoints[index], **kwargs)

    def wait_until(self, predicate, timeout, what):
        """Seconds until predicate() is true (polled as fast as requests go); fails after timeout."""
        start = time.monotonic()
        while True:
            if predicate():
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                self.fail(f"{what}: not within {timeout}s")

    def leader_flags(self):
        """[1 or 0 per frontend endpoint]: meridian_storage_leader from each one's /metrics."""
        flags = []
        for endpoint in self.endpoints:
            try:
                with urllib.request.urlopen(endpoint + "/metrics", timeout=5) as response:
                    text = response.read().decode()
            except OSError:
                flags.append(None)
                continue
            value = [line.split()[-1] for line in text.splitlines()
                     if line.startswith("meridian_storage_leader{")]
            flags.append(int(float(value[0])) if value else None)
        return flags

    # ---- deployment shape ------------------------------------------------------------------

    def test_0_two_frontends_serve_one_region(self):
        pids = self.server.frontend_pids()
        self.assertEqual(len(pids.get(REGION, [])), 2, pids)
        self.assertEqual(len(set(pids[REGION])), 2)
        # region_pids() still names one process per region (frontend 1).
        self.assertEqual(self.server.region_pids()[REGION], pids[REGION][0])
        self.assertEqual(len(self.endpoints), 2)
        # What one frontend creates the other serves, and so does the shared region endpoint.
        key_id = self.kms1.create_key(Description="shared")["KeyMetadata"]["KeyId"]
        blob = self.kms2.encrypt(KeyId=key_id, Plaintext=b"across frontends")["CiphertextBlob"]
        self.assertEqual(self.kms1.decrypt(CiphertextBlob=blob)["Plaintext"], b"across frontends")
        self.assertEqual(self.server.client().decrypt(CiphertextBlob=blob)["Plaintext"], b"across frontends")
        # Exactly one frontend leads the region's background duties.
        self.wait_until(lambda: sorted(self.leader_flags()) == [0, 1], 10, "one leader")

    # ---- cache invalidation across frontends -----------------------------------------------

    def test_1_disable_key_on_one_frontend_is_refused_on_the_other_within_a_second(self):
        key_id = self.kms1.create_key(Description="invalidation delay")["KeyMetadata"]["KeyId"]

        def encrypt_refused():
            try:
                self.kms2.encrypt(KeyId=key_id, Plaintext=b"x")
                return False
            except botocore.exceptions.ClientError as e:
                self.assertEqual(error_code(e), "DisabledException")
                return True

        def encrypt_allowed():
            return not encrypt_refused()

        disable_delays, enable_delays = [], []
        for _ in range(100):
            self.assertTrue(encrypt_allowed())  # frontend 2 has the enabled key cached
            self.kms1.disable_key(KeyId=key_id)
            disable_delays.append(self.wait_until(encrypt_refused, 1.0, "DisableKey seen by frontend 2"))
            self.kms1.enable_key(KeyId=key_id)
            enable_delays.append(self.wait_until(encrypt_allowed, 1.0, "EnableKey seen by frontend 2"))
        print(f"\ninvalidation delay, DisableKey on frontend 1 -> Encrypt refused on frontend 2 "
              f"({len(disable_delays)} trials): p50 {percentile(disable_delays, 50) * 1000:.1f} ms, "
              f"p99 {percentile(disable_delays, 99) * 1000:.1f} ms, max {max(disable_delays) * 1000:.1f} ms; "
              f"EnableKey p50 {percentile(enable_delays, 50) * 1000:.1f} ms, "
              f"p99 {percentile(enable_delays, 99) * 1000:.1f} ms", flush=True)

    def test_2_delete_access_key_and_revoke_grant_take_effect_on_the_other_frontend(self):
        iam = self.frontend_client(0, "iam")
        user = iam.create_user(UserName="frontend-user")["User"]
        key = iam.create_access_key(UserName="frontend-user")["AccessKey"]
        as_user2 = self.frontend_client(1, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        key_id = self.kms1.create_key(Description="granted")["KeyMetadata"]["KeyId"]
        grant = self.kms1.create_grant(KeyId=key_id, GranteePrincipal=user["Arn"], Operations=["Encrypt"])

        def user_can_encrypt():
            try:
                as_user2.encrypt(KeyId=key_id, Plaintext=b"granted")
                return True
            except botocore.exceptions.ClientError as e:
                self.assertEqual(error_code(e), "AccessDeniedException")
                return False

        # The grant created on frontend 1 authorizes the user on frontend 2 (its credential and
        # the key with its grants are now cached there).
        self.wait_until(user_can_encrypt, 1.0, "CreateGrant seen by frontend 2")
        self.assertTrue(user_can_encrypt())
        self.kms1.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
        delay = self.wait_until(lambda: not user_can_encrypt(), 1.0, "RevokeGrant seen by frontend 2")
        print(f"\nRevokeGrant on frontend 1 -> refused on frontend 2 after {delay * 1000:.1f} ms", flush=True)

        def user_rejected():
            try:
                as_user2.list_keys()
                return False
            except botocore.exceptions.ClientError as e:
                if error_code(e) == "AccessDeniedException":  # authenticated, no permission
                    return False
                self.assertIn(error_code(e), ("UnrecognizedClientException", "InvalidClientTokenId"))
                return True

        self.assertFalse(user_rejected())
        iam.delete_access_key(UserName="frontend-user", AccessKeyId=key["AccessKeyId"])
        delay = self.wait_until(user_rejected, 1.0, "DeleteAccessKey seen by frontend 2")
        print(f"DeleteAccessKey on frontend 1 -> rejected on frontend 2 after {delay * 1000:.1f} ms", flush=True)

    # ---- conflicting operations on both frontends ------------------------------------------

    def test_3_same_alias_updated_from_both_frontends(self):
        keys = [self.kms1.create_key(Description=f"alias target {i}")["KeyMetadata"]["KeyId"] for i in range(4)]
        self.kms1.create_alias(AliasName="alias/hammered", TargetKeyId=keys[0])
        errors = []

        def hammer(client, seed):
            rng = random.Random(seed)
            for _ in range(40):
                try:
                    client.update_alias(AliasName="alias/hammered", TargetKeyId=rng.choice(keys))
                except Exception as e:  # noqa: BLE001 - every failure is a test failure
                    errors.append(repr(e))

        clients = [self.frontend_client(i % 2) for i in range(6)]
        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            list(pool.map(hammer, clients, range(len(clients))))
        self.assertEqual(errors, [])
        # One alias, one target, and both frontends agree on it (within the invalidation delay).
        aliases = [a for a in self.kms1.list_aliases()["Aliases"] if a["AliasName"] == "alias/hammered"]
        self.assertEqual(len(aliases), 1)
        target = aliases[0]["TargetKeyId"]
        self.assertIn(target, keys)

        def frontend2_agrees():
            blob = self.kms2.encrypt(KeyId="alias/hammered", Plaintext=b"a")["CiphertextBlob"]
            return self.kms1.decrypt(CiphertextBlob=blob)["KeyId"].endswith(target)

        self.wait_until(frontend2_agrees, 1.0, "frontend 2 resolves the alias to its last target")

    def test_4_rotation_against_encrypt_and_decrypt_on_both_frontends(self):
        key_id = self.kms1.create_key(Description="rotated under load")["KeyMetadata"]["KeyId"]
        stop = threading.Event()
        blobs, errors = [], []
        lock = threading.Lock()

        def encrypt_and_decrypt_across(index):
            mine, other = self.frontend_client(index % 2), self.frontend_client((index + 1) % 2)
            n = 0
            while not stop.is_set():
                plaintext = f"{index}-{n}".encode()
                n += 1
                try:
                    blob = mine.encrypt(KeyId=key_id, Plaintext=plaintext)["CiphertextBlob"]
                    # Decrypted at once on the other frontend, which may not have heard of the
                    # version that encrypted it yet.
                    self.assertEqual(other.decrypt(CiphertextBlob=blob)["Plaintext"], plaintext)
                    with lock:
                        blobs.append((blob, plaintext))
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))

        def rotate():
            for i in range(8):
                try:
                    self.frontend_client(i % 2).rotate_key_on_demand(KeyId=key_id)
                except Exception as e:  # noqa: BLE001
                    errors.append("rotate: " + repr(e))
                time.sleep(0.15)
            stop.set()

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            workers = [pool.submit(encrypt_and_decrypt_across, i) for i in range(4)]
            pool.submit(rotate).result()
            for w in workers:
                w.result()
        self.assertEqual(errors, [])
        rotations = self.kms1.list_key_rotations(KeyId=key_id)["Rotations"]
        self.assertEqual(len(rotations), 8)
        self.assertGreater(len(blobs), 8)
        for blob, plaintext in blobs:
            for client in (self.kms1, self.kms2):
                self.assertEqual(client.decrypt(CiphertextBlob=blob)["Plaintext"], plaintext)

    def test_5_create_grant_against_revoke_grant_on_both_frontends(self):
        key_id = self.kms1.create_key(Description="grants under load")["KeyMetadata"]["KeyId"]
        principal = f"arn:aws:iam::{self.server.account_id()}:root"
        created, revoked, errors = [], [], []
        lock = threading.Lock()
        done = threading.Event()

        def create(index):
            client = self.frontend_client(index % 2)
            for _ in range(25):
                try:
                    grant_id = client.create_grant(KeyId=key_id, GranteePrincipal=principal,
                                                   Operations=["Encrypt", "Decrypt"])["GrantId"]
                    with lock:
                        created.append(grant_id)
                except Exception as e:  # noqa: BLE001
                    errors.append("create: " + repr(e))

        def revoke(index):
            client = self.frontend_client(index % 2)
            while True:
                with lock:
                    candidates = [g for g in created if g not in revoked]
                    grant_id = random.choice(candidates) if candidates and random.random() < 0.6 else None
                    if grant_id:
                        revoked.append(grant_id)  # claimed before the call: revoked once
                if grant_id is None:
                    if done.is_set():
                        return
                    time.sleep(0.01)
                    continue
                try:
                    client.revoke_grant(KeyId=key_id, GrantId=grant_id)
                except Exception as e:  # noqa: BLE001
                    errors.append("revoke: " + repr(e))
                if done.is_set() and random.random() < 0.3:
                    return

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            creators = [pool.submit(create, i) for i in range(3)]
            revokers = [pool.submit(revoke, i + 1) for i in range(3)]
            for c in creators:
                c.result()
            done.set()
            for r in revokers:
                r.result()
        self.assertEqual(errors, [])
        self.assertEqual(len(set(created)), 75)
        expected = set(created) - set(revoked)
        for client in (self.kms1, self.kms2):
            listed = set()
            marker = None
            while True:
                page = client.list_grants(KeyId=key_id, **({"Marker": marker} if marker else {}))
                listed |= {g["GrantId"] for g in page["Grants"]}
                if not page.get("Truncated"):
                    break
                marker = page["NextMarker"]
            self.assertEqual(listed, expected)

    # ---- losing a frontend -----------------------------------------------------------------

    def test_9_sigkill_of_a_frontend_under_load_loses_no_acknowledged_write(self):
        self.wait_until(lambda: sorted(self.leader_flags()) == [0, 1], 10, "one leader")
        leader = self.leader_flags().index(1)
        survivor = 1 - leader
        victim_pid = self.server.frontend_pids()[REGION][leader]
        sm = self.server.client("secretsmanager")  # the shared region endpoint
        acknowledged, failures = [], []
        lock = threading.Lock()
        stop = threading.Event()

        def write(worker):
            client = self.server.client("secretsmanager")
            n = 0
            while not stop.is_set():
                name = f"under-load/{worker}/{n}"
                n += 1
                try:
                    client.create_secret(Name=name, SecretString=f"value {name}")
                    with lock:
                        acknowledged.append(name)
                except Exception as e:  # noqa: BLE001 - requests in flight at the kill may fail
                    failures.append(repr(e))
                    client = self.server.client("secretsmanager")

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            writers = [pool.submit(write, i) for i in range(4)]
            time.sleep(1.5)
            os.kill(victim_pid, signal.SIGKILL)
            killed_at = time.monotonic()
            # The survivor takes over the region's background duties, under load.
            takeover = self.wait_until(lambda: self.leader_flags()[survivor] == 1, 10, "the survivor becomes leader")
            time.sleep(max(0.0, 2.0 - (time.monotonic() - killed_at)))
            stop.set()
            for w in writers:
                w.result()
        with lock:
            written_after_kill = len(acknowledged)
        self.assertGreater(written_after_kill, 10)
        # Requests that were in flight on the killed frontend may fail; the endpoint serves on.
        self.assertLess(len(failures), 40, failures[:5])
        sm.create_secret(Name="after-the-kill", SecretString="still serving")
        # Every acknowledged write is there, read through the survivor.
        survivor_sm = self.frontend_client(survivor, "secretsmanager")
        for name in acknowledged:
            self.assertEqual(survivor_sm.get_secret_value(SecretId=name)["SecretString"], f"value {name}")
        print(f"\nleadership moved to the survivor {takeover:.1f}s after SIGKILL "
              f"({len(acknowledged)} acknowledged writes, {len(failures)} failed in flight)", flush=True)
        self.assertEqual(len(self.server.frontend_pids()[REGION]), 1)


if __name__ == "__main__":
    unittest.main()
