"""KMS key management through boto3: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
UpdateKeyDescription, ScheduleKeyDeletion, CancelKeyDeletion, and the key states they move
between. Expected names, fields and errors follow botocore's KMS model (2014-11-01) and the AWS
KMS API reference."""

import datetime
import json
import re
import unittest

from meridian_harness import MeridianTestCase, utcnow

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def policy_document(account_id, sid="Enable IAM User Permissions"):
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "key-policy-e2e",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }],
    })


class CreateAndDescribeKeyTest(MeridianTestCase):

    def test_create_key_returns_full_default_metadata(self):
        before = utcnow() - datetime.timedelta(seconds=5)
        md = self.create_key()
        after = utcnow() + datetime.timedelta(seconds=5)
        self.assertRegex(md["KeyId"], UUID_RE)
        self.assertEqual(md["Arn"], self.key_arn(md["KeyId"]))
        self.assertEqual(md["AWSAccountId"], self.account_id)
        self.assertTrue(before <= md["CreationDate"] <= after, md["CreationDate"])
        self.assertIs(md["Enabled"], True)
        self.assertEqual(md["KeyState"], "Enabled")
        self.assertEqual(md["Description"], "")
        self.assertEqual(md["KeyUsage"], "ENCRYPT_DECRYPT")
        self.assertEqual(md["KeySpec"], "SYMMETRIC_DEFAULT")
        self.assertEqual(md["CustomerMasterKeySpec"], "SYMMETRIC_DEFAULT")
        self.assertEqual(md["EncryptionAlgorithms"], ["SYMMETRIC_DEFAULT"])
        self.assertEqual(md["Origin"], "AWS_KMS")
        self.assertEqual(md["KeyManager"], "CUSTOMER")
        self.assertIs(md["MultiRegion"], False)
        self.assertNotIn("DeletionDate", md)

    def test_describe_key_matches_create_key(self):
        created = self.create_key(Description="describe me")
        described = self.kms.describe_key(KeyId=created["KeyId"])["KeyMetadata"]
        self.assertEqual(described, created)

    def test_describe_key_accepts_id_arn_alias_and_alias_arn(self):
        md = self.create_key()
        alias = "alias/e2e-describe-forms"
        self.kms.create_alias(AliasName=alias, TargetKeyId=md["KeyId"])
        for key_ref in (md["KeyId"], md["Arn"], alias, self.alias_arn(alias)):
            with self.subTest(key_ref=key_ref):
                got = self.kms.describe_key(KeyId=key_ref)["KeyMetadata"]
                self.assertEqual(got["KeyId"], md["KeyId"])
                self.assertEqual(got["Arn"], md["Arn"])

    def test_describe_unknown_key_is_not_found(self):
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.describe_key(KeyId=self.key_arn("11111111-2222-3333-4444-555555555555"))
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.describe_key(KeyId="alias/e2e-no-such-alias")

    def test_describe_key_requires_key_id(self):
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.describe_key()

    def test_create_key_stores_description_tags_and_policy(self):
        tags = [{"TagKey": "team", "TagValue": "platform"},
                {"TagKey": "env", "TagValue": "test"}]
        policy = policy_document(self.account_id, sid="e2e-create")
        md = self.create_key(Description="payments key", Tags=tags, Policy=policy)
        self.assertEqual(md["Description"], "payments key")
        described = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertEqual(described["Description"], "payments key")
        got_tags = self.kms.list_resource_tags(KeyId=md["KeyId"])["Tags"]
        self.assertCountEqual(got_tags, tags)
        got_policy = self.kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"]
        self.assertEqual(json.loads(got_policy), json.loads(policy))

    def test_create_key_accepts_explicit_symmetric_usage_and_spec(self):
        md = self.create_key(KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")
        self.assertEqual(md["KeySpec"], "SYMMETRIC_DEFAULT")
        md = self.create_key(CustomerMasterKeySpec="SYMMETRIC_DEFAULT")
        self.assertEqual(md["CustomerMasterKeySpec"], "SYMMETRIC_DEFAULT")

    def test_create_key_rejects_incompatible_or_unknown_usage_and_spec(self):
        # AWS: "KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT".
        with self.assertAwsError("ValidationException", status=400):
            self.kms.create_key(KeyUsage="SIGN_VERIFY")
        with self.assertAwsError("ValidationException", status=400):
            self.kms.create_key(KeyUsage="GENERATE_VERIFY_MAC", KeySpec="SYMMETRIC_DEFAULT")
        # Values outside the model's enums fail validation.
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.create_key(KeySpec="AES_999")
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.create_key(KeyUsage="ENCRYPT_EVERYTHING")

    def test_create_key_rejects_malformed_policy(self):
        with self.assertAwsError("MalformedPolicyDocumentException", status=400):
            self.kms.create_key(Policy="{ this is not json")

    def test_create_key_rejects_oversized_description(self):
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.create_key(Description="d" * 8193)

    def test_update_key_description(self):
        md = self.create_key(Description="before")
        self.kms.update_key_description(KeyId=md["KeyId"], Description="after")
        got = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertEqual(got["Description"], "after")
        self.kms.update_key_description(KeyId=md["Arn"], Description="")
        got = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertEqual(got["Description"], "")
        with self.assertAwsError("NotFoundException"):
            self.kms.update_key_description(KeyId="11111111-2222-3333-4444-555555555555",
                                            Description="x")
        with self.assertAwsError("ValidationException"):
            self.kms_raw.update_key_description(KeyId=md["KeyId"])


class ListKeysTest(MeridianTestCase):
    """Runs on its own server so that the account holds exactly the keys created here."""

    def test_list_keys_pagination(self):
        created = {}
        for i in range(7):
            md = self.create_key(Description=f"list-{i}")
            created[md["KeyId"]] = md["Arn"]

        everything = self.kms.list_keys()
        self.assertIs(everything["Truncated"], False)
        self.assertNotIn("NextMarker", everything)
        self.assertEqual({k["KeyId"]: k["KeyArn"] for k in everything["Keys"]}, created)

        seen = []
        pages = 0
        marker = None
        while True:
            kwargs = {"Limit": 3}
            if marker:
                kwargs["Marker"] = marker
            page = self.kms.list_keys(**kwargs)
            pages += 1
            self.assertLessEqual(len(page["Keys"]), 3)
            seen.extend(k["KeyId"] for k in page["Keys"])
            if not page["Truncated"]:
                self.assertNotIn("NextMarker", page)
                break
            self.assertTrue(page.get("NextMarker"), "Truncated page without NextMarker")
            marker = page["NextMarker"]
            self.assertLess(pages, 10, "pagination does not terminate")
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), len(set(seen)), f"duplicates across pages: {seen}")
        self.assertEqual(set(seen), set(created))

        single = self.kms.list_keys(Limit=1)
        self.assertEqual(len(single["Keys"]), 1)
        self.assertIs(single["Truncated"], True)

    def test_list_keys_rejects_bad_limit_and_marker(self):
        for limit in (0, 1001):
            with self.subTest(limit=limit):
                with self.assertAwsError("ValidationException", status=400):
                    self.kms_raw.list_keys(Limit=limit)
        with self.assertAwsError("InvalidMarkerException", status=400):
            self.kms.list_keys(Marker="not-a-marker-this-server-issued")


