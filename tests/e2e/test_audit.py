"""The audit trail of a real `meridian up` process, read from <data dir>/<region>/audit/.

1. Every KMS and Secrets Manager call the test makes (boto3 and raw signed requests, successful,
   failed, unauthenticated) produces exactly one record, and nothing else is recorded: the record
   whose requestID equals the response's x-amzn-RequestId header has the right eventSource,
   eventName, awsRegion, sourceIPAddress, userAgent, userIdentity, errorCode and authorization
   decision. The hash chain on disk is checked independently of Meridian's verifier
   (previousHash = SHA-256 of the previous line, genesis = 64 zeros).
2. No record contains a plaintext, a data key, a secret value, a random password, a secret access
   key or a request signature, searched raw, base64 and hex in every file of the audit directory.
3. `meridian audit verify` passes on an untouched trail after clean stops and pinpoints tampering:
   an edited byte, a deleted record, reordered records, a truncated tail, a rewritten chain, a
   removed or swapped digest, a replaced public key. A SIGKILL during load leaves a chain that
   verifies, with every acknowledged request in it.
"""

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from meridian_harness import (JSON_CONTENT_TYPE, MeridianProcess, MeridianTestCase,
                              meridian_binary, send_raw)

GENESIS = "0" * 64
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def audit_dir(server):
    return os.path.join(server.data_dir, server.region, "audit")


def read_log_lines(directory):
    """(file name, 1-based line number, raw line bytes) of every complete line, in file order."""
    out = []
    for name in sorted(os.listdir(directory)):
        if not re.fullmatch(r"audit-\d{6}\.jsonl", name):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            content = f.read()
        lines = content.split(b"\n")
        for i, line in enumerate(lines[:-1]):  # the last segment has no '\n': torn or empty
            out.append((name, i + 1, line))
    return out


def read_records(directory):
    return [json.loads(line) for _, _, line in read_log_lines(directory)]


