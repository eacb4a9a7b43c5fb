"""A short aws cli Secrets Manager session against Meridian: create-secret, get-secret-value,
put-secret-value (string and fileb:// binary), list-secrets, describe-secret, and an error's exit
code and message, with the JSON output checked field by field."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from meridian_harness import MeridianTestCase


class AwsCliSecretsTest(MeridianTestCase):

    def setUp(self):
        if shutil.which("aws", path=self.cli_env()["PATH"]) is None:
            self.fail("the aws cli is not on PATH (it ships with the image's python3)")
        self.workdir = tempfile.mkdtemp(prefix="meridian-e2e-cli-sm-")
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def cli_env(self):
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        for var in list(env):
            if var.startswith("AWS_"):
                del env[var]
        ak, sk = self.server.admin_credentials()
        env.update({
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
            "AWS_ACCESS_KEY_ID": ak,
            "AWS_SECRET_ACCESS_KEY": sk,
            "AWS_DEFAULT_REGION": self.region,
        })
        return env

    def aws(self, *args, check=True):
        cmd = ["aws", "secretsmanager", "--endpoint-url", self.server.endpoint,
               "--output", "json"] + list(args)
        proc = subprocess.run(cmd, cwd=self.workdir, env=self.cli_env(), capture_output=True,
                              text=True, timeout=60)
        if check and proc.returncode != 0:
            self.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def aws_json(self, *args):
        return json.loads(self.aws(*args).stdout)

    def test_session(self):
        name = "cli/app/database"
        created = self.aws_json("create-secret", "--name", name,
                                "--description", "created by the aws cli",
                                "--secret-string", '{"username":"app","password":"first-pw"}',
                                "--tags", "Key=team,Value=cli")
        self.assertRegex(created["ARN"], rf"^arn:aws:secretsmanager:{self.region}:"
                                         rf"{self.account_id}:secret:{re.escape(name)}-[A-Za-z0-9]{{6}}$")
        self.assertEqual(created["Name"], name)
        v1 = created["VersionId"]

        got = self.aws_json("get-secret-value", "--secret-id", name)
        self.assertEqual(json.loads(got["SecretString"]), {"username": "app", "password": "first-pw"})
        self.assertEqual(got["VersionId"], v1)
        self.assertEqual(got["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(got["ARN"], created["ARN"])
        self.assertIsInstance(got["CreatedDate"], (int, float, str))

        # --query/--output text, as scripts use it.
        text = self.aws("get-secret-value", "--secret-id", created["ARN"], "--query",
                        "SecretString", "--output", "text").stdout.strip()
        self.assertEqual(json.loads(text)["password"], "first-pw")

        put = self.aws_json("put-secret-value", "--secret-id", name, "--secret-string",
                            '{"username":"app","password":"second-pw"}')
        v2 = put["VersionId"]
        self.assertNotEqual(v2, v1)
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(json.loads(self.aws_json("get-secret-value", "--secret-id", name)
                                    ["SecretString"])["password"], "second-pw")
        previous = self.aws_json("get-secret-value", "--secret-id", name,
                                 "--version-stage", "AWSPREVIOUS")
        self.assertEqual(previous["VersionId"], v1)

        blob_path = os.path.join(self.workdir, "blob.bin")
        blob = bytes(range(256))
        with open(blob_path, "wb") as f:
            f.write(blob)
        self.aws_json("create-secret", "--name", "cli/binary", "--secret-binary",
                      f"fileb://{blob_path}")
        got_binary = self.aws_json("get-secret-value", "--secret-id", "cli/binary")
        self.assertEqual(base64.b64decode(got_binary["SecretBinary"]), blob)

        listed = self.aws_json("list-secrets")
        by_name = {s["Name"]: s for s in listed["SecretList"]}
        self.assertEqual(set(by_name), {name, "cli/binary"})
        entry = by_name[name]
        self.assertEqual(entry["ARN"], created["ARN"])
        self.assertEqual(entry["Description"], "created by the aws cli")
        self.assertEqual(entry["Tags"], [{"Key": "team", "Value": "cli"}])
        self.assertEqual(entry["SecretVersionsToStages"], {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]})
        filtered = self.aws_json("list-secrets", "--filters", "Key=name,Values=cli/app")
        self.assertEqual([s["Name"] for s in filtered["SecretList"]], [name])

        described = self.aws_json("describe-secret", "--secret-id", name)
        self.assertEqual(described["VersionIdsToStages"], {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]})

        missing = self.aws("get-secret-value", "--secret-id", "cli/missing", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("ResourceNotFoundException", missing.stderr)
        self.assertIn("GetSecretValue", missing.stderr)


if __name__ == "__main__":
    unittest.main()
