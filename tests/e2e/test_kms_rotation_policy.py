"""Key rotation (EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
ListKeyRotations) and key policies (GetKeyPolicy, PutKeyPolicy, ListKeyPolicies) through boto3."""

import datetime
import json
import unittest

from meridian_harness import MeridianTestCase, utcnow

UNKNOWN_KEY = "11111111-2222-3333-4444-555555555555"


class RotationTest(MeridianTestCase):

    def status(self, key_id):
        return self.kms.get_key_rotation_status(KeyId=key_id)

    def assertAbout(self, when, days):
        expected = utcnow() + datetime.timedelta(days=days)
        self.assertLess(abs(when - expected), datetime.timedelta(days=2),
                        f"{when} is not ~{days} days from now")

    def test_rotation_is_off_by_default(self):
        md = self.create_key()
        status = self.status(md["KeyId"])
        self.assertIs(status["KeyRotationEnabled"], False)
        self.assertIn(status["KeyId"], (md["KeyId"], md["Arn"]))
        self.assertEqual(self.kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"], [])

    def test_enable_with_default_and_custom_period(self):
        md = self.create_key()
        self.kms.enable_key_rotation(KeyId=md["KeyId"])
        status = self.status(md["KeyId"])
        self.assertIs(status["KeyRotationEnabled"], True)
        self.assertEqual(status["RotationPeriodInDays"], 365)
        self.assertAbout(status["NextRotationDate"], 365)

        for days in (90, 2560):
            with self.subTest(days=days):
                self.kms.enable_key_rotation(KeyId=md["Arn"], RotationPeriodInDays=days)
                status = self.status(md["KeyId"])
                self.assertIs(status["KeyRotationEnabled"], True)
                self.assertEqual(status["RotationPeriodInDays"], days)
                self.assertAbout(status["NextRotationDate"], days)

        self.kms.disable_key_rotation(KeyId=md["KeyId"])
        self.assertIs(self.status(md["KeyId"])["KeyRotationEnabled"], False)

    def test_rotation_period_bounds(self):
        md = self.create_key()
        for days in (89, 2561, 0, -1):
            with self.subTest(days=days):
                with self.assertAwsError("ValidationException", status=400):
                    self.kms_raw.enable_key_rotation(KeyId=md["KeyId"], RotationPeriodInDays=days)
        self.assertIs(self.status(md["KeyId"])["KeyRotationEnabled"], False)

    def test_rotate_on_demand_keeps_old_ciphertexts_readable(self):
        md = self.create_key()
        ctx = {"generation": "0"}
        before = self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"generation-0",
                                  EncryptionContext=ctx)["CiphertextBlob"]
        data_key = self.kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256")

        resp = self.kms.rotate_key_on_demand(KeyId=md["KeyId"])
        self.assertIn(resp["KeyId"], (md["KeyId"], md["Arn"]))
        middle = self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"generation-1")["CiphertextBlob"]
        self.kms.rotate_key_on_demand(KeyId=md["Arn"])
        after = self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"generation-2")["CiphertextBlob"]

        self.assertEqual(self.kms.decrypt(CiphertextBlob=before, EncryptionContext=ctx)[
            "Plaintext"], b"generation-0")
        self.assertEqual(self.kms.decrypt(CiphertextBlob=middle)["Plaintext"], b"generation-1")
        self.assertEqual(self.kms.decrypt(CiphertextBlob=after)["Plaintext"], b"generation-2")
        self.assertEqual(self.kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"],
                         data_key["Plaintext"])
        # Old ciphertext can be re-encrypted under the current key material.
        fresh = self.kms.re_encrypt(CiphertextBlob=before, SourceEncryptionContext=ctx,
                                    DestinationKeyId=md["KeyId"])["CiphertextBlob"]
        self.assertEqual(self.kms.decrypt(CiphertextBlob=fresh)["Plaintext"], b"generation-0")

        rotations = self.kms.list_key_rotations(KeyId=md["KeyId"])
        self.assertIs(rotations["Truncated"], False)
        self.assertEqual(len(rotations["Rotations"]), 2, rotations["Rotations"])
        for rotation in rotations["Rotations"]:
            self.assertEqual(rotation["RotationType"], "ON_DEMAND")
            self.assertIn(rotation["KeyId"], (md["KeyId"], md["Arn"]))
            self.assertLess(abs(rotation["RotationDate"] - utcnow()), datetime.timedelta(minutes=5))
        # On-demand rotation does not turn automatic rotation on.
        self.assertIs(self.status(md["KeyId"])["KeyRotationEnabled"], False)

    def test_list_key_rotations_pagination(self):
        md = self.create_key()
        for _ in range(3):
            self.kms.rotate_key_on_demand(KeyId=md["KeyId"])
        first = self.kms.list_key_rotations(KeyId=md["KeyId"], Limit=2)
        self.assertEqual(len(first["Rotations"]), 2)
        self.assertIs(first["Truncated"], True)
        second = self.kms.list_key_rotations(KeyId=md["KeyId"], Limit=2,
                                             Marker=first["NextMarker"])
        self.assertEqual(len(second["Rotations"]), 1)
        self.assertIs(second["Truncated"], False)

    def test_rotation_errors(self):
        with self.assertAwsError("NotFoundException"):
            self.kms.enable_key_rotation(KeyId=UNKNOWN_KEY)
        with self.assertAwsError("NotFoundException"):
            self.kms.get_key_rotation_status(KeyId=UNKNOWN_KEY)
        with self.assertAwsError("NotFoundException"):
            self.kms.rotate_key_on_demand(KeyId=UNKNOWN_KEY)
        with self.assertAwsError("NotFoundException"):
            self.kms.list_key_rotations(KeyId=UNKNOWN_KEY)
        md = self.create_key()
        self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
        with self.assertAwsError("KMSInvalidStateException"):
            self.kms.rotate_key_on_demand(KeyId=md["KeyId"])
        with self.assertAwsError("KMSInvalidStateException"):
            self.kms.enable_key_rotation(KeyId=md["KeyId"])


