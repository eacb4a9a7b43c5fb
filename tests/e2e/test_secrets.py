"""Secrets Manager through boto3 against a real `meridian up` process.

Covers every operation the server implements (src/secrets/secrets.h; shapes and error names from
botocore's secretsmanager 2017-10-17 model): CreateSecret, GetSecretValue, BatchGetSecretValue,
PutSecretValue, UpdateSecret, UpdateSecretVersionStage, DescribeSecret, ListSecrets,
ListSecretVersionIds, DeleteSecret, RestoreSecret, GetRandomPassword, TagResource, UntagResource,
Put/Get/Delete/ValidateResourcePolicy, RotateSecret and CancelRotateSecret (the stage mechanics of
an external rotator: no built-in rotator is configured in `meridian up`), the 64 KiB value limit,
AWS's error names and HTTP codes, a disabled KMS key, a SIGKILL + restart, and a search of the
data directory and logs for secret values in plaintext.
"""

import base64
import datetime
import json
import os
import re
import secrets as pysecrets
import string
import time
import unittest
import uuid

import botocore.exceptions

from meridian_harness import MeridianProcess, MeridianTestCase
from test_time_travel import clients_sign_ahead, libfaketime

ARN_RE = r"^arn:aws:secretsmanager:{region}:{account}:secret:{name}-[A-Za-z0-9]{{6}}$"
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
                   "Resource": "*"}],
}
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:meridian-e2e-rotator"


def random_value(tag="v"):
    """A distinctive secret string (letters, digits, '-', '_'): easy to search for on disk."""
    return f"{tag}-{pysecrets.token_urlsafe(24)}"


def token():
    return str(uuid.uuid4())


