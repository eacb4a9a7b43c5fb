"""Global IAM across a three-region `meridian up` (real processes, peer links over mutual TLS,
the edge endpoint), driven with boto3.

IAM's home is the first region of --regions (us-east-1). A user made through the edge endpoint
(IAM signed for us-east-1, as AWS's global IAM endpoint signs) calls KMS in all three regions once
replication has delivered it; a change at home (DeleteAccessKey) takes effect everywhere; another
region refuses IAM changes with UnsupportedOperation naming the home; STS credentials issued in one
region work in the others.
"""

import json
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

from meridian_harness import MeridianProcess

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
HOME = "us-east-1"
REPLICATION_TIMEOUT_S = 30.0

USER_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow",
                   "Action": ["kms:CreateKey", "kms:Encrypt", "kms:Decrypt", "kms:ListKeys", "kms:DescribeKey",
                              "sts:GetSessionToken"],
                   "Resource": "*"}],
})


def eventually(fn, timeout=REPLICATION_TIMEOUT_S):
    """fn() until it returns without raising; its last exception after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class GlobalIamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = MeridianProcess(regions=REGIONS)
        try:
            cls.up.start()
        except Exception:
            cls.up.cleanup()
            raise
        cls.iam = cls.up.client("iam", region=HOME)  # through the edge endpoint

    @classmethod
    def tearDownClass(cls):
        cls.up.cleanup()

    def make_user(self, name):
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=USER_POLICY)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def kms_as(self, region, key_id, secret, token=None):
        if not token:
            return self.up.client("kms", region=region, access_key=key_id, secret_key=secret)
        return boto3.session.Session().client(
            "kms", endpoint_url=self.up.endpoint, region_name=region, aws_access_key_id=key_id,
            aws_secret_access_key=secret, aws_session_token=token,
            config=botocore.config.Config(retries={"total_max_attempts": 1}))

    def test_user_made_through_the_edge_calls_kms_in_every_region(self):
        key_id, secret = self.make_user("global-alice")
        for region in REGIONS:
            kms = self.kms_as(region, key_id, secret)
            key = eventually(lambda: kms.create_key(Description=f"alice in {region}"))["KeyMetadata"]
            self.assertEqual(key["Arn"].split(":")[3], region)
            blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"hello")["CiphertextBlob"]
            self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"hello")
            # What the policy does not allow stays denied everywhere.
            with self.assertRaises(botocore.exceptions.ClientError) as denied:
                kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
            self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")
        # IAM reads answer in every region from the replicated copy.
        for region in REGIONS:
            user = self.up.client("iam", region=region).get_user(UserName="global-alice")["User"]
            self.assertEqual(user["Arn"], f"arn:aws:iam::{self.up.account_id()}:user/global-alice")

    def test_a_deleted_access_key_stops_working_everywhere(self):
        key_id, secret = self.make_user("global-bob")
        clients = {r: self.kms_as(r, key_id, secret) for r in REGIONS}
        for region in REGIONS:
            eventually(clients[region].list_keys)
        self.iam.delete_access_key(UserName="global-bob", AccessKeyId=key_id)

        def refused(region):
            try:
                clients[region].list_keys()
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"]
            raise AssertionError(f"{region} still accepts the deleted key")
        for region in REGIONS:
            self.assertEqual(eventually(lambda: refused(region)), "UnrecognizedClientException")

    def test_the_edge_sends_iam_changes_to_the_home_region_whatever_the_signing_region(self):
        # Like AWS's global IAM endpoint: a client configured for any region of the deployment
        # changes IAM through the edge; the home region accepts the signature and replicates.
        for region in REGIONS[1:]:
            iam = self.up.client("iam", region=region)
            iam.create_user(UserName=f"via-edge-{region}")
            for other in REGIONS:
                direct = self.up.client("iam", region=other, endpoint_url=self.up.region_endpoint(other))
                eventually(lambda: direct.get_user(UserName=f"via-edge-{region}"))

    def test_other_regions_refuse_iam_changes_and_name_the_home(self):
        for region in REGIONS[1:]:
            iam = self.up.client("iam", region=region, endpoint_url=self.up.region_endpoint(region))
            with self.assertRaises(botocore.exceptions.ClientError) as refused:
                iam.create_user(UserName=f"not-here-{region}")
            error = refused.exception.response["Error"]
            self.assertEqual(error["Code"], "UnsupportedOperation")
            self.assertEqual(refused.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
            self.assertIn("home region us-east-1", error["Message"])
            self.assertIn(self.up.region_endpoint(HOME), error["Message"])
        with self.assertRaises(botocore.exceptions.ClientError):
            self.iam.get_user(UserName="not-here-us-west-2")

    def test_sts_credentials_from_one_region_work_in_the_others(self):
        key_id, secret = self.make_user("global-carol")
        sts = self.up.client("sts", region="eu-west-1", access_key=key_id, secret_key=secret)
        creds = eventually(lambda: sts.get_session_token(DurationSeconds=900))["Credentials"]
        for region in REGIONS:
            kms = self.kms_as(region, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
            eventually(kms.list_keys)



class RegionAddedLaterTest(unittest.TestCase):
    """A deployment of two regions gets IAM users and policies, then restarts with a third:
    the new region receives the whole IAM state from the home (iam/global_iam.h), not only the
    changes made after it joined."""

    def test_a_region_added_later_authenticates_existing_users(self):
        up = MeridianProcess(regions=REGIONS[:2])
        self.addCleanup(up.cleanup)
        up.start()
        iam = up.client("iam", region=HOME)
        iam.create_user(UserName="early-carol")
        iam.put_user_policy(UserName="early-carol", PolicyName="kms", PolicyDocument=USER_POLICY)
        key = iam.create_access_key(UserName="early-carol")["AccessKey"]
        iam.create_user(UserName="early-gone")
        iam.delete_user(UserName="early-gone")
        west = up.client("kms", region="us-west-2", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        eventually(west.list_keys)
        self.assertEqual(up.stop(), 0, up.output_tail())

        # Same data directory, a third region.
        up3 = MeridianProcess(data_dir=up.data_dir, port=up.port, regions=REGIONS)
        self.addCleanup(up3.cleanup)
        up3.start()
        eu = up3.client("kms", region="eu-west-1", access_key=key["AccessKeyId"],
                        secret_key=key["SecretAccessKey"])
        made = eventually(lambda: eu.create_key(Description="carol in eu-west-1"))["KeyMetadata"]
        self.assertEqual(made["Arn"].split(":")[3], "eu-west-1")
        blob = eu.encrypt(KeyId=made["KeyId"], Plaintext=b"joined later")["CiphertextBlob"]
        self.assertEqual(eu.decrypt(CiphertextBlob=blob)["Plaintext"], b"joined later")
        with self.assertRaises(botocore.exceptions.ClientError) as denied:  # her policy holds there too
            eu.schedule_key_deletion(KeyId=made["KeyId"], PendingWindowInDays=7)
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")
        eu_iam = up3.client("iam", region="eu-west-1", endpoint_url=up3.region_endpoint("eu-west-1"))
        self.assertEqual(eu_iam.get_user(UserName="early-carol")["User"]["UserName"], "early-carol")
        with self.assertRaises(botocore.exceptions.ClientError) as gone:
            eu_iam.get_user(UserName="early-gone")
        self.assertEqual(gone.exception.response["Error"]["Code"], "NoSuchEntity")
        self.assertEqual(up3.stop(), 0, up3.output_tail())


if __name__ == "__main__":
    unittest.main()
