"""Rotation hooks (src/secrets/hook_rotator.h) against a real `meridian up` process.

A rotation function written for AWS Lambda (rotation_functions/generic_rotation.py: AWS's
four-step template, lambda_handler(event, context), boto3 with SECRETS_MANAGER_ENDPOINT) is
configured with `meridian up --rotation-functions FILE` and runs unchanged:
  - as a command hook through scripts/meridian_lambda_runner.py, with a fresh STS session of its
    execution role (an IAM role created through the IAM API) as its only credentials: the audit
    trail shows its PutSecretValue / UpdateSecretVersionStage made by the assumed role, and a role
    without secretsmanager:PutSecretValue makes the rotation fail at createSecret;
  - as an HTTP hook (a local service that receives the Lambda event as its POST body).
A failing step leaves the secret as AWS does: AWSCURRENT and its value unchanged, the new version
AWSPENDING (blocking another rotation), no LastRotatedDate, and a RotationFailed service event
naming the step in the audit trail; success gives RotationStarted / RotationSucceeded.
"""

import http.server
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from meridian_harness import MeridianProcess
from test_audit import read_records

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(REPO, "scripts", "meridian_lambda_runner.py")
FUNCTION = os.path.join(HERE, "rotation_functions", "generic_rotation.py")
REGION = "us-east-1"

