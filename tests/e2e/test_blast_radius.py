"""`meridian analyze blast-radius` on a two-region `meridian up` (scenario S7: "if an attacker
holds this credential, what can they do in each region?").

An over-broad role (kms:* on * through an identity policy) is assumed with boto3 STS; its session
credential reaches every key of both regions, except a key whose key policy explicitly denies the
role. A least-privilege user limited to one key with aws:RequestedRegion reaches that key in its
region and nothing else. Each region answers with its own authorizer (the one that guards real
requests), and the verdicts are cross-checked against real KMS calls.
"""

import json
import subprocess
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

from meridian_harness import MeridianProcess, meridian_binary

REGIONS = ["us-east-1", "eu-west-1"]
HOME = "us-east-1"
TIMEOUT_S = 30.0


def eventually(fn, timeout=TIMEOUT_S):
    """fn() until it returns without raising; its last exception after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


class BlastRadiusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = MeridianProcess(regions=REGIONS)
        try:
            cls.up.start()
            cls._make_world()
        except Exception:
            cls.up.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.up.cleanup()

    @classmethod
    def _make_world(cls):
        up = cls.up
        account = up.account_id()
        cls.account = account
        iam = up.client("iam", region=HOME)
        # Keys: one per region with the default key policy, and one in the home region whose key
        # policy explicitly denies the over-broad role.
        # Right after start a region may not answer through the edge yet: the first call retries.
        cls.keys = {r: eventually(lambda: up.client("kms", region=r).create_key(Description=f"app {r}"))
                    ["KeyMetadata"]["Arn"] for r in REGIONS}
        cls.other_key = up.client("kms", region=HOME).create_key(Description="other")["KeyMetadata"]["Arn"]
        role_arn = f"arn:aws:iam::{account}:role/broad-role"
        fenced_policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Enable IAM policies", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "Not the broad role", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                 "Resource": "*", "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn}}},
            ],
        }
        cls.fenced_key = up.client("kms", region=HOME).create_key(
            Description="fenced", Policy=json.dumps(fenced_policy))["KeyMetadata"]["Arn"]

        # The over-broad role, assumed by a user allowed only to assume it.
        iam.create_role(RoleName="broad-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                           "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName="broad-role", PolicyName="everything-kms", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
        iam.create_user(UserName="assumer")
        iam.put_user_policy(UserName="assumer", PolicyName="assume", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}))
        assumer = iam.create_access_key(UserName="assumer")["AccessKey"]
        sts = up.client("sts", region=HOME, access_key=assumer["AccessKeyId"], secret_key=assumer["SecretAccessKey"])
        cls.session = eventually(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="analysis"))["Credentials"]

        # The least-privilege user: Encrypt/Decrypt with one key, only in its region.
        iam.create_user(UserName="narrow")
        iam.put_user_policy(UserName="narrow", PolicyName="one-key", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": cls.keys[HOME],
                           "Condition": {"StringEquals": {"aws:RequestedRegion": HOME}}}]}))
        cls.narrow = iam.create_access_key(UserName="narrow")["AccessKey"]
        cls.narrow_arn = f"arn:aws:iam::{account}:user/narrow"

    def analyze(self, *args, json_output=True):
        cmd = [meridian_binary(), "analyze", "blast-radius", "--data-dir", self.up.data_dir, *args]
        if json_output:
            cmd.append("--json")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout) if json_output else out.stdout

    def analyze_everywhere(self, *args):
        """The analysis once every region knows the principal (IAM changes and STS sessions
        replicate from the home region)."""
        def ready():
            result = self.analyze(*args)
            for r in result["Regions"]:
                if "Answer" not in r:
                    raise AssertionError(f"{r['Region']}: {r.get('Error')}")
            return result
        return eventually(ready)

    @staticmethod
    def allowed(result):
        """{region: {resource arn: [allowed actions]}} for resources with any allowed action."""
        out = {}
        for r in result["Regions"]:
            out[r["Region"]] = {res["ResourceArn"]: res["Allowed"]
                                for res in r["Answer"]["Resources"] if res["Allowed"]}
        return out

    @staticmethod
    def denied(result, region, arn):
        for r in result["Regions"]:
            if r["Region"] == region:
                for res in r["Answer"]["Resources"]:
                    if res["ResourceArn"] == arn:
                        return res["ExplicitlyDenied"]
        return None

    def test_over_broad_role_reaches_every_region_except_the_explicitly_denied_key(self):
        result = self.analyze_everywhere("--access-key-id", self.session["AccessKeyId"])
        allowed = self.allowed(result)
        for region in REGIONS:
            answer = next(r["Answer"] for r in result["Regions"] if r["Region"] == region)
            self.assertEqual(answer["PrincipalArn"],
                             f"arn:aws:sts::{self.account}:assumed-role/broad-role/analysis")
            self.assertIn("kms:Decrypt", allowed[region][self.keys[region]])
            self.assertIn("kms:ScheduleKeyDeletion", allowed[region][self.keys[region]])
            self.assertIn("kms:CreateKey", allowed[region]["*"])
            self.assertNotIn("iam:CreateUser", allowed[region]["*"])
        self.assertIn("kms:PutKeyPolicy", allowed[HOME][self.other_key])
        # The explicit deny in the fenced key's policy removes that key, and says so.
        self.assertNotIn(self.fenced_key, allowed[HOME])
        self.assertIn("kms:Decrypt", self.denied(result, HOME, self.fenced_key))
        self.assertEqual(result["Summary"]["KeysUsableForDecrypt"], 3)
        self.assertEqual(result["Summary"]["RegionsWithDecrypt"], 2)

        # Real requests agree.
        kms = boto3.session.Session().client(
            "kms", endpoint_url=self.up.endpoint, region_name=HOME, aws_access_key_id=self.session["AccessKeyId"],
            aws_secret_access_key=self.session["SecretAccessKey"], aws_session_token=self.session["SessionToken"],
            config=botocore.config.Config(retries={"total_max_attempts": 1}))
        kms.encrypt(KeyId=self.keys[HOME], Plaintext=b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as denied:
            kms.encrypt(KeyId=self.fenced_key, Plaintext=b"x")
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_least_privilege_user_reaches_one_key_in_one_region(self):
        result = self.analyze_everywhere("--principal", self.narrow_arn)
        allowed = self.allowed(result)
        self.assertEqual(allowed[HOME], {self.keys[HOME]: ["kms:Encrypt", "kms:Decrypt"]})
        self.assertEqual(allowed["eu-west-1"], {})
        self.assertEqual(result["Summary"]["KeysUsableForDecrypt"], 1)
        self.assertEqual(result["Summary"]["RegionsWithDecrypt"], 1)
        self.assertEqual(result["Summary"]["AccountLevelActions"], [])

        # The table names the key and the summary counts it.
        table = self.analyze("--access-key-id", self.narrow["AccessKeyId"], json_output=False)
        self.assertIn(self.keys[HOME], table)
        self.assertIn("Summary: 1 key(s) usable for kms:Decrypt in 1 region(s)", table)

        # Real requests agree.
        kms = self.up.client("kms", region=HOME, access_key=self.narrow["AccessKeyId"],
                             secret_key=self.narrow["SecretAccessKey"])
        kms.encrypt(KeyId=self.keys[HOME], Plaintext=b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as denied:
            kms.encrypt(KeyId=self.other_key, Plaintext=b"x")
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_unknown_credential_is_reported(self):
        out = subprocess.run([meridian_binary(), "analyze", "blast-radius", "--data-dir", self.up.data_dir,
                              "--access-key-id", "AKIANOSUCHKEY0000000"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("unknown, inactive or expired", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