class KeyPolicyTest(MeridianTestCase):

    def policy(self, **extra):
        doc = {
            "Version": "2012-10-17",
            "Id": "e2e-policy",
            "Statement": [{
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }],
        }
        doc.update(extra)
        return json.dumps(doc, indent=2)

    def test_default_policy_grants_the_account(self):
        md = self.create_key()
        resp = self.kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")
        doc = json.loads(resp["Policy"])
        self.assertEqual(doc["Version"], "2012-10-17")
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        root = f"arn:aws:iam::{self.account_id}:root"

        def grants_root(st):
            principal = st.get("Principal", {})
            principals = principal.get("AWS") if isinstance(principal, dict) else principal
            principals = principals if isinstance(principals, list) else [principals]
            actions = st.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            return st.get("Effect") == "Allow" and root in principals and "kms:*" in actions

        self.assertTrue(any(grants_root(st) for st in statements), doc)

    def test_get_key_policy_name_is_optional(self):
        md = self.create_key()
        resp = self.kms.get_key_policy(KeyId=md["KeyId"])
        self.assertEqual(resp.get("PolicyName"), "default")
        json.loads(resp["Policy"])

    def test_put_and_get_policy(self):
        md = self.create_key()
        policy = self.policy()
        self.kms.put_key_policy(KeyId=md["KeyId"], PolicyName="default", Policy=policy)
        got = self.kms.get_key_policy(KeyId=md["Arn"], PolicyName="default")["Policy"]
        self.assertEqual(json.loads(got), json.loads(policy))
        policy2 = self.policy(Id="second")
        self.kms.put_key_policy(KeyId=md["KeyId"], Policy=policy2)
        got = self.kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"]
        self.assertEqual(json.loads(got)["Id"], "second")

    def test_put_malformed_policy(self):
        md = self.create_key()
        original = self.kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"]
        for bad in ("{not json", "[]", "\"a string\"", "{\"Version\": \"2012-10-17\","):
            with self.subTest(policy=bad):
                with self.assertAwsError("MalformedPolicyDocumentException", status=400):
                    self.kms.put_key_policy(KeyId=md["KeyId"], PolicyName="default", Policy=bad)
        self.assertEqual(self.kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")[
            "Policy"], original)
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.put_key_policy(KeyId=md["KeyId"], PolicyName="default")

    def test_list_key_policies(self):
        md = self.create_key()
        resp = self.kms.list_key_policies(KeyId=md["KeyId"])
        self.assertEqual(resp["PolicyNames"], ["default"])
        self.assertIs(resp["Truncated"], False)

    def test_policy_operations_on_unknown_key(self):
        with self.assertAwsError("NotFoundException"):
            self.kms.get_key_policy(KeyId=UNKNOWN_KEY, PolicyName="default")
        with self.assertAwsError("NotFoundException"):
            self.kms.put_key_policy(KeyId=UNKNOWN_KEY, PolicyName="default", Policy=self.policy())
        with self.assertAwsError("NotFoundException"):
            self.kms.list_key_policies(KeyId=UNKNOWN_KEY)


if __name__ == "__main__":
    unittest.main()
