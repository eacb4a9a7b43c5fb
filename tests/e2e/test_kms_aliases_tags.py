"""KMS aliases (CreateAlias, UpdateAlias, DeleteAlias, ListAliases), tags (TagResource,
UntagResource, ListResourceTags) and the key / alias ARN formats, through boto3."""

import datetime
import unittest

from meridian_harness import MeridianTestCase, utcnow

UNKNOWN_KEY = "11111111-2222-3333-4444-555555555555"


class AliasTest(MeridianTestCase):

    def aliases_for(self, key_id=None):
        kwargs = {"KeyId": key_id} if key_id else {}
        return {a["AliasName"]: a for a in self.kms.list_aliases(**kwargs)["Aliases"]}

    def test_create_and_list_alias(self):
        md = self.create_key()
        before = utcnow() - datetime.timedelta(seconds=5)
        self.kms.create_alias(AliasName="alias/e2e/app-key_1", TargetKeyId=md["KeyId"])
        entry = self.aliases_for()["alias/e2e/app-key_1"]
        self.assertEqual(entry["AliasArn"], self.alias_arn("alias/e2e/app-key_1"))
        self.assertEqual(entry["AliasArn"],
                         f"arn:aws:kms:{self.region}:{self.account_id}:alias/e2e/app-key_1")
        self.assertEqual(entry["TargetKeyId"], md["KeyId"])
        self.assertGreaterEqual(entry["CreationDate"], before)
        self.assertGreaterEqual(entry["LastUpdatedDate"], entry["CreationDate"])

    def test_alias_target_may_be_given_as_arn(self):
        md = self.create_key()
        self.kms.create_alias(AliasName="alias/e2e-by-arn", TargetKeyId=md["Arn"])
        self.assertEqual(self.aliases_for()["alias/e2e-by-arn"]["TargetKeyId"], md["KeyId"])

    def test_list_aliases_filtered_by_key(self):
        a = self.create_key()
        b = self.create_key()
        self.kms.create_alias(AliasName="alias/e2e-filter-a1", TargetKeyId=a["KeyId"])
        self.kms.create_alias(AliasName="alias/e2e-filter-a2", TargetKeyId=a["KeyId"])
        self.kms.create_alias(AliasName="alias/e2e-filter-b1", TargetKeyId=b["KeyId"])
        self.assertEqual(set(self.aliases_for(a["KeyId"])), {"alias/e2e-filter-a1",
                                                             "alias/e2e-filter-a2"})
        self.assertEqual(set(self.aliases_for(b["Arn"])), {"alias/e2e-filter-b1"})
        self.assertEqual(self.aliases_for(self.create_key()["KeyId"]), {})

    def test_list_aliases_pagination(self):
        md = self.create_key()
        names = {f"alias/e2e-page-{i}" for i in range(5)}
        for name in names:
            self.kms.create_alias(AliasName=name, TargetKeyId=md["KeyId"])
        seen = []
        marker = None
        for _ in range(10):
            kwargs = {"KeyId": md["KeyId"], "Limit": 2}
            if marker:
                kwargs["Marker"] = marker
            page = self.kms.list_aliases(**kwargs)
            self.assertLessEqual(len(page["Aliases"]), 2)
            seen.extend(a["AliasName"] for a in page["Aliases"])
            if not page["Truncated"]:
                break
            marker = page["NextMarker"]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), names)

    def test_alias_resolves_in_crypto_operations(self):
        md = self.create_key()
        self.kms.create_alias(AliasName="alias/e2e-crypto-alias", TargetKeyId=md["KeyId"])
        enc = self.kms.encrypt(KeyId="alias/e2e-crypto-alias", Plaintext=b"via alias")
        self.assertEqual(enc["KeyId"], md["Arn"])
        enc2 = self.kms.encrypt(KeyId=self.alias_arn("alias/e2e-crypto-alias"), Plaintext=b"arn")
        self.assertEqual(enc2["KeyId"], md["Arn"])
        dk = self.kms.generate_data_key(KeyId="alias/e2e-crypto-alias", KeySpec="AES_128")
        self.assertEqual(dk["KeyId"], md["Arn"])

    def test_create_alias_errors(self):
        md = self.create_key()
        self.kms.create_alias(AliasName="alias/e2e-dup", TargetKeyId=md["KeyId"])
        with self.assertAwsError("AlreadyExistsException", status=400):
            self.kms.create_alias(AliasName="alias/e2e-dup", TargetKeyId=md["KeyId"])
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.create_alias(AliasName="alias/e2e-nokey", TargetKeyId=UNKNOWN_KEY)
        # AWS: 'Alias must start with the prefix "alias/"'.
        with self.assertAwsError("ValidationException", status=400):
            self.kms.create_alias(AliasName="e2e-no-prefix", TargetKeyId=md["KeyId"])
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.create_alias(AliasName="alias/bad name!", TargetKeyId=md["KeyId"])
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.create_alias(AliasName="alias/e2e-missing-target")

    def test_reserved_aws_prefix_is_refused(self):
        # alias/aws/ is reserved for AWS managed keys. AWS answers NotAuthorizedException (moto
        # 5.2.1 mirrors that); the error is not in botocore's model, so it arrives as a
        # generic ClientError with that code.
        md = self.create_key()
        for name in ("alias/aws/e2e", "alias/aws/s3"):
            with self.subTest(alias=name):
                with self.assertAwsError("NotAuthorizedException"):
                    self.kms.create_alias(AliasName=name, TargetKeyId=md["KeyId"])
        self.assertFalse(self.aliases_for(md["KeyId"]))

    def test_update_alias_retargets(self):
        a = self.create_key()
        b = self.create_key()
        self.kms.create_alias(AliasName="alias/e2e-move", TargetKeyId=a["KeyId"])
        created = self.aliases_for()["alias/e2e-move"]
        self.kms.update_alias(AliasName="alias/e2e-move", TargetKeyId=b["KeyId"])
        moved = self.aliases_for()["alias/e2e-move"]
        self.assertEqual(moved["TargetKeyId"], b["KeyId"])
        self.assertEqual(moved["CreationDate"], created["CreationDate"])
        self.assertGreaterEqual(moved["LastUpdatedDate"], created["LastUpdatedDate"])
        self.assertEqual(self.kms.encrypt(KeyId="alias/e2e-move", Plaintext=b"m")["KeyId"], b["Arn"])
        self.assertEqual(self.kms.describe_key(KeyId="alias/e2e-move")["KeyMetadata"]["KeyId"],
                         b["KeyId"])
        with self.assertAwsError("NotFoundException"):
            self.kms.update_alias(AliasName="alias/e2e-never-created", TargetKeyId=b["KeyId"])
        with self.assertAwsError("NotFoundException"):
            self.kms.update_alias(AliasName="alias/e2e-move", TargetKeyId=UNKNOWN_KEY)

    def test_delete_alias(self):
        md = self.create_key()
        self.kms.create_alias(AliasName="alias/e2e-delete", TargetKeyId=md["KeyId"])
        self.kms.delete_alias(AliasName="alias/e2e-delete")
        self.assertNotIn("alias/e2e-delete", self.aliases_for())
        with self.assertAwsError("NotFoundException"):
            self.kms.describe_key(KeyId="alias/e2e-delete")
        with self.assertAwsError("NotFoundException"):
            self.kms.encrypt(KeyId="alias/e2e-delete", Plaintext=b"x")
        with self.assertAwsError("NotFoundException"):
            self.kms.delete_alias(AliasName="alias/e2e-delete")
        # The key itself is unaffected, and the name can be reused.
        self.assertEqual(self.kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["KeyState"],
                         "Enabled")
        self.kms.create_alias(AliasName="alias/e2e-delete", TargetKeyId=md["KeyId"])

    def test_alias_to_pending_deletion_key(self):
        md = self.create_key()
        self.kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
        with self.assertAwsError("KMSInvalidStateException"):
            self.kms.create_alias(AliasName="alias/e2e-pending", TargetKeyId=md["KeyId"])