class SecretsTestCase(MeridianTestCase):
    """A server per class plus Secrets Manager clients (validating and non-validating)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.client("secretsmanager")
        cls.sm_raw = cls.server.client("secretsmanager", validate=False)
        cls._names = 0

    def name(self, prefix="e2e"):
        type(self)._names += 1
        return f"{prefix}/{self._testMethodName[5:25]}-{type(self)._names}-{pysecrets.token_hex(3)}"

    def arn_pattern(self, name):
        return ARN_RE.format(region=self.region, account=self.account_id, name=re.escape(name))

    def stages(self, secret_id):
        return self.sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]

    def value(self, secret_id, **kwargs):
        return self.sm.get_secret_value(SecretId=secret_id, **kwargs)


class CreateAndGetTest(SecretsTestCase):

    def test_string_secret_by_name_full_arn_and_partial_arn(self):
        name = self.name()
        value = random_value()
        created = self.sm.create_secret(Name=name, SecretString=value, Description="first secret",
                                        Tags=[{"Key": "team", "Value": "e2e"}])
        self.assertRegex(created["ARN"], self.arn_pattern(name))
        self.assertEqual(created["Name"], name)
        self.assertRegex(created["VersionId"], r"^[0-9a-f-]{36}$")
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 200)
        partial_arn = created["ARN"][:-7]  # without "-" and the 6-character suffix
        for secret_id in (name, created["ARN"], partial_arn):
            with self.subTest(secret_id=secret_id):
                got = self.value(secret_id)
                self.assertEqual(got["SecretString"], value)
                self.assertNotIn("SecretBinary", got)
                self.assertEqual(got["ARN"], created["ARN"])
                self.assertEqual(got["Name"], name)
                self.assertEqual(got["VersionId"], created["VersionId"])
                self.assertEqual(got["VersionStages"], ["AWSCURRENT"])
                self.assertIsInstance(got["CreatedDate"], datetime.datetime)
                described = self.sm.describe_secret(SecretId=secret_id)
                self.assertEqual(described["ARN"], created["ARN"])
        # A full ARN with the wrong random suffix names no secret.
        wrong_suffix = created["ARN"][:-6] + ("AAAAAA" if created["ARN"][-6:] != "AAAAAA" else "BBBBBB")
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(wrong_suffix)

    def test_name_that_looks_like_an_arn_suffix(self):
        # AWS warns against names ending in "-" + 6 characters: a partial ARN is then ambiguous.
        # They must still resolve by name, by full ARN and by partial ARN.
        short = self.name("lookalike")
        long_name = short + "-abcdef"
        self.sm.create_secret(Name=short, SecretString="short-one")
        created = self.sm.create_secret(Name=long_name, SecretString="long-one")
        self.assertRegex(created["ARN"], self.arn_pattern(long_name))
        for secret_id in (long_name, created["ARN"], created["ARN"][:-7]):
            with self.subTest(secret_id=secret_id):
                self.assertEqual(self.value(secret_id)["SecretString"], "long-one")
        self.assertEqual(self.value(short)["SecretString"], "short-one")
        other_region = created["ARN"].replace(f":{self.region}:", ":eu-west-1:")
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(other_region)

    def test_binary_secret_round_trips_every_byte(self):
        name = self.name()
        blob = bytes(range(256)) + os.urandom(64)
        created = self.sm.create_secret(Name=name, SecretBinary=blob)
        got = self.value(name)
        self.assertEqual(got["SecretBinary"], blob)
        self.assertNotIn("SecretString", got)
        self.assertEqual(got["VersionId"], created["VersionId"])

    def test_secret_without_value_has_no_version(self):
        name = self.name()
        created = self.sm.create_secret(Name=name, Description="metadata only")
        self.assertNotIn("VersionId", created)
        self.assertEqual(self.stages(name), {})
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(name)
        put = self.sm.put_secret_value(SecretId=name, SecretString="first-value-x")
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(self.value(name)["SecretString"], "first-value-x")

    def test_customer_key_and_default_key(self):
        key = self.create_key(Description="secrets e2e customer key")
        with_key = self.name()
        self.sm.create_secret(Name=with_key, SecretString=random_value(), KmsKeyId=key["KeyId"])
        described = self.sm.describe_secret(SecretId=with_key)
        self.assertIn(described["KmsKeyId"], (key["KeyId"], key["Arn"]))
        versions = self.sm.list_secret_version_ids(SecretId=with_key)["Versions"]
        self.assertEqual(len(versions), 1)
        self.assertEqual(versions[0]["KmsKeyIds"], [key["Arn"]])

        default = self.name()
        self.sm.create_secret(Name=default, SecretString=random_value())
        self.assertNotIn("KmsKeyId", self.sm.describe_secret(SecretId=default))
        versions = self.sm.list_secret_version_ids(SecretId=default)["Versions"]
        self.assertEqual(versions[0]["KmsKeyIds"], ["DefaultEncryptionKey"])
        # The AWS managed key aws/secretsmanager exists once a secret has used it.
        aliases = {a["AliasName"]: a for a in self.kms.list_aliases()["Aliases"]}
        self.assertIn("alias/aws/secretsmanager", aliases)
        managed = self.kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
        self.assertEqual(managed["KeyManager"], "AWS")
        self.assertEqual(managed["KeyState"], "Enabled")

        # Naming the AWS managed key explicitly works too, by alias.
        explicit = self.name()
        self.sm.create_secret(Name=explicit, SecretString="explicit-default-key",
                              KmsKeyId="alias/aws/secretsmanager")
        self.assertEqual(self.value(explicit)["SecretString"], "explicit-default-key")

    def test_create_with_unknown_kms_key_fails_and_creates_nothing(self):
        name = self.name()
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.sm.create_secret(Name=name, SecretString="never-stored",
                                  KmsKeyId="11111111-2222-3333-4444-555555555555")
        error = ctx.exception.response["Error"]
        self.assertIn(error["Code"], ("EncryptionFailure", "ResourceNotFoundException",
                                      "InvalidRequestException"), error)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.describe_secret(SecretId=name)

    def test_client_request_token_idempotency(self):
        name = self.name()
        tok = token()
        first = self.sm.create_secret(Name=name, SecretString="same-value", ClientRequestToken=tok)
        self.assertEqual(first["VersionId"], tok)
        # A retry with the same token and value: the same secret and version, nothing new.
        again = self.sm.create_secret(Name=name, SecretString="same-value", ClientRequestToken=tok)
        self.assertEqual(again["ARN"], first["ARN"])
        self.assertEqual(again["VersionId"], tok)
        self.assertEqual(list(self.stages(name)), [tok])
        # The same token with another value is refused.
        with self.assertAwsError("ResourceExistsException", status=400):
            self.sm.create_secret(Name=name, SecretString="other-value", ClientRequestToken=tok)
        # Another token for an existing name: the secret already exists.
        with self.assertAwsError("ResourceExistsException", status=400):
            self.sm.create_secret(Name=name, SecretString="same-value", ClientRequestToken=token())
        # PutSecretValue follows the same rules.
        tok2 = token()
        put = self.sm.put_secret_value(SecretId=name, SecretString="second", ClientRequestToken=tok2)
        self.assertEqual(put["VersionId"], tok2)
        put_again = self.sm.put_secret_value(SecretId=name, SecretString="second",
                                             ClientRequestToken=tok2)
        self.assertEqual(put_again["VersionId"], tok2)
        self.assertEqual(self.stages(name), {tok: ["AWSPREVIOUS"], tok2: ["AWSCURRENT"]})
        with self.assertAwsError("ResourceExistsException", status=400):
            self.sm.put_secret_value(SecretId=name, SecretString="third", ClientRequestToken=tok2)
        self.assertEqual(self.value(name)["SecretString"], "second")
        # The token's length is 32..64 characters.
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.put_secret_value(SecretId=name, SecretString="x", ClientRequestToken="short")

    def test_type_and_description_round_trip(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="{}", Description="described here")
        described = self.sm.describe_secret(SecretId=name)
        self.assertEqual(described["Description"], "described here")
        self.assertIsInstance(described["CreatedDate"], datetime.datetime)
        self.assertIsInstance(described["LastChangedDate"], datetime.datetime)
        self.assertNotIn("DeletedDate", described)
        self.assertNotIn("RotationEnabled", described)


class VersionsTest(SecretsTestCase):

    def test_put_secret_value_moves_current_to_previous(self):
        name = self.name()
        v1 = self.sm.create_secret(Name=name, SecretString="value-1")["VersionId"]
        put2 = self.sm.put_secret_value(SecretId=name, SecretString="value-2")
        v2 = put2["VersionId"]
        self.assertEqual(put2["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(self.stages(name), {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]})
        v3 = self.sm.put_secret_value(SecretId=name, SecretBinary=b"\x00value-3")["VersionId"]
        # v1 lost its last label: it is deprecated and no longer listed by default.
        self.assertEqual(self.stages(name), {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]})
        self.assertEqual(self.value(name)["SecretBinary"], b"\x00value-3")
        self.assertEqual(self.value(name, VersionStage="AWSPREVIOUS")["SecretString"], "value-2")
        self.assertEqual(self.value(name, VersionStage="AWSCURRENT")["VersionId"], v3)
        self.assertEqual(self.value(name, VersionId=v2)["VersionStages"], ["AWSPREVIOUS"])
        old = self.value(name, VersionId=v1)
        self.assertEqual(old["SecretString"], "value-1")
        self.assertNotIn("VersionStages", old)
        both = self.value(name, VersionId=v3, VersionStage="AWSCURRENT")
        self.assertEqual(both["VersionId"], v3)

        listed = self.sm.list_secret_version_ids(SecretId=name)
        self.assertEqual({v["VersionId"] for v in listed["Versions"]}, {v2, v3})
        self.assertEqual(listed["Name"], name)
        everything = self.sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
        self.assertEqual({v["VersionId"] for v in everything["Versions"]}, {v1, v2, v3})
        for v in everything["Versions"]:
            self.assertIsInstance(v["CreatedDate"], datetime.datetime)

    def test_get_unknown_version_or_stage(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="x-value")
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(name, VersionId=token())
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(name, VersionStage="AWSPREVIOUS")
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(name, VersionStage="NOSUCHLABEL")

    def test_put_with_custom_stage_leaves_current_alone(self):
        name = self.name()
        v1 = self.sm.create_secret(Name=name, SecretString="live")["VersionId"]
        staged = self.sm.put_secret_value(SecretId=name, SecretString="candidate",
                                          VersionStages=["STAGING"])
        self.assertEqual(staged["VersionStages"], ["STAGING"])
        self.assertEqual(self.value(name)["SecretString"], "live")
        self.assertEqual(self.value(name, VersionStage="STAGING")["SecretString"], "candidate")
        self.assertEqual(self.stages(name), {v1: ["AWSCURRENT"], staged["VersionId"]: ["STAGING"]})

    def test_update_secret_version_stage(self):
        name = self.name()
        v1 = self.sm.create_secret(Name=name, SecretString="one")["VersionId"]
        v2 = self.sm.put_secret_value(SecretId=name, SecretString="two")["VersionId"]
        # Moving AWSCURRENT back: the version it leaves becomes AWSPREVIOUS.
        out = self.sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                                  MoveToVersionId=v1, RemoveFromVersionId=v2)
        self.assertEqual(out["Name"], name)
        self.assertEqual(self.stages(name), {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]})
        self.assertEqual(self.value(name)["SecretString"], "one")
        # AWSCURRENT is attached elsewhere: RemoveFromVersionId is required.
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                                MoveToVersionId=v2)
        # AWSCURRENT cannot be removed outright.
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                                RemoveFromVersionId=v1)
        # RemoveFromVersionId must name the version that has the label.
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                                MoveToVersionId=v2, RemoveFromVersionId=v2)
        # A custom label: attach, move (one version per label), remove.
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", MoveToVersionId=v2)
        self.assertEqual(self.stages(name), {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS", "BLUE"]})
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", MoveToVersionId=v1,
                                            RemoveFromVersionId=v2)
        self.assertEqual(self.stages(name), {v1: ["AWSCURRENT", "BLUE"], v2: ["AWSPREVIOUS"]})
        self.assertEqual(self.value(name, VersionStage="BLUE")["VersionId"], v1)
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE",
                                            RemoveFromVersionId=v1)
        self.assertEqual(self.stages(name), {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]})
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE")

    def test_update_secret_metadata_value_and_key(self):
        name = self.name()
        v1 = self.sm.create_secret(Name=name, SecretString="before", Description="old")["VersionId"]
        out = self.sm.update_secret(SecretId=name, Description="new description")
        self.assertNotIn("VersionId", out)
        self.assertEqual(self.sm.describe_secret(SecretId=name)["Description"], "new description")
        self.assertEqual(list(self.stages(name)), [v1])

        out = self.sm.update_secret(SecretId=name, SecretString="after")
        v2 = out["VersionId"]
        self.assertEqual(self.stages(name), {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]})
        self.assertEqual(self.value(name)["SecretString"], "after")
        self.assertEqual(self.sm.describe_secret(SecretId=name)["Description"], "new description")

        key = self.create_key(Description="update-secret key")
        out = self.sm.update_secret(SecretId=name, KmsKeyId=key["Arn"], SecretString="under-new-key")
        v3 = out["VersionId"]
        self.assertEqual(self.sm.describe_secret(SecretId=name)["KmsKeyId"], key["Arn"])
        versions = {v["VersionId"]: v for v in
                    self.sm.list_secret_version_ids(SecretId=name)["Versions"]}
        self.assertEqual(versions[v3]["KmsKeyIds"], [key["Arn"]])
        self.assertEqual(self.value(name)["SecretString"], "under-new-key")
        self.assertEqual(self.value(name, VersionStage="AWSPREVIOUS")["SecretString"], "after")
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.update_secret(SecretId=self.name("missing"), Description="x")

    def test_batch_get_secret_value(self):
        prefix = f"batch-{pysecrets.token_hex(4)}"
        values = {}
        for i in range(3):
            name = f"{prefix}/s{i}"
            values[name] = random_value()
            self.sm.create_secret(Name=name, SecretString=values[name])
        missing = f"{prefix}/missing"
        out = self.sm.batch_get_secret_value(SecretIdList=list(values) + [missing])
        got = {v["Name"]: v["SecretString"] for v in out["SecretValues"]}
        self.assertEqual(got, values)
        self.assertEqual([(e["SecretId"], e["ErrorCode"]) for e in out["Errors"]],
                         [(missing, "ResourceNotFoundException")])
        by_filter = self.sm.batch_get_secret_value(
            Filters=[{"Key": "name", "Values": [prefix + "/"]}])
        self.assertEqual({v["Name"]: v["SecretString"] for v in by_filter["SecretValues"]}, values)
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm_raw.batch_get_secret_value(SecretIdList=list(values),
                                               Filters=[{"Key": "name", "Values": [prefix]}])


class ListTest(SecretsTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prefix = f"list-{pysecrets.token_hex(4)}"
        cls.names = []
        for i in range(7):
            name = f"{cls.prefix}/item-{i}"
            cls.names.append(name)
            tags = [{"Key": "parity", "Value": "even" if i % 2 == 0 else "odd"}]
            if i == 3:
                tags.append({"Key": "special", "Value": "three"})
            cls.sm.create_secret(Name=name, SecretString=f"list-value-{i}",
                                 Description=f"Inventory record number {i}", Tags=tags)
        cls.sm.create_secret(Name=f"Data{cls.prefix}Secret", SecretString="case-1")
        cls.sm.create_secret(Name=f"data{cls.prefix}Secret", SecretString="case-2")
        cls.zebra = f"words-a-{cls.prefix}"
        cls.quokka = f"words-b-{cls.prefix}"
        cls.sm.create_secret(Name=cls.zebra, SecretString="words", Description="a zebracorn here")
        cls.sm.create_secret(Name=cls.quokka, SecretString="words", Description="quokkafish there")

    def list_names(self, **kwargs):
        names, token_ = [], None
        while True:
            args = dict(kwargs)
            if token_:
                args["NextToken"] = token_
            page = self.sm.list_secrets(**args)
            names.extend(s["Name"] for s in page["SecretList"])
            token_ = page.get("NextToken")
            if not token_:
                return names

    def mine(self, names):
        return sorted(n for n in names if n.startswith(self.prefix + "/"))

    def test_name_filter_is_a_case_sensitive_prefix(self):
        self.assertEqual(self.mine(self.list_names(
            Filters=[{"Key": "name", "Values": [self.prefix + "/"]}])), sorted(self.names))
        self.assertEqual(self.list_names(Filters=[{"Key": "name", "Values": [f"Data{self.prefix}"]}]),
                         [f"Data{self.prefix}Secret"])
        self.assertEqual(self.list_names(Filters=[{"Key": "name", "Values": [f"item-1"]}]), [])

    def test_tag_filters_and_negation(self):
        odd = [n for i, n in enumerate(self.names) if i % 2]
        self.assertEqual(self.mine(self.list_names(Filters=[
            {"Key": "name", "Values": [self.prefix + "/"]},
            {"Key": "tag-value", "Values": ["odd"]}])), sorted(odd))
        self.assertEqual(self.list_names(Filters=[
            {"Key": "name", "Values": [self.prefix + "/"]},
            {"Key": "tag-key", "Values": ["special"]}]), [self.names[3]])
        even = [n for i, n in enumerate(self.names) if i % 2 == 0]
        self.assertEqual(self.mine(self.list_names(Filters=[
            {"Key": "name", "Values": [self.prefix + "/"]},
            {"Key": "tag-value", "Values": ["!odd"]}])), sorted(even))

    def test_description_and_all_filters_match_words_case_insensitively(self):
        self.assertEqual(self.mine(self.list_names(Filters=[
            {"Key": "name", "Values": [self.prefix + "/"]},
            {"Key": "description", "Values": ["inventory RECORD"]}])), sorted(self.names))
        # User guide example: description "My Description" matches "Description of my secret".
        self.assertEqual(self.mine(self.list_names(Filters=[
            {"Key": "description", "Values": ["Record Inventory"]}])), sorted(self.names))
        self.assertEqual(self.mine(self.list_names(Filters=[
            {"Key": "all", "Values": ["INVENTORY"]}])), sorted(self.names))
        self.assertEqual(self.mine(self.list_names(Filters=[
            {"Key": "all", "Values": ["THREE"]}])), [self.names[3]])

    def test_all_filter_matches_any_word_of_the_search_string(self):
        # User guide, "Find secrets": without a filter key the search string is broken into
        # words and "searching for My_Secret matches secrets with the word my or secret in the
        # name, description, or tags".
        self.assertEqual(sorted(self.list_names(Filters=[
            {"Key": "all", "Values": ["Zebracorn_Quokkafish"]}])),
            sorted([self.zebra, self.quokka]))

    def test_pagination_returns_every_secret_once(self):
        seen = self.list_names(MaxResults=3, Filters=[{"Key": "name", "Values": [self.prefix]}])
        self.assertEqual(sorted(seen), sorted(self.names))
        first = self.sm.list_secrets(MaxResults=3, Filters=[{"Key": "name", "Values": [self.prefix]}])
        self.assertEqual(len(first["SecretList"]), 3)
        self.assertIn("NextToken", first)
        entry = first["SecretList"][0]
        for member in ("ARN", "Name", "SecretVersionsToStages", "CreatedDate", "LastChangedDate"):
            self.assertIn(member, entry)
        with self.assertAwsError("InvalidNextTokenException", status=400):
            self.sm.list_secrets(NextToken="bm90LWEtdG9rZW4=")
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.list_secrets(MaxResults=0)
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.list_secrets(MaxResults=101)

    def test_sort_order(self):
        flt = [{"Key": "name", "Values": [self.prefix + "/"]}]
        self.assertEqual(self.list_names(Filters=flt, SortBy="name", SortOrder="asc"), self.names)
        self.assertEqual(self.list_names(Filters=flt, SortBy="name", SortOrder="desc"),
                         self.names[::-1])
        # The default order is by creation date, newest first.
        listed = self.sm.list_secrets(Filters=flt)["SecretList"]
        created = [s["CreatedDate"] for s in listed]
        self.assertEqual(created, sorted(created, reverse=True))
        listed = self.sm.list_secrets(Filters=flt, SortOrder="asc")["SecretList"]
        created = [s["CreatedDate"] for s in listed]
        self.assertEqual(created, sorted(created))

    def test_invalid_filter(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.sm_raw.list_secrets(Filters=[{"Key": "colour", "Values": ["red"]}])
        self.assertIn(ctx.exception.response["Error"]["Code"],
                      ("InvalidParameterException", "ValidationException"))

    def test_list_secret_version_ids_pagination(self):
        name = self.names[0]
        for i in range(3):
            self.sm.put_secret_value(SecretId=name, SecretString=f"page-{i}",
                                     VersionStages=[f"L{i}"])
        seen, token_ = [], None
        while True:
            args = {"SecretId": name, "MaxResults": 1}
            if token_:
                args["NextToken"] = token_
            page = self.sm.list_secret_version_ids(**args)
            self.assertLessEqual(len(page["Versions"]), 1)
            seen.extend(v["VersionId"] for v in page["Versions"])
            token_ = page.get("NextToken")
            if not token_:
                break
        self.assertEqual(sorted(seen), sorted(self.stages(name)))
        self.assertEqual(len(seen), 4)


class DeletionTest(SecretsTestCase):

    def test_delete_with_recovery_window_then_restore(self):
        name = self.name()
        created = self.sm.create_secret(Name=name, SecretString="keep-me")
        before = datetime.datetime.now(datetime.timezone.utc)
        out = self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        self.assertEqual(out["ARN"], created["ARN"])
        delta = out["DeletionDate"] - before
        self.assertGreater(delta, datetime.timedelta(days=7) - datetime.timedelta(minutes=1))
        self.assertLess(delta, datetime.timedelta(days=7) + datetime.timedelta(minutes=1))
        with self.assertAwsError("InvalidRequestException", status=400):
            self.value(name)
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.put_secret_value(SecretId=name, SecretString="nope")
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.delete_secret(SecretId=name)
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.create_secret(Name=name, SecretString="same name while pending")
        described = self.sm.describe_secret(SecretId=name)
        self.assertIn("DeletedDate", described)
        self.assertNotIn(name, [s["Name"] for s in self.sm.list_secrets(
            Filters=[{"Key": "name", "Values": [name]}])["SecretList"]])
        self.assertIn(name, [s["Name"] for s in self.sm.list_secrets(
            IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [name]}])["SecretList"]])

        restored = self.sm.restore_secret(SecretId=name)
        self.assertEqual(restored["ARN"], created["ARN"])
        self.assertEqual(self.value(name)["SecretString"], "keep-me")
        self.assertNotIn("DeletedDate", self.sm.describe_secret(SecretId=name))

    def test_default_recovery_window_is_30_days(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="x-value")
        before = datetime.datetime.now(datetime.timezone.utc)
        out = self.sm.delete_secret(SecretId=name)
        self.assertAlmostEqual((out["DeletionDate"] - before).total_seconds(), 30 * 86400, delta=60)

    def test_delete_parameter_validation(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="x-value")
        for window in (6, 31, 0):
            with self.subTest(window=window):
                with self.assertAwsError("InvalidParameterException", status=400):
                    self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=window)
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=7,
                                  ForceDeleteWithoutRecovery=True)
        self.assertEqual(self.value(name)["SecretString"], "x-value")

    def test_force_delete_without_recovery(self):
        name = self.name()
        created = self.sm.create_secret(Name=name, SecretString="gone-soon")
        out = self.sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self.assertEqual(out["ARN"], created["ARN"])
        self.assertIn("DeletionDate", out)
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.describe_secret(SecretId=name)
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(created["ARN"])
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.restore_secret(SecretId=name)
        # The name can be used again, and it is a new secret (new ARN suffix).
        again = self.sm.create_secret(Name=name, SecretString="reborn")
        self.assertNotEqual(again["ARN"], created["ARN"])
        self.assertEqual(self.value(name)["SecretString"], "reborn")
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.value(created["ARN"])

    def test_force_delete_of_a_secret_pending_deletion(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="x-value")
        self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        self.sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.describe_secret(SecretId=name)


class RandomPasswordTest(SecretsTestCase):

    def password(self, **kwargs):
        return self.sm.get_random_password(**kwargs)["RandomPassword"]

    def test_default_is_32_characters_of_every_type(self):
        seen = set()
        for _ in range(5):
            p = self.password()
            self.assertEqual(len(p), 32)
            self.assertTrue(any(c in string.ascii_lowercase for c in p), p)
            self.assertTrue(any(c in string.ascii_uppercase for c in p), p)
            self.assertTrue(any(c in string.digits for c in p), p)
            self.assertTrue(any(c in PUNCTUATION for c in p), p)
            self.assertNotIn(" ", p)
            seen.add(p)
        self.assertEqual(len(seen), 5)

    def test_exclusions(self):
        cases = {
            "ExcludeNumbers": string.digits,
            "ExcludePunctuation": PUNCTUATION,
            "ExcludeUppercase": string.ascii_uppercase,
            "ExcludeLowercase": string.ascii_lowercase,
        }
        for option, forbidden in cases.items():
            with self.subTest(option=option):
                p = self.password(PasswordLength=200, **{option: True})
                self.assertEqual(len(p), 200)
                self.assertFalse(set(p) & set(forbidden), p)
        p = self.password(PasswordLength=300, ExcludeCharacters="abcXYZ012!@#")
        self.assertFalse(set(p) & set("abcXYZ012!@#"), p)
        digits_only = self.password(PasswordLength=50, ExcludePunctuation=True,
                                    ExcludeUppercase=True, ExcludeLowercase=True)
        self.assertTrue(set(digits_only) <= set(string.digits), digits_only)

    def test_include_space_and_require_each_type(self):
        # 95 possible characters: 4096 of them miss the space with probability (94/95)^4096 < 1e-18.
        p = self.password(PasswordLength=4096, IncludeSpace=True)
        self.assertIn(" ", p)
        p = self.password(PasswordLength=4, RequireEachIncludedType=True)
        self.assertEqual(len(p), 4)
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits, PUNCTUATION):
            self.assertTrue(set(p) & set(chars), p)
        self.assertEqual(len(self.password(PasswordLength=1, RequireEachIncludedType=False)), 1)
        self.assertEqual(len(self.password(PasswordLength=4096)), 4096)

    def test_invalid_options(self):
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.get_random_password(PasswordLength=0)
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.get_random_password(PasswordLength=4097)
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.get_random_password(ExcludeNumbers=True, ExcludePunctuation=True,
                                        ExcludeUppercase=True, ExcludeLowercase=True)
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.get_random_password(PasswordLength=3, RequireEachIncludedType=True)


class TagsAndPoliciesTest(SecretsTestCase):

    def test_tag_and_untag(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="tagged", Tags=[{"Key": "a", "Value": "1"}])
        self.sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"},
                                                  {"Key": "a", "Value": "one"}])
        tags = {t["Key"]: t["Value"] for t in self.sm.describe_secret(SecretId=name)["Tags"]}
        self.assertEqual(tags, {"a": "one", "b": "2"})
        self.sm.untag_resource(SecretId=name, TagKeys=["a", "not-there"])
        tags = {t["Key"]: t["Value"] for t in self.sm.describe_secret(SecretId=name).get("Tags", [])}
        self.assertEqual(tags, {"b": "2"})
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.tag_resource(SecretId=name, Tags=[{"Key": "aws:reserved", "Value": "x"}])
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.tag_resource(SecretId=self.name("missing"), Tags=[{"Key": "k", "Value": "v"}])
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.untag_resource(SecretId=self.name("missing"), TagKeys=["k"])

    def test_resource_policy_lifecycle(self):
        name = self.name()
        created = self.sm.create_secret(Name=name, SecretString="guarded")
        self.assertNotIn("ResourcePolicy", self.sm.get_resource_policy(SecretId=name))
        policy = json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }],
        })
        out = self.sm.put_resource_policy(SecretId=name, ResourcePolicy=policy,
                                          BlockPublicPolicy=True)
        self.assertEqual(out["ARN"], created["ARN"])
        got = self.sm.get_resource_policy(SecretId=name)
        self.assertEqual(json.loads(got["ResourcePolicy"]), json.loads(policy))
        self.assertEqual(got["Name"], name)
        valid = self.sm.validate_resource_policy(SecretId=name, ResourcePolicy=policy)
        self.assertTrue(valid["PolicyValidationPassed"])
        self.assertEqual(valid["ValidationErrors"], [])

        public = json.dumps(PUBLIC_POLICY)
        with self.assertAwsError("PublicPolicyException", status=400):
            self.sm.put_resource_policy(SecretId=name, ResourcePolicy=public,
                                        BlockPublicPolicy=True)
        # The refused policy did not replace the stored one.
        self.assertEqual(json.loads(self.sm.get_resource_policy(SecretId=name)["ResourcePolicy"]),
                         json.loads(policy))
        report = self.sm.validate_resource_policy(ResourcePolicy=public)
        self.assertFalse(report["PolicyValidationPassed"])
        self.assertTrue(report["ValidationErrors"])
        with self.assertAwsError("MalformedPolicyDocumentException", status=400):
            self.sm.put_resource_policy(SecretId=name, ResourcePolicy="{not json")
        with self.assertAwsError("MalformedPolicyDocumentException", status=400):
            self.sm.validate_resource_policy(ResourcePolicy=json.dumps({"Statement": [{"Effect": "Maybe"}]}))

        self.sm.delete_resource_policy(SecretId=name)
        self.assertNotIn("ResourcePolicy", self.sm.get_resource_policy(SecretId=name))
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.get_resource_policy(SecretId=self.name("missing"))
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.validate_resource_policy(SecretId=self.name("missing"), ResourcePolicy=policy)


class RotationTest(SecretsTestCase):
    """RotateSecret/CancelRotateSecret with an external rotator (no built-in rotator is
    configured in `meridian up`): the test plays the rotation function's four steps."""

    def test_rotate_requires_a_rotation_function(self):
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="no-rotator")
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.rotate_secret(SecretId=name)
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.cancel_rotate_secret(SecretId=name)
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.rotate_secret(SecretId=self.name("missing"), RotationLambdaARN=LAMBDA_ARN)

    def test_external_rotation_moves_pending_to_current(self):
        name = self.name()
        v1 = self.sm.create_secret(Name=name, SecretString="password-1")["VersionId"]
        tok = token()
        out = self.sm.rotate_secret(SecretId=name, RotationLambdaARN=LAMBDA_ARN,
                                    RotationRules={"AutomaticallyAfterDays": 30},
                                    ClientRequestToken=tok)
        self.assertEqual(out["VersionId"], tok)
        described = self.sm.describe_secret(SecretId=name)
        self.assertTrue(described["RotationEnabled"])
        self.assertEqual(described["RotationLambdaARN"], LAMBDA_ARN)
        self.assertEqual(described["RotationRules"]["AutomaticallyAfterDays"], 30)
        self.assertIn("NextRotationDate", described)
        self.assertEqual(described["VersionIdsToStages"], {v1: ["AWSCURRENT"], tok: ["AWSPENDING"]})
        # AWSCURRENT still answers while the rotation is in progress.
        self.assertEqual(self.value(name)["SecretString"], "password-1")
        # A second rotation is refused while AWSPENDING is on another version.
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.rotate_secret(SecretId=name, ClientRequestToken=token())

        # createSecret: the rotator puts the pending value under the rotation's token.
        put = self.sm.put_secret_value(SecretId=name, ClientRequestToken=tok,
                                       SecretString="password-2", VersionStages=["AWSPENDING"])
        self.assertEqual(put["VersionId"], tok)
        self.assertEqual(self.value(name, VersionStage="AWSPENDING")["SecretString"], "password-2")
        self.assertEqual(self.value(name)["SecretString"], "password-1")
        # finishSecret: move AWSCURRENT; AWSPREVIOUS follows.
        self.sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                            MoveToVersionId=tok, RemoveFromVersionId=v1)
        stages = self.stages(name)
        self.assertIn("AWSCURRENT", stages[tok])
        self.assertEqual(stages[v1], ["AWSPREVIOUS"])
        self.assertEqual(self.value(name)["SecretString"], "password-2")
        self.assertEqual(self.value(name, VersionStage="AWSPREVIOUS")["SecretString"], "password-1")
        self.assertIn("LastRotatedDate", self.sm.describe_secret(SecretId=name))

        # The rotation is complete: the next one may start.
        tok2 = token()
        self.assertEqual(self.sm.rotate_secret(SecretId=name, ClientRequestToken=tok2)["VersionId"],
                         tok2)
        self.assertEqual(self.stages(name)[tok2], ["AWSPENDING"])

        cancelled = self.sm.cancel_rotate_secret(SecretId=name)
        self.assertEqual(cancelled["VersionId"], tok2)
        described = self.sm.describe_secret(SecretId=name)
        self.assertFalse(described["RotationEnabled"])
        self.assertNotIn("NextRotationDate", described)
        self.assertEqual(self.value(name)["SecretString"], "password-2")

    def test_rotate_without_immediate_rotation_creates_no_version(self):
        name = self.name()
        v1 = self.sm.create_secret(Name=name, SecretString="steady")["VersionId"]
        out = self.sm.rotate_secret(SecretId=name, RotationLambdaARN=LAMBDA_ARN,
                                    RotationRules={"ScheduleExpression": "rate(10 days)"},
                                    RotateImmediately=False)
        self.assertNotIn("VersionId", out)
        described = self.sm.describe_secret(SecretId=name)
        self.assertEqual(described["RotationRules"].get("ScheduleExpression"), "rate(10 days)")
        self.assertTrue(described["RotationEnabled"])
        self.assertEqual(described["VersionIdsToStages"], {v1: ["AWSCURRENT"]})


