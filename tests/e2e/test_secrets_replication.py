"""Secrets Manager replication across real region processes: `meridian up --regions
us-east-1,us-west-2,eu-west-1` (one process per region, peer links over mutual TLS), driven with one
boto3 secretsmanager client per region.

Covers CreateSecret with AddReplicaRegions (a replica under the region's aws/secretsmanager key and
one under a customer key of the replica region), reads in every region, a new value on the primary
reaching the replicas, replica writes refused with AWS's error, StopReplicationToReplica promoting a
replica, RemoveRegionsFromReplication deleting one, a region SIGKILLed while the primary changes
catching up when it is restarted, and no secret value in any region's data directory (database,
WAL, outbox) or logs.
"""

import base64
import os
import time
import unittest
import uuid

import botocore.exceptions

from meridian_harness import MeridianProcess, RegionServerProcess
from test_multi_region import Deployment, error_code, eventually

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
PRIMARY = "us-east-1"
REPLICA_READ_ONLY = ("Operation not permitted on a replica secret. "
                     "Call must be made in primary secret's region.")


class SecretsDeployment(Deployment):
    """The three-region deployment with secretsmanager and kms clients per region's endpoint."""

    def __init__(self):
        super().__init__()
        self.sm = {r: self.up.client("secretsmanager", region=r, endpoint_url=self.up.region_endpoint(r))
                   for r in REGIONS}


def replica_arn(arn, region):
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


