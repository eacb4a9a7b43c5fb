"""IAM and STS over the AWS Query protocol, end to end (issue 3; BRIEF scenarios S3, S5, S7, S10).

Real `meridian up` processes, driven by the real aws cli and boto3 (botocore's Query serializer
and XML parser, unmodified). The account root creates users, groups, roles and policies; the
principals it creates are then held to AWS's evaluation logic on KMS and Secrets Manager:
identity policies, group policies, permissions boundaries, role trust policies (with an MFA
condition, TOTP computed here from the device's Base32StringSeed), key policies naming a role,
and aws:SourceVpce. Request quotas answer ThrottlingException / Throttling.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import subprocess
import time
import unittest
import uuid
from unittest import mock

import boto3
import botocore.auth
import botocore.config
import botocore.exceptions

from meridian_harness import MeridianProcess, MeridianTestCase, RegionServerProcess, free_port, send_raw


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resource="*", **extra):
    return dict({"Effect": "Allow", "Action": actions, "Resource": resource}, **extra)


def totp(seed_base32, step):
    """RFC 6238 TOTP (HMAC-SHA-1, 6 digits) for a 30-second step counter."""
    key = base64.b32decode(seed_base32)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1000000:06d}"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class IamClientsMixin:
    """boto3 clients and aws cli runs for any credential of the server under test."""

    def client_as(self, service, creds, region=None, retries=1, server=None, validate=True):
        server = server or self.server
        config = botocore.config.Config(retries={"total_max_attempts": retries, "mode": "standard"},
                                        connect_timeout=5, read_timeout=30, parameter_validation=validate)
        return boto3.session.Session().client(
            service, endpoint_url=server.endpoint, region_name=region or server.region,
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"), config=config)

    def aws(self, *args, creds=None, check=True):
        """Runs the aws cli against the server; returns parsed JSON output (or the process)."""
        env = dict(os.environ)
        if creds is None:
            ak, sk = self.server.admin_credentials()
            creds = {"AccessKeyId": ak, "SecretAccessKey": sk}
        env.update({"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                    "AWS_DEFAULT_REGION": self.server.region, "AWS_MAX_ATTEMPTS": "1",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        env.pop("AWS_SESSION_TOKEN", None)
        if creds.get("SessionToken"):
            env["AWS_SESSION_TOKEN"] = creds["SessionToken"]
        proc = subprocess.run(["aws", "--endpoint-url", self.server.endpoint, "--output", "json", *args],
                              env=env, capture_output=True, text=True, timeout=60)
        if not check:
            return proc
        self.assertEqual(proc.returncode, 0, f"aws {' '.join(args)} failed: {proc.stderr}")
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def new_user(self, name=None, **policies):
        """A user with an access key (created by root through boto3); returns (name, arn, creds)."""
        name = name or unique("user")
        arn = self.iam.create_user(UserName=name)["User"]["Arn"]
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        for policy_name, document in policies.items():
            self.iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=document)
        return name, arn, {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


class IamStsTest(IamClientsMixin, MeridianTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iam = cls.server.client("iam")
        cls.sts = cls.server.client("sts")

    # ---- users, access keys and identity policies (aws cli) -------------------------------------

    def test_root_creates_a_user_with_the_aws_cli_who_is_denied_until_a_policy_allows(self):
        name = unique("alice")
        user = self.aws("iam", "create-user", "--user-name", name, "--tags", "Key=team,Value=payments")["User"]
        self.assertEqual(user["Arn"], f"arn:aws:iam::{self.account_id}:user/{name}")
        self.assertEqual(user["Tags"], [{"Key": "team", "Value": "payments"}])
        key = self.aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
        self.assertTrue(key["AccessKeyId"].startswith("AKIA"))
        self.assertEqual(len(key["SecretAccessKey"]), 40)
        creds = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
        self.assertIn(name, [u["UserName"] for u in self.aws("iam", "list-users")["Users"]])

        # Who am I, as the new user (aws cli and boto3).
        me = self.aws("sts", "get-caller-identity", creds=creds)
        self.assertEqual(me["Arn"], user["Arn"])
        self.assertEqual(me["Account"], self.account_id)
        self.assertEqual(me["UserId"], user["UserId"])

        kms = self.client_as("kms", creds)
        with self.assertAwsError("AccessDeniedException", status=400) as ctx:
            kms.create_key()
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         f"User: {user['Arn']} is not authorized to perform: kms:CreateKey because no "
                         "identity-based policy allows the kms:CreateKey action")
        denied = self.aws("kms", "create-key", creds=creds, check=False)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("AccessDeniedException", denied.stderr)

        document = doc(allow(["kms:CreateKey", "kms:DescribeKey", "kms:Encrypt", "kms:Decrypt"]))
        self.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "kms-use",
                 "--policy-document", document)
        # The aws cli decodes the URL-encoded document AWS returns into JSON.
        got = self.aws("iam", "get-user-policy", "--user-name", name, "--policy-name", "kms-use")
        self.assertEqual(got["PolicyDocument"], json.loads(document))
        self.assertEqual(self.aws("iam", "list-user-policies", "--user-name", name)["PolicyNames"], ["kms-use"])

        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"hello")["CiphertextBlob"]
        self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"hello")
        with self.assertAwsError("AccessDeniedException", message_contains="kms:ScheduleKeyDeletion"):
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        # IAM itself is Query: AccessDenied, HTTP 403.
        with self.assertAwsError("AccessDenied", status=403,
                                 message_contains=f"User: {user['Arn']} is not authorized to perform: iam:ListUsers"):
            self.client_as("iam", creds).list_users()

        # An explicit deny beats the allow.
        self.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "no-decrypt",
                 "--policy-document", doc({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}))
        with self.assertAwsError("AccessDeniedException",
                                 message_contains="with an explicit deny in an identity-based policy"):
            kms.decrypt(CiphertextBlob=blob)

        # A deleted access key stops working at once.
        self.aws("iam", "delete-access-key", "--user-name", name, "--access-key-id", key["AccessKeyId"])
        with self.assertAwsError("UnrecognizedClientException"):
            kms.describe_key(KeyId=key_id)

    def test_iam_errors_are_aws_shaped(self):
        with self.assertAwsError("NoSuchEntity", status=404):
            self.iam.get_user(UserName="nobody-" + uuid.uuid4().hex[:6])
        name = unique("dup")
        self.iam.create_user(UserName=name)
        with self.assertAwsError("EntityAlreadyExists", status=409):
            self.iam.create_user(UserName=name)
        with self.assertAwsError("MalformedPolicyDocument", message_contains="Statement"):
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument='{"Version":"2012-10-17"}')
        # botocore raises the modeled exception class for the Query error code.
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.delete_user(UserName="nobody-" + uuid.uuid4().hex[:6])
        cli = self.aws("iam", "get-user", "--user-name", "nobody-x", check=False)
        self.assertNotEqual(cli.returncode, 0)
        self.assertIn("NoSuchEntity", cli.stderr)

    # ---- groups and permissions boundaries ---------------------------------------------------

    def test_group_policy_applies_to_members_only(self):
        name, arn, creds = self.new_user()
        group = unique("readers")
        self.aws("iam", "create-group", "--group-name", group)
        self.aws("iam", "put-group-policy", "--group-name", group, "--policy-name", "list",
                 "--policy-document", doc(allow("kms:ListKeys")))
        kms = self.client_as("kms", creds)
        with self.assertAwsError("AccessDeniedException", message_contains="kms:ListKeys"):
            kms.list_keys()
        self.aws("iam", "add-user-to-group", "--group-name", group, "--user-name", name)
        members = self.aws("iam", "get-group", "--group-name", group)["Users"]
        self.assertEqual([u["Arn"] for u in members], [arn])
        kms.list_keys()
        self.aws("iam", "remove-user-from-group", "--group-name", group, "--user-name", name)
        with self.assertAwsError("AccessDeniedException"):
            kms.list_keys()

    def test_permissions_boundary_limits_a_managed_policy(self):
        name, arn, creds = self.new_user()
        admin = self.iam.create_policy(PolicyName=unique("kms-all"), PolicyDocument=doc(allow("kms:*")))["Policy"]
        boundary = self.iam.create_policy(PolicyName=unique("kms-read"),
                                          PolicyDocument=doc(allow(["kms:List*", "kms:Describe*"])))["Policy"]
        self.iam.attach_user_policy(UserName=name, PolicyArn=admin["Arn"])
        attached = self.iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in attached], [admin["Arn"]])
        kms = self.client_as("kms", creds)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]  # the managed policy allows everything
        self.iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary["Arn"])
        self.assertEqual(self.iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"],
                         boundary["Arn"])
        kms.list_keys()
        kms.describe_key(KeyId=key_id)
        with self.assertAwsError("AccessDeniedException", message_contains="permissions boundary"):
            kms.create_key()
        with self.assertAwsError("AccessDeniedException"):
            kms.encrypt(KeyId=key_id, Plaintext=b"x")
        self.iam.delete_user_permissions_boundary(UserName=name)
        kms.encrypt(KeyId=key_id, Plaintext=b"x")

    # ---- roles, trust policies and STS -------------------------------------------------------

    def make_role(self, trust_statement, **inline):
        role_name = unique("role")
        role = self.iam.create_role(RoleName=role_name,
                                    AssumeRolePolicyDocument=doc(trust_statement))["Role"]
        for policy_name, document in inline.items():
            self.iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=document)
        return role

    def test_assume_role_with_a_trust_policy_gives_working_session_credentials(self):
        name, user_arn, creds = self.new_user(assume=doc(allow("sts:AssumeRole")))
        role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"},
                              kms=doc(allow(["kms:CreateKey", "kms:Encrypt", "kms:Decrypt"])))
        # boto3 decodes the trust policy AWS returns URL-encoded.
        got = self.iam.get_role(RoleName=role["RoleName"])["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"], {"AWS": user_arn})

        sts = self.client_as("sts", creds)
        out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="batch-1", DurationSeconds=900)
        session = out["Credentials"]
        self.assertTrue(session["AccessKeyId"].startswith("ASIA"))
        self.assertTrue(session["SessionToken"])
        lifetime = session["Expiration"].timestamp() - time.time()
        self.assertTrue(840 <= lifetime <= 960, lifetime)
        session_arn = f"arn:aws:sts::{self.account_id}:assumed-role/{role['RoleName']}/batch-1"
        self.assertEqual(out["AssumedRoleUser"]["Arn"], session_arn)

        me = self.client_as("sts", session).get_caller_identity()
        self.assertEqual(me["Arn"], session_arn)
        kms = self.client_as("kms", session)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"from a role")["CiphertextBlob"]
        self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"from a role")
        with self.assertAwsError("AccessDeniedException",
                                 message_contains=f"{session_arn} is not authorized to perform: kms:ListKeys"):
            kms.list_keys()
        # The session token is part of the credential: without it the key id is not accepted.
        tokenless = dict(session)
        tokenless.pop("SessionToken")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.client_as("kms", tokenless).encrypt(KeyId=key_id, Plaintext=b"x")
        # The aws cli works with the session credentials too.
        self.assertEqual(self.aws("sts", "get-caller-identity", creds=session)["Arn"], session_arn)

        # Someone the trust policy does not name is refused, even with sts:AssumeRole allowed.
        _, other_arn, other = self.new_user(assume=doc(allow("sts:AssumeRole")))
        with self.assertAwsError("AccessDenied", status=403) as ctx:
            self.client_as("sts", other).assume_role(RoleArn=role["Arn"], RoleSessionName="intruder")
        self.assertIn(f"User: {other_arn} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}",
                      ctx.exception.response["Error"]["Message"])
        with self.assertAwsError("ValidationError", message_contains="durationSeconds"):
            unvalidated = self.client_as("sts", creds, validate=False)
            unvalidated.assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=60)

    def test_assume_role_requiring_mfa(self):
        name, user_arn, creds = self.new_user(assume=doc(allow("sts:AssumeRole")))
        role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole",
                               "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
                              kms=doc(allow("kms:ListKeys")))
        device = self.iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))["VirtualMFADevice"]
        serial = device["SerialNumber"]
        seed = device["Base32StringSeed"]  # boto3 decodes the blob: the base32 text as bytes
        self.assertEqual(len(base64.b32decode(seed)), 20)  # a 160-bit TOTP seed
        now_step = int(time.time()) // 30
        self.iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                   AuthenticationCode1=totp(seed, now_step - 2),
                                   AuthenticationCode2=totp(seed, now_step - 1))
        self.assertEqual([d["SerialNumber"] for d in self.iam.list_mfa_devices(UserName=name)["MFADevices"]],
                         [serial])

        sts = self.client_as("sts", creds)
        with self.assertAwsError("AccessDenied", message_contains="sts:AssumeRole"):
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="no-mfa")
        wrong = "000000" if totp(seed, now_step) != "000000" else "111111"
        with self.assertRaises(botocore.exceptions.ClientError):
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bad-code", SerialNumber=serial, TokenCode=wrong)
        session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="with-mfa", SerialNumber=serial,
                                  TokenCode=totp(seed, int(time.time()) // 30))["Credentials"]
        self.client_as("kms", session).list_keys()

    # ---- S3: least-privilege key policies that name a role ----------------------------------

    def test_key_policy_granting_a_role_directly(self):
        # The role has no identity policy for KMS at all: the key policy alone grants it (same
        # account, resource-based policy naming the principal), and only what it names.
        name, user_arn, creds = self.new_user(assume=doc(allow("sts:AssumeRole")))
        role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"})
        pinned_role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn},
                                      "Action": "sts:AssumeRole"})
        key_id = self.kms.create_key(Policy=doc(
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AppRoleUse", "Effect": "Allow", "Principal": {"AWS": role["Arn"]},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
            # Seed 000's pattern: usable only when the request targets us-west-2 (this server is
            # us-east-1, so a stolen credential used here is refused).
            {"Sid": "PinnedRoleUse", "Effect": "Allow", "Principal": {"AWS": pinned_role["Arn"]},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}}),
            BypassPolicyLockoutSafetyCheck=False)["KeyMetadata"]["KeyId"]
        sts = self.client_as("sts", creds)
        app = self.client_as("kms", sts.assume_role(RoleArn=role["Arn"], RoleSessionName="app")["Credentials"])
        blob = app.encrypt(KeyId=key_id, Plaintext=b"least privilege")["CiphertextBlob"]
        self.assertEqual(app.decrypt(CiphertextBlob=blob)["Plaintext"], b"least privilege")
        with self.assertAwsError("AccessDeniedException", message_contains="kms:DescribeKey"):
            app.describe_key(KeyId=key_id)
        pinned = self.client_as("kms", sts.assume_role(RoleArn=pinned_role["Arn"],
                                                       RoleSessionName="stolen")["Credentials"])
        with self.assertAwsError("AccessDeniedException", message_contains="kms:Encrypt"):
            pinned.encrypt(KeyId=key_id, Plaintext=b"x")
        # The user itself is not named by the key policy and has no identity policy for KMS.
        with self.assertAwsError("AccessDeniedException"):
            self.client_as("kms", creds).encrypt(KeyId=key_id, Plaintext=b"x")

    # ---- S7: what can this credential do? (the policy simulator, same evaluator) --------------

    def test_simulate_principal_and_custom_policy(self):
        name, user_arn, creds = self.new_user(
            use=doc(allow(["kms:Encrypt", "kms:Decrypt"]),
                    {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}))
        results = self.iam.simulate_principal_policy(
            PolicySourceArn=user_arn,
            ActionNames=["kms:Encrypt", "kms:CreateKey", "kms:ScheduleKeyDeletion"])["EvaluationResults"]
        decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
        self.assertEqual(decisions, {"kms:Encrypt": "allowed", "kms:CreateKey": "implicitDeny",
                                     "kms:ScheduleKeyDeletion": "explicitDeny"})
        encrypt = next(r for r in results if r["EvalActionName"] == "kms:Encrypt")
        self.assertTrue(encrypt["MatchedStatements"])
        # Every decision the simulator gives is the one the live request gets.
        kms = self.client_as("kms", creds)
        with self.assertAwsError("AccessDeniedException"):
            kms.create_key()

        custom = self.iam.simulate_custom_policy(
            PolicyInputList=[doc(allow("kms:Decrypt", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))],
            ActionNames=["kms:Decrypt"],
            ContextEntries=[{"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["true"],
                             "ContextKeyType": "boolean"}])["EvaluationResults"]
        self.assertEqual(custom[0]["EvalDecision"], "allowed")
        without = self.iam.simulate_custom_policy(
            PolicyInputList=[doc(allow("kms:Decrypt", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))],
            ActionNames=["kms:Decrypt"])["EvaluationResults"]
        self.assertEqual(without[0]["EvalDecision"], "implicitDeny")

    def test_get_caller_identity_for_root(self):
        me = self.sts.get_caller_identity()
        self.assertEqual(me["Arn"], f"arn:aws:iam::{self.account_id}:root")
        self.assertEqual(me["Account"], self.account_id)

    # ---- the Query protocol itself -----------------------------------------------------------

    def query(self, body, service="iam", region=None):
        import botocore.auth
        import botocore.credentials
        from botocore.awsrequest import AWSRequest
        ak, sk = self.server.admin_credentials()
        request = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(ak, sk), service,
                                region or self.region).add_auth(request)
        prepared = request.prepare()
        return send_raw(self.server.port, "POST", "/", prepared.body, dict(prepared.headers))

    def test_malformed_query_requests_get_xml_errors(self):
        cases = [
            (b"Action=ListUsers&Version=2010-05-08&X=%zz", 400, b"<Code>MalformedQueryString</Code>"),
            (b"Version=2010-05-08", 400, b"<Code>MissingAction</Code>"),
            (b"Action=NoSuchThing&Version=2010-05-08", 400, b"<Code>InvalidAction</Code>"),
            (b"Action=ListUsers&Version=1999-01-01", 400, b"<Code>InvalidAction</Code>"),
            (b"Action=ListUsers&Action=ListRoles", 400, b"<Code>InvalidQueryParameter</Code>"),
            (b"Action=ListUsers&Tags.member.0.Key=a", 400, b"<Code>InvalidQueryParameter</Code>"),
            (b"Action=ListUsers&X=%FF", 400, b"<Code>MalformedQueryString</Code>"),
        ]
        for body, status, code in cases:
            got_status, headers, raw = self.query(body)
            self.assertEqual(got_status, status, (body, raw))
            self.assertIn(code, raw, body)
            self.assertIn(b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">', raw)
            self.assertIn(b"<Type>Sender</Type>", raw)
            self.assertTrue(headers["content-type"].startswith("text/xml"))
            self.assertIn(f"<RequestId>{headers['x-amzn-requestid']}</RequestId>".encode(), raw)
        # The server is fine afterwards.
        self.iam.list_users()

    def test_iam_accepts_the_global_signing_region(self):
        # IAM is global: signed for us-east-1 (AWS's IAM signing region) or for this region.
        status, _, raw = self.query(b"Action=ListUsers&Version=2010-05-08", region="us-east-1")
        self.assertEqual(status, 200, raw)
        self.assertIn(b"<ListUsersResult>", raw)
        status, _, raw = self.query(b"Action=GetCallerIdentity&Version=2011-06-15", service="sts")
        self.assertEqual(status, 200, raw)
        self.assertIn(b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">', raw)
        status, _, raw = self.query(b"Action=ListUsers&Version=2010-05-08", region="eu-west-3")
        self.assertEqual(status, 403, raw)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", raw)

    def test_audit_never_records_iam_or_sts_secrets(self):
        name, user_arn, creds = self.new_user(assume=doc(allow("sts:AssumeRole")))
        role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"})
        session = self.client_as("sts", creds).assume_role(RoleArn=role["Arn"], RoleSessionName="audit")
        device = self.iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))["VirtualMFADevice"]
        secrets = [creds["SecretAccessKey"], session["Credentials"]["SecretAccessKey"],
                   session["Credentials"]["SessionToken"], device["Base32StringSeed"].decode(),
                   base64.b64encode(device["Base32StringSeed"]).decode()]
        audit_dir = os.path.join(self.server.data_dir, self.region, "audit")
        deadline = time.monotonic() + 10
        records = []
        while time.monotonic() < deadline:
            records = []
            for file_name in sorted(os.listdir(audit_dir)):
                if file_name.endswith(".jsonl"):
                    with open(os.path.join(audit_dir, file_name)) as f:
                        records += [json.loads(line) for line in f if line.strip()]
            if any(r.get("eventName") == "CreateVirtualMFADevice" for r in records):
                break
            time.sleep(0.1)
        text = json.dumps(records)
        for secret in secrets:
            self.assertNotIn(secret, text)
        assume = [r for r in records if r.get("eventName") == "AssumeRole" and not r.get("errorCode")]
        self.assertTrue(assume)
        self.assertEqual(assume[-1]["eventSource"], "sts.amazonaws.com")
        self.assertEqual(assume[-1]["responseElements"]["credentials"]["accessKeyId"],
                         session["Credentials"]["AccessKeyId"])
        created = [r for r in records if r.get("eventName") == "CreateUser"]
        self.assertEqual(created[-1]["eventSource"], "iam.amazonaws.com")

    # ---- session tags need sts:TagSession (issue 3, remaining work) ----------------------------

    def test_session_tags_need_sts_tag_session_in_the_trust_policy(self):
        # IAM User Guide, "Permissions required to add session tags".
        name, user_arn, creds = self.new_user()
        role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"})
        sts = self.client_as("sts", creds)
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="plain")
        with self.assertAwsError("AccessDenied", status=403, message_contains="sts:TagSession"):
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="tagged", Tags=[{"Key": "team", "Value": "blue"}])
        with self.assertAwsError("AccessDenied", status=403, message_contains="sts:TagSession"):
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="tagged", TransitiveTagKeys=["team"])
        # TagSession allowed for the key "team" only (aws:TagKeys) with value blue (aws:RequestTag).
        self.iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:TagSession",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
                           "StringEquals": {"aws:RequestTag/team": "blue"}}}))
        out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="tagged",
                              Tags=[{"Key": "team", "Value": "blue"}], TransitiveTagKeys=["team"])
        self.assertTrue(out["Credentials"]["AccessKeyId"].startswith("ASIA"))
        with self.assertAwsError("AccessDenied", message_contains="sts:TagSession"):
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="red", Tags=[{"Key": "team", "Value": "red"}])
        with self.assertAwsError("AccessDenied", message_contains="sts:TagSession"):
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="extra",
                            Tags=[{"Key": "team", "Value": "blue"}, {"Key": "cost", "Value": "1"}])

    # ---- AWS managed policies ---------------------------------------------------------------------

    def test_aws_managed_policies_are_attachable_listed_and_read_only(self):
        admin = self.iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
        self.assertEqual(admin["PolicyName"], "AdministratorAccess")
        version = self.iam.get_policy_version(PolicyArn=admin["Arn"], VersionId=admin["DefaultVersionId"])
        self.assertEqual(version["PolicyVersion"]["Document"]["Statement"],
                         [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
        kms_power = "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser"
        name, _, creds = self.new_user()
        kms = self.client_as("kms", creds)
        with self.assertAwsError("AccessDeniedException"):
            kms.create_key()
        self.aws("iam", "attach-user-policy", "--user-name", name, "--policy-arn", kms_power)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        self.assertEqual(kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"], key_id)
        with self.assertAwsError("AccessDeniedException", message_contains="kms:Encrypt"):
            kms.encrypt(KeyId=key_id, Plaintext=b"x")  # not in AWSKeyManagementServicePowerUser
        attached = self.iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
        self.assertEqual(attached, [{"PolicyName": "AWSKeyManagementServicePowerUser", "PolicyArn": kms_power}])
        aws_names = [p["PolicyName"] for p in self.iam.list_policies(Scope="AWS")["Policies"]]
        for expected in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "IAMReadOnlyAccess",
                         "AWSKeyManagementServicePowerUser", "SecretsManagerReadWrite"):
            self.assertIn(expected, aws_names)
        attached_names = [p["PolicyName"] for p in
                          self.iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]]
        self.assertIn("AWSKeyManagementServicePowerUser", attached_names)
        self.assertNotIn("AdministratorAccess", attached_names)
        local = [p["Arn"] for p in self.iam.list_policies(Scope="Local")["Policies"]]
        self.assertFalse([a for a in local if ":aws:policy/" in a])
        self.assertGreaterEqual(self.iam.get_policy(PolicyArn=kms_power)["Policy"]["AttachmentCount"], 1)
        with self.assertAwsError("AccessDenied", status=403,
                                 message_contains="Cannot delete policies outside your own account."):
            self.iam.delete_policy(PolicyArn=kms_power)
        with self.assertAwsError("AccessDenied", status=403,
                                 message_contains="Cannot create versions for policies outside your own account."):
            self.iam.create_policy_version(PolicyArn=kms_power, PolicyDocument=doc(allow("*")), SetAsDefault=True)
        with self.assertAwsError("NoSuchEntity", status=404):
            self.iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/NotShippedByMeridian")
        self.iam.detach_user_policy(UserName=name, PolicyArn=kms_power)
        with self.assertAwsError("AccessDeniedException"):
            kms.create_key()

    def test_duplicate_sids_are_malformed_in_iam_policies(self):
        name, _, _ = self.new_user()
        document = doc(dict(allow("kms:Encrypt"), Sid="Same"), dict(allow("kms:Decrypt"), Sid="Same"))
        with self.assertAwsError("MalformedPolicyDocument", status=400,
                                 message_contains="Statement IDs (SID) in a single policy must be unique."):
            self.iam.put_user_policy(UserName=name, PolicyName="dup", PolicyDocument=document)
        with self.assertAwsError("MalformedPolicyDocument"):
            self.iam.create_policy(PolicyName=unique("dup"), PolicyDocument=document)

    # ---- audit: CloudTrail's userIdentity for IAM users and assumed roles ---------------------------

    def audit_records(self, predicate, timeout=10):
        audit_dir = os.path.join(self.server.data_dir, self.region, "audit")
        deadline = time.monotonic() + timeout
        while True:
            records = []
            for file_name in sorted(os.listdir(audit_dir)):
                if file_name.endswith(".jsonl"):
                    with open(os.path.join(audit_dir, file_name)) as f:
                        records += [json.loads(line) for line in f if line.strip()]
            found = [r for r in records if predicate(r)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def test_audit_user_identity_carries_principal_ids(self):
        name, user_arn, creds = self.new_user(use=doc(allow(["kms:ListKeys"])))
        user_id = self.iam.get_user(UserName=name)["User"]["UserId"]
        self.client_as("kms", creds).list_keys()
        role = self.make_role({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"},
                              kms=doc(allow("kms:ListAliases")))
        assumed = self.client_as("sts", creds).assume_role(RoleArn=role["Arn"], RoleSessionName="audited")
        self.client_as("kms", assumed["Credentials"]).list_aliases()

        by_user = self.audit_records(lambda r: r.get("eventName") == "ListKeys" and
                                     r.get("userIdentity", {}).get("accessKeyId") == creds["AccessKeyId"])
        self.assertTrue(by_user)
        identity = by_user[-1]["userIdentity"]
        self.assertEqual(identity["type"], "IAMUser")
        self.assertEqual(identity["principalId"], user_id)
        self.assertTrue(identity["principalId"].startswith("AIDA"))
        self.assertEqual(identity["arn"], user_arn)
        self.assertEqual(identity["accountId"], self.account_id)

        session_key = assumed["Credentials"]["AccessKeyId"]
        by_role = self.audit_records(lambda r: r.get("eventName") == "ListAliases" and
                                     r.get("userIdentity", {}).get("accessKeyId") == session_key)
        self.assertTrue(by_role)
        identity = by_role[-1]["userIdentity"]
        self.assertEqual(identity["type"], "AssumedRole")
        self.assertEqual(identity["principalId"], assumed["AssumedRoleUser"]["AssumedRoleId"])
        self.assertTrue(identity["principalId"].startswith(role["RoleId"] + ":audited"))
        self.assertEqual(identity["arn"], assumed["AssumedRoleUser"]["Arn"])

        self.sts.get_caller_identity()
        ak, _ = self.server.admin_credentials()
        by_root = self.audit_records(lambda r: r.get("eventName") == "GetCallerIdentity" and
                                     r.get("userIdentity", {}).get("accessKeyId") == ak)
        self.assertEqual(by_root[-1]["userIdentity"]["type"], "Root")
        self.assertEqual(by_root[-1]["userIdentity"]["principalId"], self.account_id)

    # ---- the GET form of the Query protocol ------------------------------------------------------------

    def test_query_get_form_with_header_and_query_string_signatures(self):
        import botocore.credentials
        from botocore.awsrequest import AWSRequest
        ak, sk = self.server.admin_credentials()
        credentials = botocore.credentials.Credentials(ak, sk)
        name, _, _ = self.new_user()

        # Header-signed GET: the parameters in the query string.
        def path_of(prepared):
            return prepared.url[len(self.server.endpoint):]

        request = AWSRequest(method="GET", url=self.server.endpoint + f"/?Action=GetUser&Version=2010-05-08&UserName={name}")
        botocore.auth.SigV4Auth(credentials, "iam", self.region).add_auth(request)
        prepared = request.prepare()
        status, _, raw = send_raw(self.server.port, "GET", path_of(prepared), None, dict(prepared.headers))
        self.assertEqual(status, 200, raw)
        self.assertIn(f"<UserName>{name}</UserName>".encode(), raw)
        self.assertIn(b"<GetUserResult>", raw)

        # Presigned GET (SigV4 query-string authentication): the X-Amz-* parameters are the verifier's.
        request = AWSRequest(method="GET", url=self.server.endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15")
        botocore.auth.SigV4QueryAuth(credentials, "sts", self.region, expires=300).add_auth(request)
        prepared = request.prepare()
        status, _, raw = send_raw(self.server.port, "GET", path_of(prepared), None, {})
        self.assertEqual(status, 200, raw)
        self.assertIn(f"<Arn>arn:aws:iam::{self.account_id}:root</Arn>".encode(), raw)

        # A tampered presigned URL is refused; a GET without Action is an XML error.
        status, _, raw = send_raw(self.server.port, "GET",
                                  path_of(prepared).replace("GetCallerIdentity", "GetSessionToken"), None, {})
        self.assertEqual(status, 403, raw)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", raw)
        request = AWSRequest(method="GET", url=self.server.endpoint + "/?Version=2010-05-08")
        botocore.auth.SigV4Auth(credentials, "iam", self.region).add_auth(request)
        prepared = request.prepare()
        status, _, raw = send_raw(self.server.port, "GET", path_of(prepared), None, dict(prepared.headers))
        self.assertEqual(status, 400, raw)
        self.assertIn(b"<Code>MissingAction</Code>", raw)


class QuotaTest(IamClientsMixin, MeridianTestCase):
    """S10: token-bucket quotas per account answer ThrottlingException (JSON) / Throttling (Query),
    HTTP 400, "Rate exceeded"; SDKs with retries back off and get through."""

    EXTRA_ARGS = ("--quota", "symmetric_crypto=5:5", "--quota", "iam=3:3")

    def test_symmetric_crypto_is_throttled_and_sdk_retries_get_through(self):
        key_id = self.create_key()["KeyId"]  # kms_management: not limited here
        throttled = 0
        for _ in range(20):
            try:
                self.kms.encrypt(KeyId=key_id, Plaintext=b"x")
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ThrottlingException")
                self.assertEqual(e.response["Error"]["Message"], "Rate exceeded")
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
                throttled += 1
        self.assertGreaterEqual(throttled, 10)
        # Management operations are another bucket.
        for _ in range(10):
            self.kms.describe_key(KeyId=key_id)
        # An SDK with retries (standard mode backs off on ThrottlingException) gets through.
        ak, sk = self.server.admin_credentials()
        patient = self.client_as("kms", {"AccessKeyId": ak, "SecretAccessKey": sk}, retries=10)
        time.sleep(1.2)
        for _ in range(12):
            patient.encrypt(KeyId=key_id, Plaintext=b"x")

    def test_iam_is_throttled_with_the_query_code(self):
        iam = self.server.client("iam")
        codes = set()
        for _ in range(12):
            try:
                iam.list_users()
            except botocore.exceptions.ClientError as e:
                codes.add((e.response["Error"]["Code"], e.response["Error"]["Message"],
                           e.response["ResponseMetadata"]["HTTPStatusCode"]))
        self.assertEqual(codes, {("Throttling", "Rate exceeded", 400)})


class SourceVpceTest(IamClientsMixin, unittest.TestCase):
    """S5: a listener with an endpoint id; an identity policy scoped to one secret ARN with
    aws:SourceVpce admits only requests that arrive through that listener."""

    @classmethod
    def setUpClass(cls):
        # `up` writes the region's server.json; the region is then run with an extra listener
        # that carries an endpoint id.
        cls.deployment = MeridianProcess()
        cls.deployment.start()
        cls.deployment.stop()
        cls.region = cls.deployment.region
        path = os.path.join(cls.deployment.data_dir, cls.region, "server.json")
        with open(path) as f:
            config = json.load(f)
        cls.vpce_port = free_port()
        config["listeners"].append({"address": "127.0.0.1", "port": cls.vpce_port, "endpoint_id": "vpce-0abc1234",
                                    "tls": False})
        with open(path, "w") as f:
            json.dump(config, f)
        cls.process = RegionServerProcess(cls.deployment, cls.region)
        cls.process.start()
        cls.server = cls.deployment  # endpoint, admin credentials, data dir

    @classmethod
    def tearDownClass(cls):
        cls.process.stop()
        cls.process.cleanup()
        cls.deployment.cleanup()

    def via_vpce(self, service, creds):
        config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
        return boto3.session.Session().client(
            service, endpoint_url=f"http://127.0.0.1:{self.vpce_port}", region_name=self.region,
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], config=config)

    def test_secret_scoped_policy_with_source_vpce(self):
        ak, sk = self.deployment.admin_credentials()
        root = {"AccessKeyId": ak, "SecretAccessKey": sk}
        self.iam = self.client_as("iam", root)
        sm = self.client_as("secretsmanager", root)
        secret_arn = sm.create_secret(Name=unique("prod/db"), SecretString="s3cr3t-value")["ARN"]
        other_arn = sm.create_secret(Name=unique("prod/other"), SecretString="other-value")["ARN"]
        _, _, creds = self.new_user(read=doc(allow("secretsmanager:GetSecretValue", resource=secret_arn,
                                                   Condition={"StringEquals": {"aws:SourceVpce": "vpce-0abc1234"}})))
        through_endpoint = self.via_vpce("secretsmanager", creds)
        self.assertEqual(through_endpoint.get_secret_value(SecretId=secret_arn)["SecretString"], "s3cr3t-value")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            through_endpoint.get_secret_value(SecretId=other_arn)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDeniedException")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client_as("secretsmanager", creds).get_secret_value(SecretId=secret_arn)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertIn("secretsmanager:GetSecretValue", ctx.exception.response["Error"]["Message"])


class SessionExpiryTest(IamClientsMixin, unittest.TestCase):
    """Temporary credentials expire: AssumeRole's minimum DurationSeconds is 900, so the server is
    restarted under libfaketime 20 minutes ahead (clients sign with the same shifted clock)."""

    def test_session_credentials_are_rejected_after_expiry(self):
        from test_time_travel import libfaketime  # the harness's libfaketime lookup
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        ak, sk = self.server.admin_credentials()
        self.iam = self.client_as("iam", {"AccessKeyId": ak, "SecretAccessKey": sk})
        name, user_arn, creds = self.new_user(assume=doc(allow("sts:AssumeRole")))
        role = self.iam.create_role(RoleName=unique("short"), AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}))["Role"]
        self.iam.put_role_policy(RoleName=role["RoleName"], PolicyName="list", PolicyDocument=doc(allow("kms:ListKeys")))
        session = self.client_as("sts", creds).assume_role(RoleArn=role["Arn"], RoleSessionName="short",
                                                           DurationSeconds=900)["Credentials"]
        self.client_as("kms", session).list_keys()

        env = dict(self.server.env)
        self.assertEqual(self.server.stop(), 0)
        self.server.env = dict(env, LD_PRELOAD=libfaketime(), FAKETIME="+20m", FAKETIME_DONT_FAKE_MONOTONIC="1")
        self.server.start()
        real = botocore.auth.get_current_datetime
        ahead = datetime.timedelta(minutes=20)
        with mock.patch.object(botocore.auth, "get_current_datetime",
                               side_effect=lambda *a, **k: real(*a, **k) + ahead):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                self.client_as("kms", session).list_keys()
            self.assertEqual(ctx.exception.response["Error"]["Code"], "ExpiredTokenException")
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                self.client_as("sts", session).get_caller_identity()
            self.assertEqual(ctx.exception.response["Error"]["Code"], "ExpiredToken")
            # The user's long-term key still works, and can get a fresh session.
            fresh = self.client_as("sts", creds).assume_role(RoleArn=role["Arn"], RoleSessionName="again")
            self.client_as("kms", fresh["Credentials"]).list_keys()
        self.assertEqual(self.server.stop(), 0)


class MultiRegionIamTest(IamClientsMixin, unittest.TestCase):
    """IAM through the edge endpoint of a multi-region `meridian up`: requests signed for
    us-east-1 (IAM's global signing region) reach the deployment even when us-east-1 is not one
    of its regions, and STS is regional."""

    @classmethod
    def setUpClass(cls):
        cls.server = MeridianProcess(regions=["us-west-2", "eu-west-1"])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def test_iam_signed_for_us_east_1_is_routed(self):
        ak, sk = self.server.admin_credentials()
        root = {"AccessKeyId": ak, "SecretAccessKey": sk}
        iam = self.client_as("iam", root, region="us-east-1")
        name = unique("global")
        iam.create_user(UserName=name)
        self.assertIn(name, [u["UserName"] for u in iam.list_users()["Users"]])
        for region in ("us-west-2", "eu-west-1"):
            me = self.client_as("sts", root, region=region).get_caller_identity()
            self.assertEqual(me["Account"], self.server.account_id())
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client_as("sts", root, region="ap-south-1").get_caller_identity()
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidClientTokenId")


if __name__ == "__main__":
    unittest.main()