class LimitsAndErrorsTest(SecretsTestCase):

    def test_64_kib_value_limit(self):
        name = self.name()
        largest = "s" * 65536
        self.sm.create_secret(Name=name, SecretString=largest)
        self.assertEqual(self.value(name)["SecretString"], largest)
        largest_binary = os.urandom(65536)
        self.sm.put_secret_value(SecretId=name, SecretBinary=largest_binary)
        self.assertEqual(self.value(name)["SecretBinary"], largest_binary)
        too_big = self.name()
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.create_secret(Name=too_big, SecretString="s" * 65537)
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.create_secret(Name=too_big, SecretBinary=b"b" * 65537)
        with self.assertAwsError("ResourceNotFoundException", status=400):
            self.sm.describe_secret(SecretId=too_big)
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.put_secret_value(SecretId=name, SecretString="s" * 65537)
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.update_secret(SecretId=name, SecretBinary=b"b" * 65537)
        self.assertEqual(self.value(name)["SecretBinary"], largest_binary)
        self.assertEqual(len(self.stages(name)), 2)

    def test_resource_not_found_everywhere(self):
        missing = self.name("missing")
        calls = {
            "DescribeSecret": lambda: self.sm.describe_secret(SecretId=missing),
            "GetSecretValue": lambda: self.sm.get_secret_value(SecretId=missing),
            "PutSecretValue": lambda: self.sm.put_secret_value(SecretId=missing, SecretString="x"),
            "UpdateSecret": lambda: self.sm.update_secret(SecretId=missing, SecretString="x"),
            "UpdateSecretVersionStage": lambda: self.sm.update_secret_version_stage(
                SecretId=missing, VersionStage="X", MoveToVersionId=token()),
            "ListSecretVersionIds": lambda: self.sm.list_secret_version_ids(SecretId=missing),
            "DeleteSecret": lambda: self.sm.delete_secret(SecretId=missing),
            "RestoreSecret": lambda: self.sm.restore_secret(SecretId=missing),
            "GetResourcePolicy": lambda: self.sm.get_resource_policy(SecretId=missing),
            "PutResourcePolicy": lambda: self.sm.put_resource_policy(
                SecretId=missing, ResourcePolicy=json.dumps(PUBLIC_POLICY)),
            "DeleteResourcePolicy": lambda: self.sm.delete_resource_policy(SecretId=missing),
            "CancelRotateSecret": lambda: self.sm.cancel_rotate_secret(SecretId=missing),
            "ByForeignArn": lambda: self.sm.get_secret_value(
                SecretId=f"arn:aws:secretsmanager:{self.region}:000000000000:secret:{missing}-abcdef"),
        }
        for op, call in calls.items():
            with self.subTest(operation=op):
                with self.assertAwsError("ResourceNotFoundException", status=400):
                    call()

    def test_parameter_errors(self):
        name = self.name()
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.create_secret(Name=name, SecretString="a", SecretBinary=b"b")
        with self.assertAwsError("InvalidParameterException", status=400):
            self.sm.create_secret(Name="bad name with spaces", SecretString="a")
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.create_secret(SecretString="no name")
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.get_secret_value()
        with self.assertAwsError("ValidationException", status=400):
            self.sm_raw.create_secret(Name="n" * 513, SecretString="a")
        self.sm.create_secret(Name=name, SecretString="a-value")
        with self.assertAwsError("InvalidRequestException", status=400):
            self.sm.put_secret_value(SecretId=name)
        with self.assertAwsError("ResourceExistsException", status=400):
            self.sm.create_secret(Name=name, SecretString="again")

    def test_malformed_requests_get_aws_errors(self):
        result = self.server.signed_request("GetSecretValue", b"{not json", service="secretsmanager",
                                            target_prefix="secretsmanager")
        self.assertRawError(result, "SerializationException")
        result = self.server.signed_request("GetSecretValue", {"SecretId": 12},
                                            service="secretsmanager", target_prefix="secretsmanager")
        self.assertRawError(result, "SerializationException")
        result = self.server.signed_request("NoSuchOperation", {}, service="secretsmanager",
                                            target_prefix="secretsmanager")
        self.assertEqual(result[0], 400, result)
        # A Secrets Manager target signed for KMS is refused (credential scoped to the wrong service).
        result = self.server.signed_request("ListSecrets", {}, service="kms",
                                            target_prefix="secretsmanager")
        self.assertRawError(result, "InvalidSignatureException")

    def test_replication_operations_answer_with_an_aws_error(self):
        # A single-region deployment has no region to replicate to (test_secrets_replication.py
        # covers three regions): each answer is a clean AWS-shaped 4xx.
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="local")
        for op, call in {
            "ReplicateSecretToRegions": lambda: self.sm.replicate_secret_to_regions(
                SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}]),
            "RemoveRegionsFromReplication": lambda: self.sm.remove_regions_from_replication(
                SecretId=name, RemoveReplicaRegions=["us-west-2"]),
            "StopReplicationToReplica": lambda: self.sm.stop_replication_to_replica(SecretId=name),
            "CreateSecret+AddReplicaRegions": lambda: self.sm.create_secret(
                Name=self.name(), SecretString="x", AddReplicaRegions=[{"Region": "us-west-2"}]),
        }.items():
            with self.subTest(operation=op):
                with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                    call()
                meta = ctx.exception.response["ResponseMetadata"]
                self.assertEqual(meta["HTTPStatusCode"], 400, ctx.exception.response)
                self.assertTrue(ctx.exception.response["Error"]["Message"])

    def test_disabled_kms_key_makes_the_value_unreadable(self):
        key = self.create_key(Description="secret key to disable")
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="behind-key", KmsKeyId=key["Arn"])
        self.kms.disable_key(KeyId=key["KeyId"])
        try:
            # botocore's model: GetSecretValue answers DecryptionFailure when the KMS key cannot
            # decrypt; PutSecretValue answers EncryptionFailure.
            with self.assertAwsError("DecryptionFailure", status=400):
                self.value(name)
            with self.assertAwsError("EncryptionFailure", status=400):
                self.sm.put_secret_value(SecretId=name, SecretString="new-value")
            with self.assertAwsError("EncryptionFailure", status=400):
                self.sm.create_secret(Name=self.name(), SecretString="x", KmsKeyId=key["KeyId"])
            # Metadata stays readable.
            self.assertEqual(self.sm.describe_secret(SecretId=name)["KmsKeyId"], key["Arn"])
        finally:
            self.kms.enable_key(KeyId=key["KeyId"])
        self.assertEqual(self.value(name)["SecretString"], "behind-key")
        self.assertEqual(len(self.stages(name)), 1)

    def test_key_pending_deletion_makes_the_value_unreadable(self):
        key = self.create_key(Description="secret key to delete")
        name = self.name()
        self.sm.create_secret(Name=name, SecretString="doomed-key", KmsKeyId=key["KeyId"])
        self.kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
        with self.assertAwsError("DecryptionFailure", status=400):
            self.value(name)
        self.kms.cancel_key_deletion(KeyId=key["KeyId"])
        self.kms.enable_key(KeyId=key["KeyId"])
        self.assertEqual(self.value(name)["SecretString"], "doomed-key")