TRUST_LAMBDA = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def allow(*actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


def eventually(check, timeout=45.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, KeyError, botocore.exceptions.ClientError):
            if time.monotonic() > deadline:
                raise
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HookHttpService(http.server.BaseHTTPRequestHandler):
    """The HTTP hook: runs the same lambda_handler for each POSTed event."""
    handler = None
    events = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        event = json.loads(body)
        HookHttpService.events.append(event)
        try:
            HookHttpService.handler(event, None)
        except Exception as e:  # noqa: BLE001 - reported to Meridian as the failed step
            reply = f"{type(e).__name__}: {e}".encode()
            self.send_response(500)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class RotationHooksTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="meridian-hooks-")
        cls.http_port = free_port()
        cls.exec_role = "rotation-exec"
        cls.readonly_role = "rotation-readonly"
        cls.server = MeridianProcess(regions=[REGION])
        account = "210987654321"  # the role ARNs in the hooks file need it before `up` starts
        cls.server.extra_args = ["--account-id", account, "--rotation-functions",
                                 os.path.join(cls.tmp, "hooks.json")]

        def command_hook(name, role, **env):
            return {"name": name, "command": [sys.executable, RUNNER, FUNCTION],
                    "role_arn": f"arn:aws:iam::{account}:role/{role}", "timeout_seconds": 60,
                    "environment": env}
        hooks = [
            command_hook("generic-rotator", cls.exec_role, TARGET_FILE=os.path.join(cls.tmp, "service.json")),
            command_hook("generic-rotator-broken", cls.exec_role, TARGET_FILE=os.path.join(cls.tmp, "broken.json"),
                         FAIL_AT="setSecret"),
            command_hook("generic-rotator-readonly", cls.readonly_role,
                         TARGET_FILE=os.path.join(cls.tmp, "readonly.json")),
            {"name": "http-rotator", "url": f"http://127.0.0.1:{cls.http_port}/", "timeout_seconds": 60},
        ]
        with open(os.path.join(cls.tmp, "hooks.json"), "w") as f:
            json.dump(hooks, f)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.account = cls.server.account_id()
        cls.sm = cls.server.client("secretsmanager")
        cls.iam = cls.server.client("iam")
        cls.iam.create_role(RoleName=cls.exec_role, AssumeRolePolicyDocument=TRUST_LAMBDA)
        cls.iam.put_role_policy(RoleName=cls.exec_role, PolicyName="rotate", PolicyDocument=allow(
            "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage", "secretsmanager:GetRandomPassword"))
        cls.iam.create_role(RoleName=cls.readonly_role, AssumeRolePolicyDocument=TRUST_LAMBDA)
        cls.iam.put_role_policy(RoleName=cls.readonly_role, PolicyName="read", PolicyDocument=allow(
            "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:GetRandomPassword"))

        # The HTTP hook is a service with its own identity (here the administrator's keys).
        ak, sk = cls.server.admin_credentials()
        os.environ.update({"SECRETS_MANAGER_ENDPOINT": cls.server.endpoint, "AWS_ACCESS_KEY_ID": ak,
                           "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": REGION,
                           "TARGET_FILE": os.path.join(cls.tmp, "http-service.json")})
        sys.path.insert(0, os.path.dirname(FUNCTION))
        import generic_rotation  # noqa: E402 - after the environment it reads
        HookHttpService.handler = generic_rotation.lambda_handler
        cls.http = http.server.ThreadingHTTPServer(("127.0.0.1", cls.http_port), HookHttpService)
        cls.http_thread = threading.Thread(target=cls.http.serve_forever, daemon=True)
        cls.http_thread.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.http.shutdown()
            code = cls.server.stop()
            if code != 0:
                raise AssertionError(f"meridian exited with code {code}\n" + cls.server.output_tail())
        finally:
            cls.server.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------------------------

    def function_arn(self, name):
        return f"arn:aws:lambda:{REGION}:{self.account}:function:{name}"

    def audit(self):
        directory = os.path.join(self.server.data_dir, REGION, "audit")
        return read_records(directory) if os.path.isdir(directory) else []

    def rotation_events(self, arn):
        return [r for r in self.audit() if r.get("eventType") == "AwsServiceEvent"
                and (r.get("additionalEventData") or {}).get("SecretId") == arn]

    def wait_event(self, arn, name):
        def check():
            found = [r for r in self.rotation_events(arn) if r["eventName"] == name]
            self.assertTrue(found, f"no {name} for {arn}: {[r['eventName'] for r in self.rotation_events(arn)]}")
            return found[-1]
        return eventually(check)

    def stages(self, arn):
        return self.sm.describe_secret(SecretId=arn)["VersionIdsToStages"]

    def create(self, name, password="initial-password", target=None):
        value = {"username": "app", "password": password, "host": "service.internal"}
        if target:
            with open(target, "w") as f:
                json.dump({"username": "app", "password": password}, f)
        return self.sm.create_secret(Name=name, SecretString=json.dumps(value))

    def assert_rotated(self, arn, token, old_version, target):
        def check():
            self.assertIn("AWSCURRENT", self.stages(arn).get(token, []))
        eventually(check)
        current = json.loads(self.sm.get_secret_value(SecretId=arn)["SecretString"])
        with open(target) as f:
            installed = json.load(f)
        self.assertEqual(installed, {"username": "app", "password": current["password"]})
        self.assertNotEqual(current["password"], "initial-password")
        self.assertEqual(current["host"], "service.internal")  # other members kept
        self.assertEqual(self.stages(arn)[old_version], ["AWSPREVIOUS"])
        self.assertIn("LastRotatedDate", self.sm.describe_secret(SecretId=arn))

    # ---- tests -----------------------------------------------------------------------------

    def test_command_hook_runs_an_aws_rotation_function_with_its_execution_role(self):
        target = os.path.join(self.tmp, "service.json")
        created = self.create("hooks/generic", target=target)
        arn = created["ARN"]
        rotated = self.sm.rotate_secret(SecretId=arn, RotationLambdaARN=self.function_arn("generic-rotator"),
                                        RotationRules={"AutomaticallyAfterDays": 30})
        token = rotated["VersionId"]
        self.assert_rotated(arn, token, created["VersionId"], target)
        self.wait_event(arn, "RotationSucceeded")
        names = [r["eventName"] for r in self.rotation_events(arn)]
        self.assertEqual(names[:2], ["RotationStarted", "RotationSucceeded"])
        described = self.sm.describe_secret(SecretId=arn)
        self.assertTrue(described["RotationEnabled"])
        self.assertEqual(described["RotationLambdaARN"], self.function_arn("generic-rotator"))

        # The function called back with its execution role's session, not the administrator's key.
        admin_key, _ = self.server.admin_credentials()
        calls = [r for r in self.audit() if r.get("eventType") == "AwsApiCall"
                 and r.get("eventName") in ("PutSecretValue", "UpdateSecretVersionStage")
                 and arn in json.dumps(r.get("requestParameters"))]
        self.assertEqual(sorted({r["eventName"] for r in calls}), ["PutSecretValue", "UpdateSecretVersionStage"])
        for r in calls:
            identity = r["userIdentity"]
            self.assertEqual(identity["type"], "AssumedRole", identity)
            self.assertIn(f":assumed-role/{self.exec_role}/generic-rotator", identity["arn"])
            self.assertNotEqual(identity.get("accessKeyId"), admin_key)
            self.assertTrue(identity["accessKeyId"].startswith("ASIA"), identity)

        # A second rotation (token chosen by the caller) works the same way.
        second = self.sm.rotate_secret(SecretId=arn, ClientRequestToken="second-rotation-token-0000000000001")
        self.assertEqual(second["VersionId"], "second-rotation-token-0000000000001")
        self.assert_rotated(arn, "second-rotation-token-0000000000001", token, target)

    def test_failed_step_leaves_the_secret_as_aws_does(self):
        target = os.path.join(self.tmp, "broken.json")
        created = self.create("hooks/broken", target=target)
        arn = created["ARN"]
        rotated = self.sm.rotate_secret(SecretId=arn, RotationLambdaARN="generic-rotator-broken",
                                        RotationRules={"AutomaticallyAfterDays": 7})
        token = rotated["VersionId"]
        failed = self.wait_event(arn, "RotationFailed")
        self.assertEqual(failed["additionalEventData"]["Step"], "setSecret")
        self.assertEqual(failed["errorCode"], "RotationFailed")
        self.assertIn("RuntimeError: setSecret failed", failed["errorMessage"])
        self.assertEqual(failed["eventSource"], "secretsmanager.amazonaws.com")

        stages = self.stages(arn)
        self.assertEqual(stages[created["VersionId"]], ["AWSCURRENT"])
        self.assertEqual(stages[token], ["AWSPENDING"])  # createSecret had put the new value
        current = json.loads(self.sm.get_secret_value(SecretId=arn)["SecretString"])
        self.assertEqual(current["password"], "initial-password")
        pending = json.loads(self.sm.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"])
        self.assertNotEqual(pending["password"], "initial-password")
        with open(target) as f:
            self.assertEqual(json.load(f)["password"], "initial-password")  # the service was not changed
        described = self.sm.describe_secret(SecretId=arn)
        self.assertNotIn("LastRotatedDate", described)
        self.assertTrue(described["RotationEnabled"])
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.sm.rotate_secret(SecretId=arn, ClientRequestToken="another-rotation-token-00000000000001")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_execution_role_scopes_what_the_function_may_do(self):
        created = self.create("hooks/readonly", target=os.path.join(self.tmp, "readonly.json"))
        arn = created["ARN"]
        rotated = self.sm.rotate_secret(SecretId=arn, RotationLambdaARN="generic-rotator-readonly",
                                        RotationRules={"AutomaticallyAfterDays": 7})
        failed = self.wait_event(arn, "RotationFailed")
        self.assertEqual(failed["additionalEventData"]["Step"], "createSecret")
        self.assertIn("AccessDeniedException", failed["errorMessage"])
        self.assertIn("PutSecretValue", failed["errorMessage"])
        stages = self.stages(arn)
        self.assertEqual(stages[created["VersionId"]], ["AWSCURRENT"])
        self.assertEqual(stages[rotated["VersionId"]], ["AWSPENDING"])
        with self.assertRaises(botocore.exceptions.ClientError):  # the pending version has no value
            self.sm.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")

    def test_http_hook_receives_the_lambda_event_and_rotates(self):
        target = os.path.join(self.tmp, "http-service.json")
        created = self.create("hooks/http", target=target)
        arn = created["ARN"]
        before = len(HookHttpService.events)
        rotated = self.sm.rotate_secret(SecretId=arn, RotationLambdaARN=self.function_arn("http-rotator"),
                                        RotationRules={"ScheduleExpression": "rate(10 days)"})
        token = rotated["VersionId"]
        self.assert_rotated(arn, token, created["VersionId"], target)
        self.wait_event(arn, "RotationSucceeded")
        events = HookHttpService.events[before:]
        self.assertEqual(events, [{"SecretId": arn, "ClientRequestToken": token, "Step": step}
                                  for step in ("createSecret", "setSecret", "testSecret", "finishSecret")])


if __name__ == "__main__":
    unittest.main()
