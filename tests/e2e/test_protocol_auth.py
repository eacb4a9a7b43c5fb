"""The AWS JSON 1.1 protocol and SigV4 authentication, with raw requests signed by botocore's own
signer (botocore.auth.SigV4Auth / SigV4QueryAuth) so that bodies, headers and timestamps can be
broken on purpose."""

import base64
import datetime
import http.client
import json
import unittest

import botocore.exceptions

from meridian_harness import JSON_CONTENT_TYPE, MeridianTestCase, send_raw, utcnow


class ProtocolTest(MeridianTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key_id = cls.kms.create_key()["KeyMetadata"]["KeyId"]

    def test_signed_request_succeeds_with_request_id(self):
        status, headers, body = self.server.signed_request(
            "Encrypt", {"KeyId": self.key_id, "Plaintext": base64.b64encode(b"raw").decode()})
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, dict, body)
        self.assertTrue(headers.get("x-amzn-requestid"))
        self.assertTrue(headers.get("content-type", "").startswith(JSON_CONTENT_TYPE),
                        headers.get("content-type"))
        self.assertIn("CiphertextBlob", body)
        base64.b64decode(body["CiphertextBlob"], validate=True)

    def test_timestamps_are_epoch_seconds_and_blobs_base64(self):
        status, _, body = self.server.signed_request("CreateKey", {"Description": "raw"})
        self.assertEqual(status, 200, body)
        created = body["KeyMetadata"]["CreationDate"]
        self.assertIsInstance(created, (int, float))
        self.assertLess(abs(created - utcnow().timestamp()), 300)
        status, _, body = self.server.signed_request(
            "GenerateDataKey", {"KeyId": self.key_id, "NumberOfBytes": 24})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(base64.b64decode(body["Plaintext"], validate=True)), 24)
        base64.b64decode(body["CiphertextBlob"], validate=True)

    def test_key_id_format_and_length(self):
        result = self.server.signed_request("DescribeKey", {"KeyId": "not-a-key"})
        self.assertRawError(result, "NotFoundException")
        result = self.server.signed_request("DescribeKey", {"KeyId": "k" * 2049})
        self.assertRawError(result, "ValidationException")
        result = self.server.signed_request("DescribeKey", {"KeyId": ""})
        self.assertRawError(result, "ValidationException")

    def test_request_ids_are_unique(self):
        ids = set()
        for _ in range(5):
            _, headers, _ = self.server.signed_request("ListKeys", {})
            ids.add(headers.get("x-amzn-requestid"))
        self.assertEqual(len(ids), 5)

    def test_malformed_json_is_serialization_exception(self):
        for body in (b"{", b"not json at all", b"{\"KeyId\": }", b"\xff\xfe\x00"):
            with self.subTest(body=body):
                result = self.server.signed_request("DescribeKey", body)
                self.assertRawError(result, "SerializationException")

    def test_wrong_field_type_is_serialization_exception(self):
        result = self.server.signed_request("GenerateRandom", {"NumberOfBytes": "thirty-two"})
        self.assertRawError(result, "SerializationException")
        result = self.server.signed_request("Encrypt", {"KeyId": self.key_id, "Plaintext": 12})
        self.assertRawError(result, "SerializationException")

    def test_invalid_base64_blob_is_rejected(self):
        status, _, body = self.server.signed_request(
            "Decrypt", {"CiphertextBlob": "***not base64***"})
        self.assertEqual(status, 400, body)
        self.assertIn(str(body.get("__type", "")).split("#")[-1],
                      ("SerializationException", "ValidationException",
                       "InvalidCiphertextException"), body)

    def test_missing_required_field_is_validation_exception(self):
        result = self.server.signed_request("Encrypt", {"KeyId": self.key_id})
        self.assertRawError(result, "ValidationException")
        result = self.server.signed_request("CreateAlias", {"AliasName": "alias/x"})
        self.assertRawError(result, "ValidationException")

    def test_unknown_operation(self):
        result = self.server.signed_request("EncryptEverything", {})
        self.assertRawError(result, "UnknownOperationException")
        result = self.server.signed_request("ListKeys", {}, target_prefix="NotTrentService")
        self.assertRawError(result, "UnknownOperationException")

    def test_oversized_body_is_rejected_and_server_survives(self):
        body = json.dumps({"KeyId": self.key_id,
                           "Plaintext": "A" * (8 * 1024 * 1024)}).encode()
        status, headers, parsed = self.server.signed_request("Encrypt", body)
        self.assertIn(status, (400, 413), parsed)
        self.assertNotEqual(status, 500)
        status, _, _ = self.server.signed_request("ListKeys", {})
        self.assertEqual(status, 200)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        import botocore.auth
        import botocore.credentials
        from botocore.awsrequest import AWSRequest
        ak, sk = self.server.admin_credentials()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            for i in range(5):
                req = AWSRequest(method="POST", url=self.server.endpoint + "/",
                                 data=json.dumps({"NumberOfBytes": 8 + i}).encode(),
                                 headers={"Content-Type": JSON_CONTENT_TYPE,
                                          "X-Amz-Target": "TrentService.GenerateRandom"})
                botocore.auth.SigV4Auth(botocore.credentials.Credentials(ak, sk), "kms",
                                        self.region).add_auth(req)
                p = req.prepare()
                conn.request("POST", "/", body=p.body, headers=dict(p.headers))
                resp = conn.getresponse()
                payload = json.loads(resp.read())
                self.assertEqual(resp.status, 200, payload)
                self.assertEqual(len(base64.b64decode(payload["Plaintext"])), 8 + i)
                self.assertNotEqual((resp.getheader("Connection") or "").lower(), "close")
        finally:
            conn.close()