# ---- restart and plaintext leak -------------------------------------------------------------

def encodings(secret):
    forms = {
        "raw": secret,
        "base64": base64.b64encode(secret),
        "base64-unpadded": base64.b64encode(secret).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(secret).rstrip(b"="),
        "hex": secret.hex().encode(),
        "HEX": secret.hex().upper().encode(),
    }
    forms["utf16le"] = secret.decode("latin-1").encode("utf-16-le")
    return forms


class DurabilityAndLeakTest(unittest.TestCase):
    """A populated server is SIGKILLed and restarted: every secret, version, label, tag, policy
    and rotation setting is intact. No secret value reaches any file of the data directory (the
    SQLite db, -wal, -shm, audit files, ...) or the server's logs, in any common encoding."""

    def setUp(self):
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def clients(self):
        return self.server.client("secretsmanager"), self.server.client("kms")

    def populate(self, sm, kms):
        values = {}  # label -> bytes
        key = kms.create_key(Description="durability")["KeyMetadata"]
        names = []
        for i in range(6):
            name = f"durable/secret-{i}"
            names.append(name)
            kwargs = {"Name": name, "Tags": [{"Key": "i", "Value": str(i)}],
                      "Description": f"secret {i}"}
            if i % 2:
                kwargs["KmsKeyId"] = key["KeyId"]
            if i == 4:
                blob = os.urandom(48)
                values[f"{name}/binary-1"] = blob
                kwargs["SecretBinary"] = blob
            else:
                v = random_value(f"s{i}").encode()
                values[f"{name}/string-1"] = v
                kwargs["SecretString"] = v.decode()
            sm.create_secret(**kwargs)
            for j in range(2, 2 + i % 3):
                v = random_value(f"s{i}v{j}").encode()
                values[f"{name}/string-{j}"] = v
                sm.put_secret_value(SecretId=name, SecretString=v.decode())
        staged = random_value("staged").encode()
        values["staged"] = staged
        sm.put_secret_value(SecretId=names[0], SecretString=staged.decode(),
                            VersionStages=["CANARY"])
        big = (random_value("big") * 1500)[:65536].encode()
        values["big"] = big
        sm.put_secret_value(SecretId=names[1], SecretString=big.decode())
        json_secret = json.dumps({"username": "app", "password": random_value("pw")})
        values["json-password"] = json.loads(json_secret)["password"].encode()
        sm.put_secret_value(SecretId=names[2], SecretString=json_secret)
        sm.put_resource_policy(SecretId=names[3], ResourcePolicy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
        sm.rotate_secret(SecretId=names[5], RotationLambdaARN=LAMBDA_ARN,
                         RotationRules={"AutomaticallyAfterDays": 15})
        sm.delete_secret(SecretId=names[4], RecoveryWindowInDays=7)
        for n in range(3):
            values[f"random-password-{n}"] = sm.get_random_password(
                PasswordLength=40, ExcludePunctuation=True)["RandomPassword"].encode()
        return names, values

    def snapshot(self, sm, names):
        """Every secret's description and every version's value, as the API answers them."""
        state = {}
        for name in names:
            described = sm.describe_secret(SecretId=name)
            for volatile in ("ResponseMetadata", "LastAccessedDate"):
                described.pop(volatile, None)
            versions = {}
            if "DeletedDate" not in described:
                listed = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
                for v in listed["Versions"]:
                    try:
                        got = sm.get_secret_value(SecretId=name, VersionId=v["VersionId"])
                    except sm.exceptions.ResourceNotFoundException:
                        got = {"VersionStages": v.get("VersionStages", []),
                               "SecretString": "<no value: rotation pending>"}
                    versions[v["VersionId"]] = (got.get("SecretString"), got.get("SecretBinary"),
                                                tuple(got.get("VersionStages", [])),
                                                tuple(v.get("KmsKeyIds", [])))
                policy = sm.get_resource_policy(SecretId=name).get("ResourcePolicy")
            else:
                policy = None
            state[name] = {"describe": described, "versions": versions, "policy": policy}
        return state

    def files_to_scan(self):
        paths = []
        for root, _, files in os.walk(self.server.data_dir):
            paths.extend(os.path.join(root, f) for f in files)
        paths.extend(self.server.log_files())
        return paths

    def assertNoLeaks(self, values, phase):
        leaks, scanned, audit_files = [], 0, 0
        for path in self.files_to_scan():
            try:
                with open(path, "rb") as f:
                    content = f.read()
            except (FileNotFoundError, IsADirectoryError):
                continue
            scanned += len(content)
            audit_files += "/audit/" in path
            for label, secret in values.items():
                for form, needle in encodings(secret).items():
                    if needle in content:
                        leaks.append(f"{label} ({form}) in {path}")
        self.assertGreater(scanned, 0)
        self.assertGreater(audit_files, 0, "no audit files were scanned")
        self.assertEqual(leaks, [], f"secret values found on disk or in logs ({phase})")

    def test_sigkill_and_restart_keep_every_secret_and_version(self):
        sm, kms = self.clients()
        names, _ = self.populate(sm, kms)
        before = self.snapshot(sm, names)
        self.assertEqual(sum(len(s["versions"]) for s in before.values()), 14)
        self.server.kill()
        self.server.start()
        sm, kms = self.clients()
        after = self.snapshot(sm, names)
        for name in names:
            with self.subTest(secret=name):
                self.assertEqual(after[name], before[name])
        listed = sm.list_secrets(IncludePlannedDeletion=True,
                                 Filters=[{"Key": "name", "Values": ["durable/"]}])["SecretList"]
        self.assertEqual(sorted(s["Name"] for s in listed), names)
        # The restarted server keeps working on the same secrets.
        sm.restore_secret(SecretId=names[4])
        current = sm.get_secret_value(SecretId=names[4])
        first_version = sm.list_secret_version_ids(SecretId=names[4], IncludeDeprecated=True)
        self.assertEqual(len(first_version["Versions"]), 2)
        self.assertIn("AWSCURRENT", current["VersionStages"])
        sm.put_secret_value(SecretId=names[0], SecretString="after-restart")
        self.assertEqual(sm.get_secret_value(SecretId=names[0])["SecretString"], "after-restart")

    def test_secret_values_never_reach_disk_or_logs(self):
        sm, kms = self.clients()
        names, values = self.populate(sm, kms)
        # Read everything back (responses carry the values) and update through every path.
        self.snapshot(sm, names)
        v = random_value("update").encode()
        values["update-secret"] = v
        sm.update_secret(SecretId=names[0], SecretString=v.decode())
        batch = sm.batch_get_secret_value(SecretIdList=names[:4])
        self.assertEqual(len(batch["SecretValues"]), 4)
        # Failed requests that carried a value.
        rejected = random_value("rejected").encode()
        values["rejected"] = rejected
        with self.assertRaises(botocore.exceptions.ClientError):
            sm.create_secret(Name=names[0], SecretString=rejected.decode())
        self.assertNoLeaks(values, "server running (WAL not checkpointed)")
        self.server.kill()
        self.assertNoLeaks(values, "after SIGKILL")
        self.server.start()
        sm, _ = self.clients()
        self.snapshot(sm, names)
        self.assertEqual(self.server.stop(), 0)
        self.assertNoLeaks(values, "after restart and clean stop")


class SecretsTimeTravelTest(unittest.TestCase):
    """Recovery windows end and deprecated versions are pruned as time passes: the server is
    restarted under libfaketime days ahead (see test_time_travel.py)."""

    def setUp(self):
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.base_env = dict(self.server.env)

    def restart_days_ahead(self, days):
        self.assertEqual(self.server.stop(), 0)
        self.server.env = dict(self.base_env)
        self.server.env.update({"LD_PRELOAD": libfaketime(), "FAKETIME": f"+{days}d",
                                "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        self.server.start()

    def test_recovery_window_ends_and_old_versions_are_pruned(self):
        sm = self.server.client("secretsmanager")
        sm.create_secret(Name="tt/doomed", SecretString="doomed-value")
        sm.create_secret(Name="tt/later", SecretString="later-value")
        sm.create_secret(Name="tt/restored", SecretString="restored-value")
        sm.delete_secret(SecretId="tt/doomed", RecoveryWindowInDays=7)
        sm.delete_secret(SecretId="tt/later", RecoveryWindowInDays=30)
        sm.delete_secret(SecretId="tt/restored", RecoveryWindowInDays=7)
        sm.restore_secret(SecretId="tt/restored")
        # 100 versions, the most a secret holds; the oldest 98 are deprecated (no label).
        first = sm.create_secret(Name="tt/versions", SecretString="version-0")["VersionId"]
        for i in range(1, 100):
            sm.put_secret_value(SecretId="tt/versions", SecretString=f"version-{i}")
        listed = sm.list_secret_version_ids(SecretId="tt/versions", IncludeDeprecated=True,
                                            MaxResults=100)
        self.assertEqual(len(listed["Versions"]), 100)
        # Versions younger than 24 hours are never pruned: a 101st is refused.
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            sm.put_secret_value(SecretId="tt/versions", SecretString="version-100")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "LimitExceededException")

        self.restart_days_ahead(8)
        with clients_sign_ahead(8):
            sm = self.server.client("secretsmanager")
            gone = False
            for _ in range(50):  # the maintenance pass runs when the server starts
                try:
                    sm.describe_secret(SecretId="tt/doomed")
                except sm.exceptions.ResourceNotFoundException:
                    gone = True
                    break
                time.sleep(0.1)
            self.assertTrue(gone, "a secret whose 7-day recovery window ended still exists")
            self.assertEqual(sm.create_secret(Name="tt/doomed", SecretString="new")["Name"],
                             "tt/doomed")
            self.assertIn("DeletedDate", sm.describe_secret(SecretId="tt/later"))
            self.assertEqual(sm.get_secret_value(SecretId="tt/restored")["SecretString"],
                             "restored-value")
            # Now the deprecated versions are older than 24 hours: the oldest one makes room.
            newest = sm.put_secret_value(SecretId="tt/versions", SecretString="version-100")
            versions = sm.list_secret_version_ids(SecretId="tt/versions", IncludeDeprecated=True,
                                                  MaxResults=100)["Versions"]
            self.assertEqual(len(versions), 100)
            self.assertNotIn(first, [v["VersionId"] for v in versions])
            with self.assertRaises(sm.exceptions.ResourceNotFoundException):
                sm.get_secret_value(SecretId="tt/versions", VersionId=first)
            self.assertEqual(sm.get_secret_value(SecretId="tt/versions")["VersionId"],
                             newest["VersionId"])
            self.assertEqual(sm.get_secret_value(SecretId="tt/versions",
                                                 VersionStage="AWSPREVIOUS")["SecretString"],
                             "version-99")
        self.assertEqual(self.server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