class SecretsReplicationTestBase(unittest.TestCase):
    maxDiff = None

    def assertAwsError(self, code, fn, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            fn(*args, **kwargs)
        got = error_code(ctx.exception)
        self.assertEqual(got, code, f"expected {code}, got {got}: "
                         f"{ctx.exception.response.get('Error', {}).get('Message')!r}")
        return ctx.exception

    def statuses(self, d, name):
        desc = d.sm[PRIMARY].describe_secret(SecretId=name)
        return {s["Region"]: s for s in desc.get("ReplicationStatus", [])}

    def wait_in_sync(self, d, name, regions):
        def check():
            statuses = self.statuses(d, name)
            self.assertEqual({r: statuses[r]["Status"] for r in regions if r in statuses},
                             {r: "InSync" for r in regions}, statuses)
        eventually(check)

    def wait_value(self, d, region, name, value, **kwargs):
        def check():
            got = d.sm[region].get_secret_value(SecretId=name, **kwargs)["SecretString"]
            self.assertEqual(got, value, region)
        eventually(check)


class SecretsReplicationTest(SecretsReplicationTestBase):
    """One deployment shared by the tests that leave every region running."""

    @classmethod
    def setUpClass(cls):
        cls.d = SecretsDeployment()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def create_replicated(self, name, value, eu_key=None):
        eu = {"Region": "eu-west-1"}
        if eu_key:
            eu["KmsKeyId"] = eu_key
        out = self.d.sm[PRIMARY].create_secret(Name=name, SecretString=value,
                                               AddReplicaRegions=[{"Region": "us-west-2"}, eu])
        self.wait_in_sync(self.d, name, ["us-west-2", "eu-west-1"])
        return out

    def test_create_with_replica_regions_reads_everywhere(self):
        d = self.d
        eu_key = d.direct["eu-west-1"].create_key(Description="replica key")["KeyMetadata"]["Arn"]
        out = d.sm[PRIMARY].create_secret(
            Name="app/payments", SecretString="pa55-v1",
            AddReplicaRegions=[{"Region": "us-west-2"}, {"Region": "eu-west-1", "KmsKeyId": eu_key}])
        self.assertEqual(sorted(s["Region"] for s in out["ReplicationStatus"]), ["eu-west-1", "us-west-2"])
        for s in out["ReplicationStatus"]:
            self.assertIn(s["Status"], ("InProgress", "InSync"))
        arn = out["ARN"]
        self.wait_in_sync(d, "app/payments", ["us-west-2", "eu-west-1"])
        statuses = self.statuses(d, "app/payments")
        self.assertEqual(statuses["us-west-2"]["KmsKeyId"], "alias/aws/secretsmanager")
        self.assertEqual(statuses["eu-west-1"]["KmsKeyId"], eu_key)

        for region in REGIONS:
            got = d.sm[region].get_secret_value(SecretId="app/payments")
            self.assertEqual(got["SecretString"], "pa55-v1", region)
            self.assertEqual(got["ARN"], replica_arn(arn, region), region)
            self.assertEqual(got["VersionId"], out["VersionId"], region)
            desc = d.sm[region].describe_secret(SecretId=replica_arn(arn, region))
            self.assertEqual(desc["Name"], "app/payments")
            self.assertEqual(desc["PrimaryRegion"], PRIMARY)
        self.assertEqual(d.sm["eu-west-1"].describe_secret(SecretId="app/payments")["KmsKeyId"], eu_key)
        self.assertNotIn("ReplicationStatus", d.sm["us-west-2"].describe_secret(SecretId="app/payments"))
        listed = d.sm["us-west-2"].list_secrets(
            Filters=[{"Key": "primary-region", "Values": [PRIMARY]}])["SecretList"]
        self.assertIn("app/payments", [s["Name"] for s in listed])

        # The replica's copy is under eu-west-1's own key: disabling it there makes only that
        # copy unreadable.
        d.direct["eu-west-1"].disable_key(KeyId=eu_key)
        self.assertAwsError("DecryptionFailure", d.sm["eu-west-1"].get_secret_value, SecretId="app/payments")
        self.assertEqual(d.sm[PRIMARY].get_secret_value(SecretId="app/payments")["SecretString"], "pa55-v1")
        self.assertEqual(d.sm["us-west-2"].get_secret_value(SecretId="app/payments")["SecretString"], "pa55-v1")
        # A new value then cannot be sealed in eu-west-1: that replica is Failed, the rest works.
        d.sm[PRIMARY].put_secret_value(SecretId="app/payments", SecretString="pa55-v2")
        self.wait_value(d, "us-west-2", "app/payments", "pa55-v2")

        def failed():
            s = self.statuses(d, "app/payments")["eu-west-1"]
            self.assertEqual(s["Status"], "Failed", s)
            self.assertIn("eu-west-1", s["StatusMessage"])
        eventually(failed)
        self.assertEqual(d.sm[PRIMARY].get_secret_value(SecretId="app/payments")["SecretString"], "pa55-v2")

    def test_new_values_on_the_primary_reach_every_replica(self):
        d = self.d
        self.create_replicated("app/db", "v1")
        tokens = []
        for i in range(2, 8):
            tokens.append(d.sm[PRIMARY].put_secret_value(SecretId="app/db", SecretString=f"v{i}")["VersionId"])
        d.sm[PRIMARY].update_secret(SecretId="app/db", Description="orders database")
        d.sm[PRIMARY].tag_resource(SecretId="app/db", Tags=[{"Key": "team", "Value": "orders"}])
        for region in ("us-west-2", "eu-west-1"):
            self.wait_value(d, region, "app/db", "v7")

            def metadata():
                desc = d.sm[region].describe_secret(SecretId="app/db")
                self.assertEqual(desc.get("Description"), "orders database")
                self.assertEqual(desc.get("Tags"), [{"Key": "team", "Value": "orders"}])
            eventually(metadata)
            self.assertEqual(d.sm[region].get_secret_value(SecretId="app/db", VersionStage="AWSPREVIOUS")
                             ["SecretString"], "v6")
            for i, token in enumerate(tokens, start=2):
                self.assertEqual(d.sm[region].get_secret_value(SecretId="app/db", VersionId=token)
                                 ["SecretString"], f"v{i}")
            self.assertEqual(
                d.sm[region].describe_secret(SecretId="app/db")["VersionIdsToStages"],
                d.sm[PRIMARY].describe_secret(SecretId="app/db")["VersionIdsToStages"])
        # Replicas report when they were last read.
        d.sm["eu-west-1"].get_secret_value(SecretId="app/db")

        def accessed():
            self.assertIn("LastAccessedDate", self.statuses(d, "app/db")["eu-west-1"])
        eventually(accessed)

    def test_replica_is_read_only(self):
        d = self.d
        self.create_replicated("app/readonly", "ro-v1")
        replica = d.sm["us-west-2"]
        for call, kwargs in [
            (replica.put_secret_value, {"SecretId": "app/readonly", "SecretString": "nope"}),
            (replica.update_secret, {"SecretId": "app/readonly", "Description": "nope"}),
            (replica.tag_resource, {"SecretId": "app/readonly", "Tags": [{"Key": "k", "Value": "v"}]}),
            (replica.delete_secret, {"SecretId": "app/readonly", "ForceDeleteWithoutRecovery": True}),
            (replica.rotate_secret, {"SecretId": "app/readonly", "RotationRules": {"AutomaticallyAfterDays": 7}}),
            (replica.replicate_secret_to_regions, {"SecretId": "app/readonly",
                                                   "AddReplicaRegions": [{"Region": "eu-west-1"}]}),
        ]:
            err = self.assertAwsError("InvalidParameterException", call, **kwargs)
            self.assertEqual(err.response["Error"]["Message"], REPLICA_READ_ONLY)
        self.assertEqual(replica.get_secret_value(SecretId="app/readonly")["SecretString"], "ro-v1")
        err = self.assertAwsError("InvalidParameterException", d.sm[PRIMARY].delete_secret,
                                  SecretId="app/readonly", ForceDeleteWithoutRecovery=True)
        self.assertIn("still has replica regions", err.response["Error"]["Message"])
        self.assertAwsError("InvalidParameterException", d.sm[PRIMARY].replicate_secret_to_regions,
                            SecretId="app/readonly", AddReplicaRegions=[{"Region": PRIMARY}])

    def test_name_clash_fails_unless_forced(self):
        d = self.d
        d.sm["eu-west-1"].create_secret(Name="app/clash", SecretString="dublin-own")
        d.sm[PRIMARY].create_secret(Name="app/clash", SecretString="virginia",
                                    AddReplicaRegions=[{"Region": "eu-west-1"}])

        def failed():
            s = self.statuses(d, "app/clash")["eu-west-1"]
            self.assertEqual(s["Status"], "Failed", s)
            self.assertIn("already exists", s["StatusMessage"])
        eventually(failed)
        self.assertEqual(d.sm["eu-west-1"].get_secret_value(SecretId="app/clash")["SecretString"], "dublin-own")
        d.sm[PRIMARY].replicate_secret_to_regions(SecretId="app/clash", ForceOverwriteReplicaSecret=True,
                                                  AddReplicaRegions=[{"Region": "eu-west-1"}])
        self.wait_in_sync(d, "app/clash", ["eu-west-1"])
        self.assertEqual(d.sm["eu-west-1"].get_secret_value(SecretId="app/clash")["SecretString"], "virginia")

    def test_stop_replication_promotes_and_remove_regions_deletes(self):
        d = self.d
        out = self.create_replicated("app/promote", "p-v1")
        promoted = d.sm["us-west-2"].stop_replication_to_replica(SecretId="app/promote")
        self.assertEqual(promoted["ARN"], replica_arn(out["ARN"], "us-west-2"))
        eventually(lambda: self.assertNotIn("us-west-2", self.statuses(d, "app/promote")))
        self.assertNotIn("PrimaryRegion", d.sm["us-west-2"].describe_secret(SecretId="app/promote"))
        d.sm["us-west-2"].put_secret_value(SecretId="app/promote", SecretString="west-own")
        d.sm[PRIMARY].put_secret_value(SecretId="app/promote", SecretString="p-v2")
        self.wait_value(d, "eu-west-1", "app/promote", "p-v2")
        self.assertEqual(d.sm["us-west-2"].get_secret_value(SecretId="app/promote")["SecretString"], "west-own")

        removed = d.sm[PRIMARY].remove_regions_from_replication(SecretId="app/promote",
                                                                RemoveReplicaRegions=["eu-west-1"])
        self.assertEqual(removed["ReplicationStatus"], [])

        def gone():
            self.assertAwsError("ResourceNotFoundException", d.sm["eu-west-1"].describe_secret,
                                SecretId="app/promote")
        eventually(gone)
        d.sm[PRIMARY].delete_secret(SecretId="app/promote", ForceDeleteWithoutRecovery=True)


class SecretsReplicationRestartTest(SecretsReplicationTestBase):
    """Kills a region process: its own deployment."""

    def setUp(self):
        self.d = SecretsDeployment()
        self.restarted = None

    def tearDown(self):
        if self.restarted is not None:
            self.restarted.cleanup()
        self.d.stop()

    def test_region_down_catches_up_and_no_value_on_disk(self):
        d = self.d
        canary = "canary-" + uuid.uuid4().hex
        values = [f"{canary}-{i}" for i in range(1, 7)]
        d.sm[PRIMARY].create_secret(Name="app/canary", SecretString=values[0],
                                    AddReplicaRegions=[{"Region": "us-west-2"}, {"Region": "eu-west-1"}])
        self.wait_in_sync(d, "app/canary", ["us-west-2", "eu-west-1"])

        d.kill_region("eu-west-1")
        tokens = [d.sm[PRIMARY].put_secret_value(SecretId="app/canary", SecretString=v)["VersionId"]
                  for v in values[1:]]
        self.wait_value(d, "us-west-2", "app/canary", values[-1])
        time.sleep(1)  # the link to eu-west-1 retries with backoff meanwhile
        self.assertLeavesNoValue(values, "while eu-west-1 is down (outbox pending)")

        self.restarted = RegionServerProcess(d.up, "eu-west-1").start()
        self.wait_value(d, "eu-west-1", "app/canary", values[-1])
        for token, value in zip(tokens, values[1:]):
            self.assertEqual(d.sm["eu-west-1"].get_secret_value(SecretId="app/canary", VersionId=token)
                             ["SecretString"], value)
        self.assertEqual(self.statuses(d, "app/canary")["eu-west-1"]["Status"], "InSync")
        self.assertLeavesNoValue(values, "after catch-up")
        self.assertEqual(self.restarted.stop(), 0, self.restarted.output_tail())
        self.assertEqual(d.up.stop(), 0)  # stopped, not cleaned up: the files are still there
        self.assertLeavesNoValue(values, "after a clean stop")

    def assertLeavesNoValue(self, values, phase):
        paths = []
        for root, _, names in os.walk(self.d.up.data_dir):
            paths.extend(os.path.join(root, n) for n in names)
        paths.extend(self.d.up.log_files())
        if self.restarted is not None:
            for name in os.listdir(self.restarted.log_dir):
                paths.append(os.path.join(self.restarted.log_dir, name))
        self.assertTrue(any(p.endswith(".db") for p in paths), paths)
        leaks = []
        for path in paths:
            try:
                with open(path, "rb") as f:
                    content = f.read()
            except (FileNotFoundError, IsADirectoryError):
                continue
            for value in values:
                raw = value.encode()
                for form, needle in {"raw": raw, "base64": base64.b64encode(raw),
                                     "hex": raw.hex().encode()}.items():
                    if needle in content:
                        leaks.append(f"{path}: {form} of {value}")
        self.assertEqual(leaks, [], phase)


if __name__ == "__main__":
    unittest.main()
