"""`meridian policy lint`: the seeds' dangerous key policy is flagged, a least-privilege one is not
(scenario S3)."""

import json
import os
import subprocess
import tempfile
import unittest

from meridian_harness import meridian_binary


def lint(document, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(document if isinstance(document, str) else json.dumps(document))
        path = f.name
    try:
        return subprocess.run([meridian_binary(), "policy", "lint", path, *args],
                              capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(path)


class PolicyLintTest(unittest.TestCase):
    def test_anyone_with_any_credentials_is_critical(self):
        result = lint({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}, "--key-policy")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("CRITICAL public-principal", result.stdout)
        self.assertIn("wildcard-action-all-resources", result.stdout)
        self.assertIn("key-policy-without-account-root", result.stdout)

    def test_region_pinned_least_privilege_policy_is_clean(self):
        result = lint({"Version": "2012-10-17", "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "App", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
             "Action": ["kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]},
            "--key-policy", "--account", "111122223333", "--json")
        findings = json.loads(result.stdout)
        self.assertTrue(all(f["severity"] == "LOW" for f in findings), findings)
        self.assertEqual(result.returncode, 0)

    def test_malformed_policy_exits_2_naming_the_problem(self):
        result = lint('{"Statement": [{"Effect": "Maybe"}]}')
        self.assertEqual(result.returncode, 2)
        self.assertIn("Effect", result.stderr)


if __name__ == "__main__":
    unittest.main()