def audit_cli_unavailable():
    """None if `meridian audit` works, else the reason (for skip messages)."""
    try:
        binary = meridian_binary()
    except RuntimeError as e:
        return str(e)
    proc = subprocess.run([binary, "audit", "--help"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        return ("`meridian audit` is not wired into the meridian binary yet (`meridian audit "
                f"--help` exited {proc.returncode}: {proc.stderr.strip()[:200]}); these checks run "
                "once it exists")
    return None


def run_verify(directory, *extra):
    proc = subprocess.run([meridian_binary(), "audit", "verify", "--dir", directory, "--json",
                           *extra], capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = None
    return proc.returncode, report, proc


def encodings(secret):
    if isinstance(secret, str):
        secret = secret.encode()
    return {
        "raw": secret,
        "base64": base64.b64encode(secret),
        "base64-unpadded": base64.b64encode(secret).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(secret).rstrip(b"="),
        "hex": secret.hex().encode(),
        "HEX": secret.hex().upper().encode(),
    }


class Call:
    def __init__(self, service, operation, request_id, status, error_code, user_agent,
                 authenticated=True, access_key=None):
        self.service = service
        self.operation = operation
        self.request_id = request_id
        self.status = status
        self.error_code = error_code
        self.user_agent = user_agent
        self.authenticated = authenticated
        self.access_key = access_key

    def __repr__(self):
        return (f"{self.service}.{self.operation} requestId={self.request_id} "
                f"status={self.status} error={self.error_code}")


class CallLog:
    """Every request a boto3 client sends, with what the server answered (botocore events)."""

    def __init__(self):
        self.calls = []
        self.signatures = []
        self._user_agent = None

    def attach(self, client):
        client.meta.events.register("before-send", self._before_send)
        client.meta.events.register("after-call", self._after_call)
        return client

    def _before_send(self, request, **kwargs):
        headers = request.headers
        self._user_agent = headers.get("User-Agent")
        if isinstance(self._user_agent, bytes):
            self._user_agent = self._user_agent.decode()
        auth = headers.get("Authorization")
        if isinstance(auth, bytes):
            auth = auth.decode()
        if auth and "Signature=" in auth:
            self.signatures.append(auth.rsplit("Signature=", 1)[1])

    def _after_call(self, http_response, parsed, model, **kwargs):
        error = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
        self.calls.append(Call(model.service_model.signing_name, model.name,
                               http_response.headers.get("x-amzn-RequestId"),
                               http_response.status_code, error, self._user_agent))

    def raw(self, service, operation, result, error_code, authenticated, user_agent=None,
            access_key=None):
        status, headers, _ = result
        self.calls.append(Call(service, operation, headers.get("x-amzn-requestid"), status,
                               error_code, user_agent, authenticated, access_key))


class AuditRecordsTest(MeridianTestCase):
    """One server; each test makes calls and checks their records and the leak search."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = audit_dir(cls.server)
        cls.log = CallLog()
        cls.kms = cls.log.attach(cls.server.client("kms"))
        cls.kms_raw = cls.log.attach(cls.server.client("kms", validate=False))
        cls.sm = cls.log.attach(cls.server.client("secretsmanager"))
        cls.sm_raw = cls.log.attach(cls.server.client("secretsmanager", validate=False))
        cls.access_key, cls.secret_key = cls.server.admin_credentials()
        cls.root_arn = f"arn:aws:iam::{cls.account_id}:root"

    def setUp(self):
        self.first_call = len(self.log.calls)
        self.records_before = len(read_records(self.dir)) if os.path.isdir(self.dir) else 0
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.sensitive = {}

    def keep(self, label, value):
        if value:
            self.sensitive[label] = value
        return value

    # ---- checks ------------------------------------------------------------------------------

    def my_calls(self):
        return self.log.calls[self.first_call:]

    def assertChainIntact(self):
        previous = GENESIS
        expected_sequence = 1
        for name, line_no, line in read_log_lines(self.dir):
            record = json.loads(line)
            where = f"{name}:{line_no}"
            self.assertEqual(record["sequence"], expected_sequence, where)
            self.assertEqual(record["previousHash"], previous, where)
            self.assertTrue(line.startswith(b'{"sequence":%d,"previousHash":"' % expected_sequence),
                            where)
            previous = hashlib.sha256(line).hexdigest()
            expected_sequence += 1

    def assertEveryCallRecordedOnce(self):
        calls = self.my_calls()
        self.assertTrue(calls)
        records = read_records(self.dir)
        new_records = records[self.records_before:]
        by_id = {}
        for r in records:
            by_id.setdefault(r.get("requestID"), []).append(r)
        ended = datetime.datetime.now(datetime.timezone.utc)
        for call in calls:
            with self.subTest(call=repr(call)):
                self.assertRegex(call.request_id or "", UUID_RE, "response has no x-amzn-RequestId")
                found = by_id.get(call.request_id, [])
                self.assertEqual(len(found), 1, f"{len(found)} audit records for {call!r}")
                r = found[0]
                self.assertEqual(r["eventSource"], f"{call.service}.amazonaws.com")
                self.assertEqual(r["eventName"], call.operation)
                self.assertEqual(r["awsRegion"], self.region)
                self.assertEqual(r["sourceIPAddress"], "127.0.0.1")
                self.assertEqual(r["eventType"], "AwsApiCall")
                self.assertRegex(r["eventID"], UUID_RE)
                event_time = datetime.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
                event_time = event_time.replace(tzinfo=datetime.timezone.utc)
                self.assertGreaterEqual(event_time, self.started.replace(microsecond=0)
                                        - datetime.timedelta(seconds=1))
                self.assertLessEqual(event_time, ended + datetime.timedelta(seconds=1))
                if call.user_agent is not None:
                    self.assertEqual(r["userAgent"], call.user_agent)
                self.assertEqual(r.get("errorCode"), call.error_code)
                if call.error_code:
                    self.assertTrue(r.get("errorMessage"))
                    self.assertGreaterEqual(call.status, 400)
                else:
                    self.assertEqual(call.status, 200)
                    self.assertNotIn("errorMessage", r)
                identity = r["userIdentity"]
                if call.authenticated:
                    self.assertEqual(identity["type"], "Root")
                    self.assertEqual(identity["arn"], self.root_arn)
                    self.assertEqual(identity["accountId"], self.account_id)
                    self.assertEqual(identity["accessKeyId"], call.access_key or self.access_key)
                    self.assertEqual(r["recipientAccountId"], self.account_id)
                else:
                    self.assertEqual(identity["type"], "Unknown")
                    self.assertEqual(identity.get("arn") or "", "")
                    self.assertEqual(r["authorization"]["decision"], "NotEvaluated")
        # Nothing recorded twice, nothing recorded that the test did not send.
        self.assertEqual(len(new_records), len(calls),
                         "records added during the test: "
                         + ", ".join(f"{r['eventName']}/{r.get('errorCode')}" for r in new_records))
        self.assertEqual(len({r["eventID"] for r in records}), len(records), "duplicate eventID")
        self.assertChainIntact()

    def assertNoSensitiveValues(self):
        needles = dict(self.sensitive)
        needles["admin secret access key"] = self.secret_key
        for i, sig in enumerate(self.log.signatures):
            needles[f"signature {i}"] = sig
        leaks = []
        scanned = 0
        for name in os.listdir(self.dir):
            with open(os.path.join(self.dir, name), "rb") as f:
                content = f.read()
            scanned += 1
            for label, secret in needles.items():
                for form, needle in encodings(secret).items():
                    if needle in content:
                        leaks.append(f"{label} ({form}) in {name}")
        self.assertGreater(scanned, 0)
        self.assertEqual(leaks, [], "sensitive values in the audit trail")

    def record_for(self, call):
        matches = [r for r in read_records(self.dir) if r.get("requestID") == call.request_id]
        self.assertEqual(len(matches), 1, repr(call))
        return matches[0]

    def last_call(self, operation):
        return [c for c in self.my_calls() if c.operation == operation][-1]

    # ---- KMS ---------------------------------------------------------------------------------

    def test_kms_calls(self):
        key = self.kms.create_key(Description="audited key")["KeyMetadata"]
        other = self.kms.create_key(Description="audited key 2")["KeyMetadata"]
        self.kms.describe_key(KeyId=key["KeyId"])
        self.kms.list_keys()
        self.kms.create_alias(AliasName="alias/audited", TargetKeyId=key["KeyId"])
        self.kms.list_aliases()
        self.kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "t", "TagValue": "v"}])
        self.kms.list_resource_tags(KeyId=key["KeyId"])
        self.kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")
        self.kms.enable_key_rotation(KeyId=key["KeyId"])
        self.kms.get_key_rotation_status(KeyId=key["KeyId"])

        plaintext = self.keep("encrypt plaintext", os.urandom(48))
        ctx = {"tenant": "audit"}
        blob = self.kms.encrypt(KeyId="alias/audited", Plaintext=plaintext,
                                EncryptionContext=ctx)["CiphertextBlob"]
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"],
                         plaintext)
        re_blob = self.kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx,
                                      DestinationKeyId=other["KeyId"])["CiphertextBlob"]
        self.keep("decrypt after re-encrypt",
                  self.kms.decrypt(CiphertextBlob=re_blob)["Plaintext"])
        dk = self.kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
        self.keep("data key", dk["Plaintext"])
        self.keep("data key 64", self.kms.generate_data_key(KeyId=key["KeyId"],
                                                            NumberOfBytes=64)["Plaintext"])
        wp = self.kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_128")
        self.keep("data key without plaintext",
                  self.kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"])
        self.keep("random", self.kms.generate_random(NumberOfBytes=48)["Plaintext"])

        # Failures, each with the AWS error in its record.
        with self.assertRaises(botocore.exceptions.ClientError):
            self.kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.kms.decrypt(CiphertextBlob=os.urandom(80))
        too_long = self.keep("rejected plaintext", os.urandom(4097))
        with self.assertRaises(botocore.exceptions.ClientError):
            self.kms_raw.encrypt(KeyId=key["KeyId"], Plaintext=too_long)
        self.kms.disable_key(KeyId=other["KeyId"])
        refused = self.keep("plaintext for a disabled key", os.urandom(40))
        with self.assertRaises(botocore.exceptions.ClientError):
            self.kms.encrypt(KeyId=other["KeyId"], Plaintext=refused)
        self.kms.enable_key(KeyId=other["KeyId"])
        self.kms.schedule_key_deletion(KeyId=other["KeyId"], PendingWindowInDays=7)
        self.kms.cancel_key_deletion(KeyId=other["KeyId"])

        codes = {c.operation: c.error_code for c in self.my_calls() if c.error_code}
        self.assertEqual(codes.get("Encrypt"), "DisabledException")
        self.assertEqual(codes.get("DescribeKey"), "NotFoundException")
        self.assertEqual(codes.get("Decrypt"), "InvalidCiphertextException")
        self.assertEveryCallRecordedOnce()
        self.assertNoSensitiveValues()

        # Records name the key and keep the non-secret parameters, as CloudTrail does.
        enc = self.record_for(self.last_call("Encrypt"))
        self.assertEqual(enc["errorCode"], "DisabledException")
        self.assertIn(other["Arn"], [res["ARN"] for res in enc["resources"]])
        gdk = self.record_for([c for c in self.my_calls() if c.operation == "GenerateDataKey"][0])
        self.assertEqual(gdk["requestParameters"]["keyId"], key["KeyId"])
        self.assertEqual(gdk["resources"][0]["type"], "AWS::KMS::Key")
        self.assertIn(key["Arn"], [res["ARN"] for res in gdk["resources"]])
        self.assertTrue(gdk["readOnly"])
        self.assertEqual(gdk["authorization"]["decision"], "Allow")
        created = self.record_for(self.my_calls()[0])
        self.assertEqual(created["eventName"], "CreateKey")
        self.assertFalse(created["readOnly"])
        # Every successful call on a key names that key's ARN in resources.
        for call in self.my_calls():
            if call.error_code or call.operation in ("ListKeys", "ListAliases", "GenerateRandom"):
                continue
            with self.subTest(resources_of=repr(call)):
                r = self.record_for(call)
                key_arns = {res["ARN"] for res in r["resources"] if res["type"] == "AWS::KMS::Key"}
                self.assertTrue(key_arns and key_arns <= {key["Arn"], other["Arn"]}, r["resources"])

    # ---- Secrets Manager ---------------------------------------------------------------------

    def test_secrets_manager_calls(self):
        name = "audit/db-credentials"
        first = self.keep("secret v1", "pw-" + base64.b32encode(os.urandom(20)).decode())
        created = self.sm.create_secret(Name=name, SecretString=first,
                                        Tags=[{"Key": "team", "Value": "audit"}])
        arn = created["ARN"]
        self.assertEqual(self.sm.get_secret_value(SecretId=name)["SecretString"], first)
        binary = self.keep("secret v2 (binary)", os.urandom(40))
        self.sm.put_secret_value(SecretId=arn, SecretBinary=binary)
        self.assertEqual(self.sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
                         ["SecretBinary"], binary)
        self.sm.get_secret_value(SecretId=arn[:-7], VersionStage="AWSPREVIOUS")
        third = self.keep("secret v3 (update)", json.dumps({"password": os.urandom(16).hex()}))
        self.keep("secret v3 password", json.loads(third)["password"])
        self.sm.update_secret(SecretId=name, SecretString=third, Description="rotated by hand")
        self.sm.describe_secret(SecretId=name)
        self.sm.list_secrets()
        self.sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
        self.sm.tag_resource(SecretId=name, Tags=[{"Key": "env", "Value": "test"}])
        self.sm.untag_resource(SecretId=name, TagKeys=["env"])
        for _ in range(2):
            self.keep(f"random password {_}", self.sm.get_random_password()["RandomPassword"])
        self.sm.batch_get_secret_value(SecretIdList=[name])
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": self.root_arn},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
        self.sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
        self.sm.get_resource_policy(SecretId=name)
        self.sm.validate_resource_policy(ResourcePolicy=policy)
        self.sm.delete_resource_policy(SecretId=name)
        self.sm.rotate_secret(SecretId=name, RotationLambdaARN="arn:aws:lambda:us-east-1:"
                              "123456789012:function:rot", RotationRules={"AutomaticallyAfterDays": 7})
        self.sm.cancel_rotate_secret(SecretId=name)
        self.sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.sm.get_secret_value(SecretId=name)  # InvalidRequestException: pending deletion
        self.sm.restore_secret(SecretId=name)
        # Failures that carried a secret value.
        clash = self.keep("rejected value (exists)", "clash-" + os.urandom(12).hex())
        with self.assertRaises(botocore.exceptions.ClientError):
            self.sm.create_secret(Name=name, SecretString=clash)
        huge = self.keep("rejected value (too big)", "H" + os.urandom(32800).hex())
        with self.assertRaises(botocore.exceptions.ClientError):
            self.sm_raw.put_secret_value(SecretId=name, SecretString=huge)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.sm.describe_secret(SecretId="audit/missing")
        self.sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

        codes = [(c.operation, c.error_code) for c in self.my_calls() if c.error_code]
        self.assertEqual(codes, [("GetSecretValue", "InvalidRequestException"),
                                 ("CreateSecret", "ResourceExistsException"),
                                 ("PutSecretValue", "ValidationException"),
                                 ("DescribeSecret", "ResourceNotFoundException")])
        self.assertEveryCallRecordedOnce()
        self.assertNoSensitiveValues()

        get = self.record_for(self.my_calls()[1])
        self.assertEqual(get["eventName"], "GetSecretValue")
        self.assertEqual(get["requestParameters"]["secretId"], name)
        self.assertTrue(get["readOnly"])
        self.assertEqual(get["authorization"]["decision"], "Allow")
        # Every call on the secret names it by its full ARN in resources; a partial ARN given
        # as SecretId is not a resource ARN.
        for call in self.my_calls():
            if call.operation in ("GetRandomPassword", "ListSecrets", "ValidateResourcePolicy") \
                    or call.error_code:
                continue
            with self.subTest(resources_of=repr(call)):
                r = self.record_for(call)
                secret_arns = {res["ARN"] for res in r["resources"]
                               if res["type"] == "AWS::SecretsManager::Secret"}
                self.assertEqual(secret_arns, {arn})

    # ---- requests that fail authentication or are refused ------------------------------------

    def test_unauthenticated_requests_are_recorded(self):
        def corrupt_signature(request):
            auth = request.headers["Authorization"]
            head, sig = auth.rsplit("Signature=", 1)
            del request.headers["Authorization"]
            request.headers["Authorization"] = head + "Signature=" + (
                "0" if sig[0] != "0" else "1") + sig[1:]
            self.log.signatures.append(sig)

        def capture_signature(request):
            self.log.signatures.append(request.headers["Authorization"].rsplit("Signature=", 1)[1])

        result = self.server.signed_request("GenerateRandom", {"NumberOfBytes": 16},
                                            mutate=corrupt_signature)
        self.assertRawError(result, "InvalidSignatureException")
        self.log.raw("kms", "GenerateRandom", result, "InvalidSignatureException", False)

        result = self.server.signed_request("GetSecretValue", {"SecretId": "x"},
                                            service="secretsmanager",
                                            target_prefix="secretsmanager",
                                            mutate=corrupt_signature)
        self.assertRawError(result, "InvalidSignatureException")
        self.log.raw("secretsmanager", "GetSecretValue", result, "InvalidSignatureException", False)

        unknown_secret = "u" * 40
        self.keep("unknown key's secret", unknown_secret)
        result = self.server.signed_request("ListKeys", {}, access_key="AKIAUNKNOWNUNKNOWN00",
                                            secret_key=unknown_secret, mutate=capture_signature)
        self.assertRawError(result, "UnrecognizedClientException")
        self.log.raw("kms", "ListKeys", result, "UnrecognizedClientException", False)

        wrong_secret = "w" * 40
        self.keep("wrong secret for a known key", wrong_secret)
        bad = self.log.attach(self.server.client("secretsmanager", secret_key=wrong_secret))
        with self.assertRaises(botocore.exceptions.ClientError):
            bad.list_secrets()
        self.log.calls[-1].authenticated = False

        result = send_raw(self.server.port, "POST", "/", b"{}", {
            "Content-Type": JSON_CONTENT_TYPE, "X-Amz-Target": "TrentService.ListKeys",
            "User-Agent": "e2e-unsigned/1.0"})
        self.assertEqual(result[2].get("__type"), "MissingAuthenticationTokenException", result)
        self.log.raw("kms", "ListKeys", result, "MissingAuthenticationTokenException", False,
                     user_agent="e2e-unsigned/1.0")

        # Authenticated, but scoped to the wrong service: refused before authorization.
        result = self.server.signed_request("ListSecrets", {}, service="kms",
                                            target_prefix="secretsmanager",
                                            mutate=capture_signature)
        self.assertRawError(result, "InvalidSignatureException")
        self.log.raw("secretsmanager", "ListSecrets", result, "InvalidSignatureException", True)

        self.assertEveryCallRecordedOnce()
        self.assertNoSensitiveValues()
        scoped = self.record_for(self.my_calls()[-1])
        self.assertEqual(scoped["authorization"]["decision"], "NotEvaluated")

    def test_request_denied_by_key_policy_is_recorded(self):
        key = self.kms.create_key(Description="deny encrypt")["KeyMetadata"]
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "AllowRoot", "Effect": "Allow", "Principal": {"AWS": self.root_arn},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "DenyEncrypt", "Effect": "Deny", "Principal": {"AWS": "*"},
             "Action": "kms:Encrypt", "Resource": "*"}]}
        self.kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                                Policy=json.dumps(policy), BypassPolicyLockoutSafetyCheck=True)
        denied_plaintext = self.keep("plaintext of a denied request", os.urandom(32))
        try:
            self.kms.encrypt(KeyId=key["KeyId"], Plaintext=denied_plaintext)
        except botocore.exceptions.ClientError:
            pass
        call = self.last_call("Encrypt")
        self.assertEqual(call.error_code, "AccessDeniedException",
                         "a key policy statement Deny kms:Encrypt for Principal * did not deny "
                         "Encrypt (key policies are not evaluated by the server), so no denied "
                         "request could be produced")
        self.assertEveryCallRecordedOnce()
        self.assertNoSensitiveValues()
        record = self.record_for(call)
        self.assertIn(record["authorization"]["decision"], ("Deny", "ImplicitDeny"))
        self.assertEqual(record["authorization"]["matchedStatement"], "DenyEncrypt")


@unittest.skipIf(audit_cli_unavailable(), audit_cli_unavailable() or "")
class AuditVerifyTest(unittest.TestCase):
    """Two server lifetimes, each ended by SIGTERM (two log files, two digests); every test
    tampers with its own copy of the audit directory."""

    @classmethod
    def setUpClass(cls):
        cls.server = MeridianProcess()
        try:
            for lifetime in range(2):
                cls.server.start()
                kms = cls.server.client("kms")
                sm = cls.server.client("secretsmanager")
                key = kms.create_key(Description=f"verify {lifetime}")["KeyMetadata"]
                for i in range(6):
                    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p" * (i + 1))
                sm.create_secret(Name=f"verify/{lifetime}", SecretString="v" * 20)
                sm.get_secret_value(SecretId=f"verify/{lifetime}")
                code = cls.server.stop()
                if code != 0:
                    raise AssertionError(f"meridian exited {code} on SIGTERM\n"
                                         + cls.server.output_tail())
        except Exception:
            cls.server.cleanup()
            raise
        cls.pristine = audit_dir(cls.server)
        cls.trusted = tempfile.mkdtemp(prefix="meridian-e2e-trusted-")
        cls.trusted_key = os.path.join(cls.trusted, "audit-public-key.pem")
        shutil.copy(os.path.join(cls.pristine, "audit-public-key.pem"), cls.trusted_key)
        cls.lines = read_log_lines(cls.pristine)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.trusted, ignore_errors=True)

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="meridian-e2e-audit-copy-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.dir = os.path.join(self.work, "audit")
        shutil.copytree(self.pristine, self.dir)

    def log_files(self):
        return sorted(n for n in os.listdir(self.dir) if n.endswith(".jsonl"))

    def digest_files(self):
        return sorted(n for n in os.listdir(self.dir) if n.startswith("digest-"))

    def rewrite(self, name, transform):
        path = os.path.join(self.dir, name)
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        assert lines[-1] == b"", "log file does not end with a newline"
        lines = transform(lines[:-1])
        with open(path, "wb") as f:
            f.write(b"".join(line + b"\n" for line in lines))

    def verify(self, *extra):
        code, report, proc = run_verify(self.dir, "--public-key", self.trusted_key, *extra)
        self.assertIsNotNone(report, f"verify printed no JSON report:\n{proc.stdout}\n{proc.stderr}")
        return code, report

    def tampering(self, report):
        return [f for f in report["findings"] if f["severity"] == "tampering"]

    def assertTampering(self, code, report, kind, **where):
        self.assertEqual(code, 1, report)
        self.assertFalse(report["intact"], report)
        findings = self.tampering(report)
        matching = [f for f in findings if f["kind"] == kind
                    and all(f.get(k) == v for k, v in where.items())]
        self.assertTrue(matching, f"no {kind} finding with {where}: {findings}")

    # ---- untouched ---------------------------------------------------------------------------

    def test_untouched_trail_verifies(self):
        self.assertEqual(len(self.log_files()), 2, os.listdir(self.dir))
        self.assertEqual(len(self.digest_files()), 2, os.listdir(self.dir))
        code, report = self.verify("--region", self.server.region)
        self.assertEqual(code, 0, report)
        self.assertTrue(report["intact"])
        self.assertEqual(self.tampering(report), [])
        self.assertEqual(report["records"], len(self.lines))
        self.assertEqual(report["lastSequence"], len(self.lines))
        # The clean stop signed everything.
        self.assertEqual(report["lastSignedSequence"], len(self.lines))
        self.assertFalse(report["publicKeyFromDirectory"])
        # Also with the directory's own key and in text form.
        code, report, _ = run_verify(self.dir)
        self.assertEqual(code, 0, report)
        proc = subprocess.run([meridian_binary(), "audit", "verify", "--dir", self.dir],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("INTACT", proc.stdout)

    def test_wrong_region_is_reported(self):
        code, report = self.verify("--region", "eu-west-1")
        self.assertEqual(code, 1, report)
        self.assertIn("digest-wrong-region", [f["kind"] for f in self.tampering(report)])

    # ---- records -----------------------------------------------------------------------------

    def test_edited_byte_in_a_record(self):
        name = self.log_files()[0]

        def edit(lines):
            line = lines[4]
            i = line.index(b'"eventName":"') + len(b'"eventName":"')
            lines[4] = line[:i] + bytes([line[i] ^ 0x01]) + line[i + 1:]
            return lines
        self.rewrite(name, edit)
        code, report = self.verify()
        self.assertTampering(code, report, "record-altered", file=name, line=5, firstSequence=5)

    def test_edited_byte_in_the_last_record(self):
        # The last record has no successor holding its hash: the signed chain head catches it.
        name = self.log_files()[-1]

        def edit(lines):
            lines[-1] = lines[-1].replace(b'"awsRegion":"us-east-1"', b'"awsRegion":"us-east-2"')
            return lines
        self.rewrite(name, edit)
        code, report = self.verify()
        self.assertEqual(code, 1, report)
        kinds = {f["kind"] for f in self.tampering(report)}
        self.assertTrue(kinds & {"record-altered", "digest-head-mismatch"}, report)

    def test_deleted_record(self):
        name = self.log_files()[0]
        self.rewrite(name, lambda lines: lines[:6] + lines[7:])
        code, report = self.verify()
        self.assertTampering(code, report, "record-removed", firstSequence=7, lastSequence=7)
        self.assertEqual(report["records"], len(self.lines) - 1)

    def test_reordered_records(self):
        name = self.log_files()[0]

        def swap(lines):
            lines[2], lines[3] = lines[3], lines[2]
            return lines
        self.rewrite(name, swap)
        code, report = self.verify()
        self.assertTampering(code, report, "records-reordered", file=name)

    def test_truncated_tail(self):
        name = self.log_files()[-1]
        self.rewrite(name, lambda lines: lines[:-3])
        code, report = self.verify()
        last = len(self.lines)
        self.assertTampering(code, report, "tail-truncated", firstSequence=last - 2,
                             lastSequence=last)

    def test_truncated_tail_mid_line(self):
        name = self.log_files()[-1]
        path = os.path.join(self.dir, name)
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size - 50)
        code, report = self.verify()
        self.assertTampering(code, report, "tail-truncated", lastSequence=len(self.lines))

    def test_rewritten_chain_is_caught_by_the_signed_digest(self):
        # An attacker edits a record and recomputes every later previousHash: the chain is
        # consistent again, but the digest signed another chain head.
        names = self.log_files()
        edited_seq = None
        previous = GENESIS
        for name in names:
            path = os.path.join(self.dir, name)
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")[:-1]
            out = []
            for line in lines:
                record = json.loads(line)
                if edited_seq is None and record["eventName"] == "Encrypt":
                    line = line.replace(b'"eventName":"Encrypt"', b'"eventName":"Decrypt"')
                    edited_seq = record["sequence"]
                line = re.sub(rb'"previousHash":"[0-9a-f]{64}"',
                              b'"previousHash":"' + previous.encode() + b'"', line, count=1)
                previous = hashlib.sha256(line).hexdigest()
                out.append(line)
            with open(path, "wb") as f:
                f.write(b"".join(line + b"\n" for line in out))
        self.assertIsNotNone(edited_seq)
        code, report = self.verify()
        self.assertEqual(code, 1, report)
        self.assertTrue(self.tampering(report), report)

    def test_deleted_log_file(self):
        os.remove(os.path.join(self.dir, self.log_files()[0]))
        code, report = self.verify()
        self.assertEqual(code, 1, report)
        self.assertTrue(self.tampering(report), report)

    # ---- digests and keys --------------------------------------------------------------------

    def test_edited_digest(self):
        name = self.digest_files()[0]
        path = os.path.join(self.dir, name)
        with open(path) as f:
            digest = json.load(f)
        digest["lastSequence"] -= 1
        with open(path, "w") as f:
            json.dump(digest, f)
        code, report = self.verify()
        self.assertTampering(code, report, "digest-altered")

    def test_removed_digest(self):
        os.remove(os.path.join(self.dir, self.digest_files()[0]))
        code, report = self.verify()
        self.assertEqual(code, 1, report)
        kinds = {f["kind"] for f in self.tampering(report)}
        self.assertTrue(kinds & {"digest-removed", "digest-chain-broken"}, report)

    def test_swapped_digests(self):
        first, second = (os.path.join(self.dir, n) for n in self.digest_files())
        tmp = first + ".tmp"
        os.rename(first, tmp)
        os.rename(second, first)
        os.rename(tmp, second)
        code, report = self.verify()
        self.assertEqual(code, 1, report)
        self.assertIn("digest-misplaced", {f["kind"] for f in self.tampering(report)}, report)

    def test_replaced_public_key_in_the_directory_is_caught_by_the_trusted_key(self):
        # Whoever rewrites digests needs a signing key: a new key pair replaces the directory's.
        proc = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True,
                              check=True)
        pub = subprocess.run(["openssl", "pkey", "-pubout"], input=proc.stdout,
                             capture_output=True, check=True).stdout
        with open(os.path.join(self.dir, "audit-public-key.pem"), "wb") as f:
            f.write(pub)
        code, report = self.verify()  # with the trusted copy: still intact
        self.assertEqual(code, 0, report)
        code, report, _ = run_verify(self.dir)  # with the replaced key: signatures fail
        self.assertEqual(code, 1, report)
        self.assertIn("digest-altered", {f["kind"] for f in report["findings"]}, report)


@unittest.skipIf(audit_cli_unavailable(), audit_cli_unavailable() or "")
class AuditKillTest(unittest.TestCase):
    """SIGKILL during load: the chain verifies and holds every acknowledged request."""

    def test_sigkill_during_load(self):
        server = MeridianProcess()
        self.addCleanup(server.cleanup)
        server.start()
        kms = server.client("kms")
        key = kms.create_key(Description="load")["KeyMetadata"]["KeyId"]
        acknowledged = []
        stop = threading.Event()
        lock = threading.Lock()

        def worker():
            client = server.client("kms", read_timeout=5)
            while not stop.is_set():
                try:
                    r = client.encrypt(KeyId=key, Plaintext=b"load")
                except Exception:  # the server went away mid-request
                    return
                with lock:
                    acknowledged.append(r["ResponseMetadata"]["RequestId"])

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        stop.set()
        for t in threads:
            t.join(10)
        self.assertGreater(len(acknowledged), 20)
        directory = audit_dir(server)
        code, report, proc = run_verify(directory)
        self.assertEqual(code, 0, proc.stdout + proc.stderr)
        self.assertIsNotNone(report, proc.stdout + proc.stderr)
        self.assertTrue(report["intact"])
        recorded = {r["requestID"] for r in read_records(directory)}
        missing = [rid for rid in acknowledged if rid not in recorded]
        self.assertEqual(missing, [], "acknowledged requests missing from the audit trail")

        # The restarted server continues the chain; after a clean stop everything is signed.
        server.start()
        server.client("kms").list_keys()
        self.assertEqual(server.stop(), 0, server.output_tail())
        code, report, proc = run_verify(directory)
        self.assertEqual(code, 0, proc.stdout + proc.stderr)
        self.assertIsNotNone(report, proc.stdout + proc.stderr)
        self.assertEqual([f for f in report["findings"] if f["severity"] == "tampering"], [])
        self.assertEqual(report["lastSignedSequence"], report["lastSequence"])


if __name__ == "__main__":
    unittest.main()
