"""Key policies are enforced on every KMS request by the IAM policy engine (issue 3, scenario S3).

The credentials here are the account's root credentials: root needs no identity policy but is
still subject to the key policy (AWS KMS developer guide, "Key policies": a key policy that does
not allow the account cannot be overridden by IAM; an explicit Deny always wins).
"""

import json
import unittest

from meridian_harness import MeridianTestCase


def policy(account, *statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        *statements]})


class KeyPolicyEnforcementTest(MeridianTestCase):

    def test_default_policy_allows_the_account(self):
        key = self.create_key()["KeyId"]
        blob = self.kms.encrypt(KeyId=key, Plaintext=b"ok")["CiphertextBlob"]
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"ok")

    def test_explicit_deny_wins_and_names_the_policy(self):
        key = self.create_key()["KeyId"]
        self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy(self.account_id, {
            "Sid": "NoEncrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt",
            "Resource": "*"}))
        with self.assertAwsError("AccessDeniedException", status=400,
                                 message_contains="explicit deny in a resource-based policy"):
            self.kms.encrypt(KeyId=key, Plaintext=b"x")
        # Other actions are still allowed by the account statement.
        self.kms.describe_key(KeyId=key)

    def test_reencrypt_needs_reencrypt_from_on_the_source_key_and_to_on_the_destination(self):
        # KMS API reference, ReEncrypt: "requires two permissions": kms:ReEncryptFrom on the
        # source key and kms:ReEncryptTo on the destination key, each decided by its own policy.
        source, destination = self.create_key()["KeyId"], self.create_key()["KeyId"]
        blob = self.kms.encrypt(KeyId=source, Plaintext=b"moving")["CiphertextBlob"]
        self.kms.put_key_policy(KeyId=source, PolicyName="default", Policy=policy(self.account_id, {
            "Sid": "NoReEncryptFrom", "Effect": "Deny", "Principal": "*", "Action": "kms:ReEncryptFrom",
            "Resource": "*"}))
        with self.assertAwsError("AccessDeniedException", message_contains="kms:ReEncryptFrom"):
            self.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
        self.kms.put_key_policy(KeyId=source, PolicyName="default", Policy=policy(self.account_id))
        self.kms.put_key_policy(KeyId=destination, PolicyName="default", Policy=policy(self.account_id, {
            "Sid": "NoReEncryptTo", "Effect": "Deny", "Principal": "*", "Action": "kms:ReEncryptTo",
            "Resource": "*"}))
        with self.assertAwsError("AccessDeniedException", message_contains="kms:ReEncryptTo"):
            self.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
        self.kms.put_key_policy(KeyId=destination, PolicyName="default", Policy=policy(self.account_id))
        moved = self.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)["CiphertextBlob"]
        self.assertEqual(self.kms.decrypt(CiphertextBlob=moved)["Plaintext"], b"moving")

    def test_region_pinned_key_policy_denies_other_regions(self):
        # Seed 000's pattern: the key may be used only when the request targets us-west-2. This
        # server is us-east-1, so a credential used here is refused.
        key = self.create_key()["KeyId"]
        self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy(self.account_id, {
            "Sid": "PinRegion", "Effect": "Deny", "Principal": "*",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-west-2"}}}))
        with self.assertAwsError("AccessDeniedException", message_contains="kms:GenerateDataKey"):
            self.kms.generate_data_key(KeyId=key, KeySpec="AES_256")

    def test_encryption_context_condition(self):
        key = self.create_key()["KeyId"]
        self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy(self.account_id, {
            "Sid": "TenantOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"kms:EncryptionContext:tenant": "acme"}}}))
        good = self.kms.encrypt(KeyId=key, Plaintext=b"a", EncryptionContext={"tenant": "acme"})
        other = self.kms.encrypt(KeyId=key, Plaintext=b"b", EncryptionContext={"tenant": "evil"})
        self.assertEqual(self.kms.decrypt(CiphertextBlob=good["CiphertextBlob"],
                                          EncryptionContext={"tenant": "acme"})["Plaintext"], b"a")
        with self.assertAwsError("AccessDeniedException"):
            self.kms.decrypt(CiphertextBlob=other["CiphertextBlob"], EncryptionContext={"tenant": "evil"})

    def test_policy_without_the_account_denies_even_root(self):
        key = self.create_key()["KeyId"]
        only_someone_else = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
             "Action": "kms:*", "Resource": "*"}]})
        self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=only_someone_else,
                                BypassPolicyLockoutSafetyCheck=True)
        with self.assertAwsError("AccessDeniedException"):
            self.kms.encrypt(KeyId=key, Plaintext=b"x")

    def test_lockout_safety_check_refuses_a_policy_that_locks_the_caller_out(self):
        # KMS API reference, PutKeyPolicy / CreateKey BypassPolicyLockoutSafetyCheck: the new policy
        # must let the caller make a later PutKeyPolicy request, unless the check is bypassed.
        key = self.create_key()["KeyId"]
        locked_out = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
             "Action": "kms:*", "Resource": "*"}]})
        with self.assertAwsError("MalformedPolicyDocumentException",
                                 message_contains="will not allow you to update the key policy"):
            self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=locked_out)
        with self.assertAwsError("MalformedPolicyDocumentException",
                                 message_contains="will not allow you to update the key policy"):
            self.kms.create_key(Policy=locked_out)
        # Nothing changed: the account statement still applies.
        self.kms.encrypt(KeyId=key, Plaintext=b"still mine")
        # A policy that keeps kms:PutKeyPolicy for the account passes the check.
        self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy(self.account_id))

    def test_malformed_policy_is_refused_with_a_precise_message(self):
        key = self.create_key()["KeyId"]
        with self.assertAwsError("MalformedPolicyDocumentException", message_contains="Statement"):
            self.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*",
                                                        "Resource": "*"}]}))


if __name__ == "__main__":
    unittest.main()