class AuthenticationTest(MeridianTestCase):

    BODY = {"NumberOfBytes": 16}

    def test_bad_signature(self):
        def corrupt_signature(request):
            auth = request.headers["Authorization"]
            head, sig = auth.rsplit("Signature=", 1)
            flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
            del request.headers["Authorization"]
            request.headers["Authorization"] = head + "Signature=" + flipped

        result = self.server.signed_request("GenerateRandom", self.BODY, mutate=corrupt_signature)
        self.assertRawError(result, "InvalidSignatureException")

    def test_body_changed_after_signing(self):
        def change_body(request):
            request.data = json.dumps({"NumberOfBytes": 17}).encode()

        result = self.server.signed_request("GenerateRandom", self.BODY, mutate=change_body)
        self.assertRawError(result, "InvalidSignatureException")

    def test_signed_header_changed_after_signing(self):
        def change_target(request):
            del request.headers["X-Amz-Target"]
            request.headers["X-Amz-Target"] = "TrentService.ListKeys"

        result = self.server.signed_request("GenerateRandom", self.BODY, mutate=change_target)
        self.assertRawError(result, "InvalidSignatureException")

    def test_wrong_secret_via_boto3(self):
        ak, _ = self.server.admin_credentials()
        client = self.server.client(access_key=ak, secret_key="wrong-secret-" + "x" * 27)
        with self.assertAwsError("InvalidSignatureException", status=400):
            client.list_keys()

    def test_unknown_access_key(self):
        result = self.server.signed_request("GenerateRandom", self.BODY,
                                            access_key="AKIAUNKNOWNUNKNOWN00",
                                            secret_key="s" * 40)
        self.assertRawError(result, "UnrecognizedClientException")
        client = self.server.client(access_key="AKIAUNKNOWNUNKNOWN00", secret_key="s" * 40)
        with self.assertAwsError("UnrecognizedClientException", status=400):
            client.list_keys()

    def test_clock_skew_past(self):
        signed_at = utcnow() - datetime.timedelta(minutes=10)
        status, headers, body = self.server.signed_request("GenerateRandom", self.BODY,
                                                           signed_at=signed_at)
        self.assertRawError((status, headers, body), "InvalidSignatureException")
        # AWS: "Signature expired: <t> is now earlier than <now - 5 min> ..."
        self.assertIn("expired", body.get("message", body.get("Message", "")).lower())

    def test_clock_skew_future(self):
        signed_at = utcnow() + datetime.timedelta(minutes=10)
        result = self.server.signed_request("GenerateRandom", self.BODY, signed_at=signed_at)
        self.assertRawError(result, "InvalidSignatureException")

    def test_within_skew_window_is_accepted(self):
        for minutes in (-4, 4):
            with self.subTest(minutes=minutes):
                signed_at = utcnow() + datetime.timedelta(minutes=minutes)
                status, _, body = self.server.signed_request("GenerateRandom", self.BODY,
                                                             signed_at=signed_at)
                self.assertEqual(status, 200, body)

    def test_credential_scope_wrong_region(self):
        result = self.server.signed_request("GenerateRandom", self.BODY, region="eu-west-3")
        self.assertRawError(result, "InvalidSignatureException")

    def test_credential_scope_wrong_service(self):
        result = self.server.signed_request("GenerateRandom", self.BODY, service="s3")
        self.assertRawError(result, "InvalidSignatureException")

    def test_unsigned_request_is_rejected(self):
        status, headers, body = send_raw(
            self.server.port, "POST", "/", json.dumps(self.BODY).encode(),
            {"Content-Type": JSON_CONTENT_TYPE, "X-Amz-Target": "TrentService.GenerateRandom"})
        self.assertIn(status, (400, 403), body)
        self.assertIsInstance(body, dict)
        self.assertEqual(str(body.get("__type")).split("#")[-1],
                         "MissingAuthenticationTokenException", body)
        self.assertTrue(headers.get("x-amzn-requestid"))

    def test_malformed_authorization_header(self):
        result = send_raw(self.server.port, "POST", "/", json.dumps(self.BODY).encode(), {
            "Content-Type": JSON_CONTENT_TYPE, "X-Amz-Target": "TrentService.GenerateRandom",
            "X-Amz-Date": utcnow().strftime("%Y%m%dT%H%M%SZ"),
            "Authorization": "AWS4-HMAC-SHA256 Credential=abc"})
        self.assertRawError(result, "IncompleteSignatureException")

    def test_missing_date_header(self):
        def drop_date(request):
            del request.headers["X-Amz-Date"]

        result = self.server.signed_request("GenerateRandom", self.BODY, mutate=drop_date)
        self.assertRawError(result, "IncompleteSignatureException")

    def test_unknown_session_token(self):
        # Long-term admin credentials plus a token the server never issued.
        result = self.server.signed_request("GenerateRandom", self.BODY,
                                            headers={"X-Amz-Security-Token": "not-issued-here"})
        self.assertRawError(result, "UnrecognizedClientException")

    def test_query_string_signature(self):
        status, _, body = self.server.signed_request("GenerateRandom", self.BODY, query_auth=True)
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(len(base64.b64decode(body["Plaintext"])), 16)

    def test_query_string_bad_signature(self):
        def corrupt(request):
            request.url = request.url.replace("X-Amz-Signature=", "X-Amz-Signature=0f", 1)[:-2]

        result = self.server.signed_request("GenerateRandom", self.BODY, query_auth=True,
                                            mutate=corrupt)
        self.assertRawError(result, "InvalidSignatureException")

    def test_boto3_error_parsing(self):
        # The error shape must be one botocore maps to a modeled exception class.
        try:
            self.kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
        except self.kms.exceptions.NotFoundException as e:
            self.assertTrue(e.response["Error"]["Message"])
        else:
            self.fail("DescribeKey of an unknown key succeeded")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.kms.decrypt(CiphertextBlob=b"x" * 64)


if __name__ == "__main__":
    unittest.main()
