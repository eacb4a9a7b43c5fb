"""The aws cli against Meridian: the README's session, run as written, plus a few commands whose
JSON output is checked field by field."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from meridian_harness import REPO_ROOT, MeridianTestCase

README = os.path.join(REPO_ROOT, "README.md")
SESSION_MARKER = "<!-- aws-cli-session"


def readme_session():
    """The bash block that follows the aws-cli-session marker in README.md."""
    with open(README) as f:
        text = f.read()
    start = text.index(SESSION_MARKER)
    match = re.compile(r"```bash\n(.*?)```", re.S).search(text, start)
    if match is None:
        raise AssertionError("README.md: no ```bash block after the aws-cli-session marker")
    return match.group(1)


class AwsCliTest(MeridianTestCase):

    def setUp(self):
        if shutil.which("aws", path=self.cli_env()["PATH"]) is None:
            self.fail("the aws cli is not on PATH (it ships with the image's python3)")
        self.workdir = tempfile.mkdtemp(prefix="meridian-e2e-cli-")
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def cli_env(self, with_credentials=True):
        env = dict(os.environ)
        # The aws cli is installed next to the python3 that has boto3.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        for var in list(env):
            if var.startswith("AWS_"):
                del env[var]
        env.update({
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
        })
        if with_credentials:
            ak, sk = self.server.admin_credentials()
            env.update({"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
                        "AWS_DEFAULT_REGION": self.region})
        return env

    def aws(self, *args, check=True):
        cmd = ["aws", "kms", "--endpoint-url", self.server.endpoint, "--output", "json"] + list(args)
        proc = subprocess.run(cmd, cwd=self.workdir, env=self.cli_env(), capture_output=True,
                              text=True, timeout=60)
        if check and proc.returncode != 0:
            self.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def test_readme_session_runs_as_written(self):
        script = readme_session()
        self.assertIn("http://127.0.0.1:4566", script)
        self.assertIn(".data/cluster.json", script)
        script = script.replace("http://127.0.0.1:4566", self.server.endpoint)
        script = script.replace(".data/cluster.json",
                                os.path.join(self.server.data_dir, "cluster.json"))
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=self.workdir,
                              env=self.cli_env(with_credentials=False), capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 0,
                         f"README session failed:\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        self.assertEqual(proc.stdout.count("hello, meridian"), 2, proc.stdout)
        self.assertIn("alias/demo", proc.stdout)
        self.assertIn(f"arn:aws:kms:{self.region}:{self.account_id}:key/", proc.stdout)

    def test_cli_commands_and_output(self):
        created = json.loads(self.aws("create-key", "--description", "cli key",
                                      "--tags", "TagKey=team,TagValue=cli").stdout)
        md = created["KeyMetadata"]
        self.assertEqual(md["Description"], "cli key")
        self.assertEqual(md["KeyState"], "Enabled")
        self.assertIsInstance(md["CreationDate"], (int, float, str))

        plaintext_path = os.path.join(self.workdir, "in.bin")
        payload = os.urandom(300)
        with open(plaintext_path, "wb") as f:
            f.write(payload)
        enc = json.loads(self.aws("encrypt", "--key-id", md["Arn"], "--plaintext",
                                  f"fileb://{plaintext_path}").stdout)
        self.assertEqual(enc["KeyId"], md["Arn"])
        blob_path = os.path.join(self.workdir, "blob.bin")
        with open(blob_path, "wb") as f:
            f.write(base64.b64decode(enc["CiphertextBlob"]))
        dec = json.loads(self.aws("decrypt", "--ciphertext-blob", f"fileb://{blob_path}").stdout)
        self.assertEqual(base64.b64decode(dec["Plaintext"]), payload)

        keys = json.loads(self.aws("list-keys").stdout)["Keys"]
        self.assertIn(md["KeyId"], [k["KeyId"] for k in keys])
        tags = json.loads(self.aws("list-resource-tags", "--key-id", md["KeyId"]).stdout)["Tags"]
        self.assertEqual(tags, [{"TagKey": "team", "TagValue": "cli"}])
        dk = json.loads(self.aws("generate-data-key", "--key-id", md["KeyId"],
                                 "--number-of-bytes", "48").stdout)
        self.assertEqual(len(base64.b64decode(dk["Plaintext"])), 48)

    def test_cli_reports_aws_errors(self):
        proc = self.aws("describe-key", "--key-id", "11111111-2222-3333-4444-555555555555",
                        check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("NotFoundException", proc.stderr)
        proc = self.aws("schedule-key-deletion", "--key-id",
                        self.kms.create_key()["KeyMetadata"]["KeyId"],
                        "--pending-window-in-days", "3", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ValidationException", proc.stderr)


if __name__ == "__main__":
    unittest.main()