class TagTest(MeridianTestCase):

    def tags(self, key_id):
        resp = self.kms.list_resource_tags(KeyId=key_id)
        self.assertIs(resp["Truncated"], False)
        return {t["TagKey"]: t["TagValue"] for t in resp["Tags"]}

    def test_tag_untag_list(self):
        md = self.create_key()
        self.assertEqual(self.tags(md["KeyId"]), {})
        self.kms.tag_resource(KeyId=md["KeyId"], Tags=[
            {"TagKey": "owner", "TagValue": "alice"},
            {"TagKey": "cost-center", "TagValue": "42"},
            {"TagKey": "empty", "TagValue": ""},
        ])
        self.assertEqual(self.tags(md["KeyId"]),
                         {"owner": "alice", "cost-center": "42", "empty": ""})
        # Tagging an existing key replaces its value.
        self.kms.tag_resource(KeyId=md["Arn"], Tags=[{"TagKey": "owner", "TagValue": "bob"}])
        self.assertEqual(self.tags(md["Arn"])["owner"], "bob")
        self.kms.untag_resource(KeyId=md["KeyId"], TagKeys=["owner", "not-there"])
        self.assertEqual(self.tags(md["KeyId"]), {"cost-center": "42", "empty": ""})
        self.kms.untag_resource(KeyId=md["KeyId"], TagKeys=["cost-center", "empty"])
        self.assertEqual(self.tags(md["KeyId"]), {})

    def test_tags_are_per_key(self):
        a = self.create_key(Tags=[{"TagKey": "k", "TagValue": "a"}])
        b = self.create_key(Tags=[{"TagKey": "k", "TagValue": "b"}])
        self.assertEqual(self.tags(a["KeyId"]), {"k": "a"})
        self.assertEqual(self.tags(b["KeyId"]), {"k": "b"})

    def test_tag_errors(self):
        md = self.create_key()
        with self.assertAwsError("TagException", status=400):
            self.kms.tag_resource(KeyId=md["KeyId"], Tags=[{"TagKey": "aws:reserved",
                                                            "TagValue": "x"}])
        with self.assertAwsError("TagException", status=400):
            self.kms.create_key(Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.tag_resource(KeyId=UNKNOWN_KEY, Tags=[{"TagKey": "a", "TagValue": "b"}])
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.list_resource_tags(KeyId=UNKNOWN_KEY)
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.untag_resource(KeyId=UNKNOWN_KEY, TagKeys=["a"])
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.tag_resource(KeyId=md["KeyId"])
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.tag_resource(KeyId=md["KeyId"],
                                      Tags=[{"TagKey": "k" * 129, "TagValue": "v"}])
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.tag_resource(KeyId=md["KeyId"],
                                      Tags=[{"TagKey": "k", "TagValue": "v" * 257}])
        self.assertEqual(self.tags(md["KeyId"]), {})


if __name__ == "__main__":
    unittest.main()