class EnableDisableTest(MeridianTestCase):

    def test_disable_and_enable(self):
        md = self.create_key()
        blob = self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"secret")["CiphertextBlob"]

        self.kms.disable_key(KeyId=md["KeyId"])
        got = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertIs(got["Enabled"], False)
        self.assertEqual(got["KeyState"], "Disabled")

        with self.assertAwsError("DisabledException", status=400):
            self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")
        with self.assertAwsError("DisabledException", status=400):
            self.kms.decrypt(CiphertextBlob=blob)
        with self.assertAwsError("DisabledException", status=400):
            self.kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256")
        with self.assertAwsError("DisabledException", status=400):
            self.kms.generate_data_key_without_plaintext(KeyId=md["KeyId"], KeySpec="AES_256")
        other = self.create_key()
        with self.assertAwsError("DisabledException", status=400):
            self.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other["KeyId"])
        other_blob = self.kms.encrypt(KeyId=other["KeyId"], Plaintext=b"y")["CiphertextBlob"]
        with self.assertAwsError("DisabledException", status=400):
            self.kms.re_encrypt(CiphertextBlob=other_blob, DestinationKeyId=md["KeyId"])

        # Management operations still work on a disabled key.
        self.kms.update_key_description(KeyId=md["KeyId"], Description="disabled")
        self.kms.describe_key(KeyId=md["KeyId"])

        self.kms.enable_key(KeyId=md["KeyId"])
        got = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertIs(got["Enabled"], True)
        self.assertEqual(got["KeyState"], "Enabled")
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"secret")

    def test_enable_disable_are_idempotent(self):
        md = self.create_key()
        self.kms.enable_key(KeyId=md["KeyId"])
        self.kms.disable_key(KeyId=md["KeyId"])
        self.kms.disable_key(KeyId=md["KeyId"])
        self.assertEqual(self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["KeyState"],
                         "Disabled")

    def test_enable_disable_unknown_key(self):
        with self.assertAwsError("NotFoundException"):
            self.kms.disable_key(KeyId="11111111-2222-3333-4444-555555555555")
        with self.assertAwsError("NotFoundException"):
            self.kms.enable_key(KeyId="11111111-2222-3333-4444-555555555555")


