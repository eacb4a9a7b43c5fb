"""`meridian up --tls`: HTTPS (TLS 1.3 only) on the region and edge endpoints with the deployment
CA (issue 4, "Transport security"), driven with boto3, the aws cli and python's ssl module.

Covers: the CA bundle path is printed and cluster.json records https endpoints; boto3 and the aws
cli work with that bundle and fail without it; a TLS 1.2 handshake and plaintext HTTP are refused;
the multi-region edge forwards over TLS to every region; `meridian status` finds the CA itself.
"""

import json
import os
import re
import socket
import ssl
import subprocess
import unittest

import boto3
import botocore.config
import botocore.exceptions

from meridian_harness import MeridianProcess, meridian_binary


class TlsDeployment:
    def __init__(self, regions):
        self.up = MeridianProcess(regions=regions, extra_args=["--tls"])
        try:
            self.up.start()
        except Exception:
            self.up.cleanup()
            raise
        printed = [l for l in self.up._stdout_lines if "CA bundle" in l]
        if not printed:
            raise AssertionError("`up --tls` did not print the CA bundle: %r" % self.up._stdout_lines)
        self.ca_bundle = re.search(r"CA bundle (\S+)", printed[0]).group(1)

    def client(self, region, endpoint=None, verify=True):
        ak, sk = self.up.admin_credentials()
        return boto3.session.Session().client(
            "kms", region_name=region, endpoint_url=endpoint or f"https://127.0.0.1:{self.up.port}",
            aws_access_key_id=ak, aws_secret_access_key=sk,
            verify=self.ca_bundle if verify else None,
            config=botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30))


class SingleRegionTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = TlsDeployment(["us-east-1"])

    @classmethod
    def tearDownClass(cls):
        cls.d.up.cleanup()

    def test_ca_bundle_is_the_deployment_ca_and_endpoints_are_https(self):
        self.assertTrue(os.path.isfile(self.d.ca_bundle), self.d.ca_bundle)
        self.assertEqual(self.d.ca_bundle, os.path.join(self.d.up.data_dir, "ca", "ca-cert.pem"))
        endpoint = self.d.up.region_endpoint("us-east-1")
        self.assertTrue(endpoint.startswith("https://127.0.0.1:"), endpoint)

    def test_boto3_with_the_bundle_encrypts_and_decrypts(self):
        kms = self.d.client("us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"over tls 1.3")["CiphertextBlob"]
        self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"over tls 1.3")

    def test_without_the_bundle_the_certificate_is_not_trusted(self):
        with self.assertRaises(botocore.exceptions.SSLError):
            self.d.client("us-east-1", verify=False).list_keys()

    def test_aws_cli_with_ca_bundle(self):
        ak, sk = self.d.up.admin_credentials()
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ak, AWS_SECRET_ACCESS_KEY=sk, AWS_DEFAULT_REGION="us-east-1")
        out = subprocess.run(["aws", "kms", "list-keys", "--endpoint-url", f"https://127.0.0.1:{self.d.up.port}",
                              "--ca-bundle", self.d.ca_bundle, "--output", "json"],
                             capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Keys", json.loads(out.stdout))

    def test_tls12_handshake_is_refused(self):
        context = ssl.create_default_context(cafile=self.d.ca_bundle)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", self.d.up.port), timeout=5) as raw:
            with self.assertRaises(ssl.SSLError):
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.recv(1)
        # TLS 1.3 with the same CA works, and the certificate names the host we dialled.
        context = ssl.create_default_context(cafile=self.d.ca_bundle)
        with socket.create_connection(("127.0.0.1", self.d.up.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                self.assertEqual(tls.version(), "TLSv1.3")

    def test_plaintext_http_gets_no_http_answer(self):
        with socket.create_connection(("127.0.0.1", self.d.up.port), timeout=5) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}")
            try:
                answer = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                answer = b""
        self.assertFalse(answer.startswith(b"HTTP/"), answer)


class MultiRegionTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = TlsDeployment(["us-east-1", "eu-west-1"])

    @classmethod
    def tearDownClass(cls):
        cls.d.up.cleanup()

    def test_edge_forwards_over_tls_to_every_region(self):
        for region in ("us-east-1", "eu-west-1"):
            kms = self.d.client(region)  # the edge endpoint
            key = kms.create_key(Description=f"via edge to {region}")["KeyMetadata"]
            self.assertIn(f":{region}:", key["Arn"])
            direct = self.d.client(region, endpoint=self.d.up.region_endpoint(region))
            self.assertEqual(direct.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"], key["Arn"])

    def test_status_uses_the_deployment_ca(self):
        out = subprocess.run([meridian_binary(), "status", "--data-dir", self.d.up.data_dir, "--json"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        answered = {r["Region"] for r in json.loads(out.stdout)["Regions"] if "Answer" in r}
        self.assertEqual(answered, {"us-east-1", "eu-west-1"})


if __name__ == "__main__":
    unittest.main()
