"""KMS grants end to end (issue 3, scenario S9): CreateGrant, ListGrants, ListRetirableGrants,
RetireGrant, RevokeGrant through boto3 and the aws cli, as AWS documents them (AWS KMS Developer
Guide, "Grants in AWS KMS" and "Managing grants"; API reference for shapes and errors).

The credentials are the account root's. Grants to other principals (users, roles) are created
and listed here; the authorization path for those principals is covered by the unit tests
(src/kms/grant_authorization_test.cpp, with the real IAM authorizer). A grant to the account
root itself shows, end to end, that a grant allows what the key policy does not, and that an
explicit deny still wins.
"""

import json
import os
import subprocess
import sys
import unittest

from meridian_harness import MeridianTestCase


class KmsGrantsTest(MeridianTestCase):

    def setUp(self):
        self.alice = f"arn:aws:iam::{self.account_id}:user/alice"
        self.bob = f"arn:aws:iam::{self.account_id}:user/bob"
        self.root = f"arn:aws:iam::{self.account_id}:root"

    def grant(self, key, grantee, operations, **kwargs):
        return self.kms.create_grant(KeyId=key, GranteePrincipal=grantee, Operations=operations, **kwargs)

    def put_policy(self, key, *statements, bypass=False):
        self.kms.put_key_policy(KeyId=key, PolicyName="default", BypassPolicyLockoutSafetyCheck=bypass,
                                Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))

    def test_create_list_retire_revoke(self):
        key = self.create_key()["KeyId"]
        created = self.grant(key, self.alice, ["Decrypt", "GenerateDataKey"], RetiringPrincipal=self.bob,
                             Constraints={"EncryptionContextSubset": {"tenant": "acme"}})
        self.assertRegex(created["GrantId"], r"^[0-9a-f]{64}$")
        self.assertTrue(created["GrantToken"])
        grants = self.kms.list_grants(KeyId=key)["Grants"]
        self.assertEqual(len(grants), 1)
        g = grants[0]
        self.assertEqual(g["KeyId"], self.key_arn(key))
        self.assertEqual(g["GrantId"], created["GrantId"])
        self.assertEqual(g["GranteePrincipal"], self.alice)
        self.assertEqual(g["RetiringPrincipal"], self.bob)
        self.assertEqual(g["IssuingAccount"], self.root)
        self.assertEqual(sorted(g["Operations"]), ["Decrypt", "GenerateDataKey"])
        self.assertEqual(g["Constraints"], {"EncryptionContextSubset": {"tenant": "acme"}})
        self.assertIn("CreationDate", g)

        retirable = self.kms.list_retirable_grants(RetiringPrincipal=self.bob)["Grants"]
        self.assertIn(created["GrantId"], [x["GrantId"] for x in retirable])

        self.kms.retire_grant(GrantToken=created["GrantToken"])
        self.assertEqual(self.kms.list_grants(KeyId=key)["Grants"], [])

        other = self.grant(key, self.alice, ["DescribeKey"])
        self.kms.revoke_grant(KeyId=key, GrantId=other["GrantId"])
        with self.assertAwsError("NotFoundException"):
            self.kms.revoke_grant(KeyId=key, GrantId=other["GrantId"])
        third = self.grant(key, self.alice, ["Encrypt"])
        self.kms.retire_grant(KeyId=self.key_arn(key), GrantId=third["GrantId"])
        self.assertEqual(self.kms.list_grants(KeyId=key)["Grants"], [])

    def test_name_makes_create_grant_idempotent(self):
        key = self.create_key()["KeyId"]
        first = self.grant(key, self.alice, ["Encrypt", "Decrypt"], Name="etl-job")
        again = self.grant(key, self.alice, ["Decrypt", "Encrypt"], Name="etl-job")
        self.assertEqual(first["GrantId"], again["GrantId"])
        self.assertNotEqual(first["GrantToken"], again["GrantToken"])
        different = self.grant(key, self.alice, ["Decrypt"], Name="etl-job")
        self.assertNotEqual(different["GrantId"], first["GrantId"])
        names = [g.get("Name") for g in self.kms.list_grants(KeyId=key)["Grants"]]
        self.assertEqual(names, ["etl-job", "etl-job"])

    def test_paging_and_filters(self):
        key = self.create_key()["KeyId"]
        ids = {self.grant(key, self.alice if i % 2 else self.bob, ["Decrypt"])["GrantId"] for i in range(5)}
        paginator = self.kms.get_paginator("list_grants")
        pages = list(paginator.paginate(KeyId=key, PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 3)
        self.assertEqual({g["GrantId"] for p in pages for g in p["Grants"]}, ids)
        only_alice = self.kms.list_grants(KeyId=key, GranteePrincipal=self.alice)["Grants"]
        self.assertEqual(len(only_alice), 2)
        one = sorted(ids)[0]
        self.assertEqual([g["GrantId"] for g in self.kms.list_grants(KeyId=key, GrantId=one)["Grants"]], [one])

    def test_errors_have_aws_names(self):
        key = self.create_key()["KeyId"]
        with self.assertAwsError("ValidationException"):
            self.grant(key, self.alice, ["Sign"])  # not an operation of a symmetric key
        with self.assertAwsError("ValidationException"):
            self.grant(key, self.alice, ["Decrypt"], Constraints={
                "EncryptionContextSubset": {"a": "1"}, "EncryptionContextEquals": {"a": "1"}})
        with self.assertAwsError("InvalidArnException"):
            self.grant(key, "arn:aws:s3:::not-a-principal", ["Decrypt"])
        with self.assertAwsError("NotFoundException"):
            self.grant("1234abcd-12ab-34cd-56ef-1234567890ab", self.alice, ["Decrypt"])
        with self.assertAwsError("InvalidGrantIdException"):
            self.kms.revoke_grant(KeyId=key, GrantId="not-a-grant-id")
        with self.assertAwsError("NotFoundException"):
            self.kms.revoke_grant(KeyId=key, GrantId="0" * 64)
        with self.assertAwsError("InvalidGrantTokenException"):
            self.kms.retire_grant(GrantToken="bm90LWEtZ3JhbnQtdG9rZW4=")
        with self.assertAwsError("DryRunOperationException"):
            self.grant(key, self.alice, ["Decrypt"], DryRun=True)
        self.kms.disable_key(KeyId=key)
        with self.assertAwsError("DisabledException"):
            self.grant(key, self.alice, ["Decrypt"])

    def test_grant_tokens_are_accepted_at_once(self):
        key = self.create_key()["KeyId"]
        token = self.grant(key, self.root, ["Encrypt", "Decrypt"])["GrantToken"]
        blob = self.kms.encrypt(KeyId=key, Plaintext=b"now", GrantTokens=[token])["CiphertextBlob"]
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob, GrantTokens=[token])["Plaintext"], b"now")
        with self.assertAwsError("InvalidGrantTokenException"):
            self.kms.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=["garbage"])

    def test_a_grant_allows_what_the_key_policy_does_not(self):
        # The key policy lets the root manage the key and grants but not decrypt; a grant to the
        # account root with an EncryptionContextSubset constraint allows Decrypt for that tenant
        # only; an explicit Deny in the key policy wins over the grant.
        key = self.create_key()["KeyId"]
        manage = {"Sid": "Manage", "Effect": "Allow", "Principal": {"AWS": self.root},
                  "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:PutKeyPolicy", "kms:CreateGrant",
                             "kms:RevokeGrant", "kms:Encrypt"], "Resource": "*"}
        self.put_policy(key, manage, bypass=True)
        acme = self.kms.encrypt(KeyId=key, Plaintext=b"a", EncryptionContext={"tenant": "acme"})["CiphertextBlob"]
        zeta = self.kms.encrypt(KeyId=key, Plaintext=b"z", EncryptionContext={"tenant": "zeta"})["CiphertextBlob"]
        with self.assertAwsError("AccessDeniedException", message_contains="kms:Decrypt"):
            self.kms.decrypt(CiphertextBlob=acme, EncryptionContext={"tenant": "acme"})
        grant = self.grant(key, self.root, ["Decrypt"], Constraints={"EncryptionContextSubset": {"tenant": "acme"}})
        self.assertEqual(self.kms.decrypt(CiphertextBlob=acme, EncryptionContext={"tenant": "acme"})["Plaintext"], b"a")
        with self.assertAwsError("AccessDeniedException"):
            self.kms.decrypt(CiphertextBlob=zeta, EncryptionContext={"tenant": "zeta"})
        self.put_policy(key, manage, {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*",
                                      "Action": "kms:Decrypt", "Resource": "*"}, bypass=True)
        with self.assertAwsError("AccessDeniedException", message_contains="explicit deny"):
            self.kms.decrypt(CiphertextBlob=acme, EncryptionContext={"tenant": "acme"})
        # Revoked, the grant allows nothing even without the deny.
        self.put_policy(key, manage, bypass=True)
        self.kms.revoke_grant(KeyId=key, GrantId=grant["GrantId"])
        with self.assertAwsError("AccessDeniedException"):
            self.kms.decrypt(CiphertextBlob=acme, EncryptionContext={"tenant": "acme"})

    def test_create_grant_condition_keys(self):
        # kms:GrantOperations with ForAllValues limits the operations a grant may carry;
        # kms:GranteePrincipal limits whom (KMS Developer Guide, "AWS KMS condition keys").
        key = self.create_key()["KeyId"]
        self.put_policy(key, {
            "Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": self.root},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:PutKeyPolicy", "kms:RevokeGrant"],
            "Resource": "*"}, {
            "Sid": "NarrowGrants", "Effect": "Allow", "Principal": {"AWS": self.root}, "Action": "kms:CreateGrant",
            "Resource": "*", "Condition": {
                "ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "Decrypt"]},
                "StringEquals": {"kms:GranteePrincipal": self.alice,
                                 "kms:GrantConstraintType": "EncryptionContextSubset"}}}, bypass=True)
        subset = {"EncryptionContextSubset": {"app": "x"}}
        self.grant(key, self.alice, ["Decrypt"], Constraints=subset)
        with self.assertAwsError("AccessDeniedException"):
            self.grant(key, self.alice, ["Decrypt", "GenerateDataKey"], Constraints=subset)
        with self.assertAwsError("AccessDeniedException"):
            self.grant(key, self.bob, ["Decrypt"], Constraints=subset)
        with self.assertAwsError("AccessDeniedException"):
            self.grant(key, self.alice, ["Decrypt"])  # no constraint
        with self.assertAwsError("AccessDeniedException"):
            self.grant(key, self.alice, ["Decrypt"], Constraints={"EncryptionContextEquals": {"app": "x"}})

    def test_aws_cli(self):
        key = self.create_key()["KeyId"]
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        for var in [v for v in env if v.startswith("AWS_")]:
            del env[var]
        ak, sk = self.server.admin_credentials()
        env.update({"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": self.region,
                    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": ""})

        def aws(*args):
            proc = subprocess.run(["aws", "kms", "--endpoint-url", self.server.endpoint, "--output", "json", *args],
                                  env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return json.loads(proc.stdout) if proc.stdout.strip() else {}

        created = aws("create-grant", "--key-id", key, "--grantee-principal", self.alice,
                      "--operations", "Decrypt", "Encrypt", "--constraints",
                      "EncryptionContextEquals={Department=IT}")
        listed = aws("list-grants", "--key-id", key)["Grants"]
        self.assertEqual([g["GrantId"] for g in listed], [created["GrantId"]])
        self.assertEqual(listed[0]["Constraints"], {"EncryptionContextEquals": {"Department": "IT"}})
        aws("retire-grant", "--grant-token", created["GrantToken"])
        self.assertEqual(aws("list-grants", "--key-id", key)["Grants"], [])


if __name__ == "__main__":
    unittest.main()
