"""`meridian up` as a process: cluster.json, reuse across restarts, fixed bootstrap credentials,
clean shutdown on SIGINT/SIGTERM, and durability of every acknowledged write across SIGKILL."""

import os
import signal
import stat
import unittest

from meridian_harness import MeridianProcess


class ClusterFileTest(unittest.TestCase):

    def setUp(self):
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)

    def test_first_start_writes_cluster_json(self):
        self.server.start()
        path = os.path.join(self.server.data_dir, "cluster.json")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        self.assertEqual(mode, 0o600, oct(mode))
        cluster = self.server.cluster()
        self.assertRegex(cluster["account_id"], r"^\d{12}$")
        self.assertEqual(cluster["regions"], {"us-east-1": {"endpoint": self.server.endpoint}})
        self.assertTrue(cluster["admin"]["access_key_id"])
        self.assertGreaterEqual(len(cluster["admin"]["secret_access_key"]), 20)
        self.assertEqual(self.server.stop(), 0)

    def test_restart_reuses_account_credentials_and_keys(self):
        self.server.start()
        cluster = self.server.cluster()
        kms = self.server.client()
        key = kms.create_key(Description="survives restart")["KeyMetadata"]
        blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"across restarts")["CiphertextBlob"]

        self.server.restart()
        self.assertEqual(self.server.cluster(), cluster)
        kms = self.server.client()
        self.assertEqual(kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"], key)
        self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"across restarts")
        self.assertEqual(self.server.stop(), 0)

    def test_sigint_shuts_down_cleanly(self):
        self.server.start()
        self.server.client().list_keys()
        self.assertEqual(self.server.stop(signal.SIGINT), 0)

    def test_sigterm_shuts_down_cleanly(self):
        self.server.start()
        self.server.client().list_keys()
        self.assertEqual(self.server.stop(signal.SIGTERM), 0)


class FixedCredentialsTest(unittest.TestCase):
    ACCOUNT = "111122223333"
    AK = "AKIAIOSFODNN7EXAMPLE"
    SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    def run_with(self, extra_args=(), env=None):
        server = MeridianProcess(extra_args=extra_args, env=env)
        self.addCleanup(server.cleanup)
        server.start()
        cluster = server.cluster()
        self.assertEqual(cluster["account_id"], self.ACCOUNT)
        self.assertEqual(cluster["admin"], {"access_key_id": self.AK, "secret_access_key": self.SK})
        # A client written for moto/LocalStack, signing with fixed test credentials, just works.
        kms = server.client(access_key=self.AK, secret_key=self.SK)
        md = kms.create_key()["KeyMetadata"]
        self.assertEqual(md["AWSAccountId"], self.ACCOUNT)
        self.assertTrue(md["Arn"].startswith(f"arn:aws:kms:us-east-1:{self.ACCOUNT}:key/"))
        self.assertEqual(server.stop(), 0)

    def test_flags(self):
        self.run_with(extra_args=["--account-id", self.ACCOUNT, "--admin-access-key-id", self.AK,
                                  "--admin-secret-access-key", self.SK])

    def test_environment(self):
        self.run_with(extra_args=["--account-id", self.ACCOUNT],
                      env={"MERIDIAN_ADMIN_ACCESS_KEY_ID": self.AK,
                           "MERIDIAN_ADMIN_SECRET_ACCESS_KEY": self.SK})


class KillDurabilityTest(unittest.TestCase):
    """Everything acknowledged before SIGKILL is there after a restart."""

    def setUp(self):
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def snapshot(self, kms, key_ids):
        state = {}
        for key_id in key_ids:
            state[key_id] = {
                "metadata": kms.describe_key(KeyId=key_id)["KeyMetadata"],
                "tags": sorted((t["TagKey"], t["TagValue"])
                               for t in kms.list_resource_tags(KeyId=key_id)["Tags"]),
                "policy": kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"],
                "rotation": kms.get_key_rotation_status(KeyId=key_id),
                "rotations": kms.list_key_rotations(KeyId=key_id)["Rotations"],
            }
            state[key_id]["rotation"].pop("ResponseMetadata", None)
        state["aliases"] = sorted((a["AliasName"], a.get("TargetKeyId"))
                                  for a in kms.list_aliases()["Aliases"])
        state["keys"] = sorted(k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"])
        return state

    def test_sigkill_loses_nothing_acknowledged(self):
        kms = self.server.client()
        keys = []
        ciphertexts = []  # (blob, context, plaintext)
        for i in range(6):
            md = kms.create_key(Description=f"durable-{i}",
                                Tags=[{"TagKey": "index", "TagValue": str(i)}])["KeyMetadata"]
            keys.append(md["KeyId"])
            kms.create_alias(AliasName=f"alias/durable-{i}", TargetKeyId=md["KeyId"])
            for j in range(3):
                plaintext = os.urandom(32 + j)
                ctx = {"key": str(i), "n": str(j)}
                blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=plaintext,
                                   EncryptionContext=ctx)["CiphertextBlob"]
                ciphertexts.append((blob, ctx, plaintext))
            dk = kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256")
            ciphertexts.append((dk["CiphertextBlob"], None, dk["Plaintext"]))

        kms.enable_key_rotation(KeyId=keys[0], RotationPeriodInDays=180)
        kms.rotate_key_on_demand(KeyId=keys[1])
        post_rotation = os.urandom(40)
        ciphertexts.append((kms.encrypt(KeyId=keys[1], Plaintext=post_rotation)["CiphertextBlob"],
                            None, post_rotation))
        kms.disable_key(KeyId=keys[2])
        kms.schedule_key_deletion(KeyId=keys[3], PendingWindowInDays=7)
        kms.update_key_description(KeyId=keys[4], Description="edited before the crash")
        kms.untag_resource(KeyId=keys[4], TagKeys=["index"])
        kms.put_key_policy(KeyId=keys[5], PolicyName="default", Policy=(
            '{"Version":"2012-10-17","Statement":[{"Sid":"durable","Effect":"Allow",'
            f'"Principal":{{"AWS":"arn:aws:iam::{self.server.account_id()}:root"}},'
            '"Action":"kms:*","Resource":"*"}]}'))
        kms.update_alias(AliasName="alias/durable-0", TargetKeyId=keys[5])
        kms.delete_alias(AliasName="alias/durable-1")
        before = self.snapshot(kms, keys)

        # The very last acknowledged write, then an immediate SIGKILL.
        last = kms.create_key(Description="last write before kill")["KeyMetadata"]
        self.server.kill()
        self.server.start()

        kms = self.server.client()
        after = self.snapshot(kms, keys)
        self.assertIn(last["KeyId"], after["keys"])
        after["keys"].remove(last["KeyId"])
        self.assertEqual(after, before)
        self.assertEqual(kms.describe_key(KeyId=last["KeyId"])["KeyMetadata"], last)

        kms.enable_key(KeyId=keys[2])
        kms.cancel_key_deletion(KeyId=keys[3])
        kms.enable_key(KeyId=keys[3])
        for blob, ctx, plaintext in ciphertexts:
            kwargs = {"CiphertextBlob": blob}
            if ctx:
                kwargs["EncryptionContext"] = ctx
            self.assertEqual(kms.decrypt(**kwargs)["Plaintext"], plaintext)

        # And a second crash right after more writes, without a clean start in between.
        extra = kms.encrypt(KeyId=keys[0], Plaintext=b"after first crash")["CiphertextBlob"]
        self.server.kill()
        self.server.start()
        kms = self.server.client()
        self.assertEqual(kms.decrypt(CiphertextBlob=extra)["Plaintext"], b"after first crash")
        self.assertEqual(self.server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