class KeyDeletionTest(MeridianTestCase):

    def assertDeletionDate(self, deletion_date, days):
        expected = utcnow() + datetime.timedelta(days=days)
        self.assertLess(abs(deletion_date - expected), datetime.timedelta(days=1),
                        f"DeletionDate {deletion_date} is not ~{days} days from now")

    def test_schedule_defaults_to_30_days(self):
        md = self.create_key()
        resp = self.kms.schedule_key_deletion(KeyId=md["KeyId"])
        self.assertEqual(resp["KeyId"], md["Arn"])
        self.assertEqual(resp["KeyState"], "PendingDeletion")
        self.assertEqual(resp["PendingWindowInDays"], 30)
        self.assertDeletionDate(resp["DeletionDate"], 30)

    def test_schedule_window_bounds(self):
        for days in (7, 30):
            with self.subTest(days=days):
                md = self.create_key()
                resp = self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=days)
                self.assertEqual(resp["PendingWindowInDays"], days)
                self.assertDeletionDate(resp["DeletionDate"], days)
        for days in (6, 31, 0, 366):
            with self.subTest(days=days):
                md = self.create_key()
                with self.assertAwsError("ValidationException", status=400):
                    self.kms_raw.schedule_key_deletion(KeyId=md["KeyId"],
                                                       PendingWindowInDays=days)
                self.assertEqual(
                    self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["KeyState"],
                    "Enabled")

    def test_pending_deletion_key_rejects_use(self):
        md = self.create_key()
        blob = self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"doomed")["CiphertextBlob"]
        self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)

        got = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertEqual(got["KeyState"], "PendingDeletion")
        self.assertIs(got["Enabled"], False)
        # PendingDeletionWindowInDays is only for multi-Region primaries in
        # PendingReplicaDeletion; a single-Region key shows its DeletionDate.
        self.assertNotIn("PendingDeletionWindowInDays", got)
        self.assertDeletionDate(got["DeletionDate"], 7)

        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.decrypt(CiphertextBlob=blob)
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.generate_data_key(KeyId=md["KeyId"], KeySpec="AES_256")
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.generate_data_key_without_plaintext(KeyId=md["KeyId"], NumberOfBytes=16)
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.enable_key(KeyId=md["KeyId"])
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.disable_key(KeyId=md["KeyId"])
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.enable_key_rotation(KeyId=md["KeyId"])
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.update_key_description(KeyId=md["KeyId"], Description="x")

    def test_cancel_deletion_leaves_key_disabled(self):
        md = self.create_key()
        blob = self.kms.encrypt(KeyId=md["KeyId"], Plaintext=b"saved")["CiphertextBlob"]
        self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=10)
        resp = self.kms.cancel_key_deletion(KeyId=md["KeyId"])
        self.assertEqual(resp["KeyId"], md["Arn"])
        got = self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        self.assertEqual(got["KeyState"], "Disabled")
        self.assertIs(got["Enabled"], False)
        self.assertNotIn("DeletionDate", got)
        self.assertNotIn("PendingDeletionWindowInDays", got)
        with self.assertAwsError("DisabledException"):
            self.kms.decrypt(CiphertextBlob=blob)
        self.kms.enable_key(KeyId=md["KeyId"])
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"saved")

    def test_cancel_deletion_of_key_not_pending(self):
        md = self.create_key()
        with self.assertAwsError("KMSInvalidStateException", status=400):
            self.kms.cancel_key_deletion(KeyId=md["KeyId"])

    def test_schedule_deletion_unknown_key(self):
        with self.assertAwsError("NotFoundException"):
            self.kms.schedule_key_deletion(KeyId="11111111-2222-3333-4444-555555555555")

    def test_disabled_key_can_be_scheduled_for_deletion(self):
        md = self.create_key()
        self.kms.disable_key(KeyId=md["KeyId"])
        resp = self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
        self.assertEqual(resp["KeyState"], "PendingDeletion")


if __name__ == "__main__":
    unittest.main()
