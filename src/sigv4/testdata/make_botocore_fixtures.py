#!/usr/bin/env python3
"""Regenerates botocore_signed.json: requests signed by botocore's own SigV4 signers (the code
the aws cli and boto3 run), which sigv4_test's Verifier must accept. Run with the image's python3:
    python3 src/sigv4/testdata/make_botocore_fixtures.py > src/sigv4/testdata/botocore_signed.json
"""
import json
import sys
from urllib.parse import urlsplit

import botocore
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LONG = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
TEMP = Credentials("ASIAIOSFODNN7EXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
                   "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token==")


def case(name, method, url, body, headers, creds, region, service, presign=False):
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    if presign:
        SigV4QueryAuth(creds, service, region, expires=900).add_auth(request)
    else:
        SigV4Auth(creds, service, region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    out_headers = [[k, v] for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in out_headers):
        out_headers.insert(0, ["Host", parts.netloc])  # the HTTP client adds Host on the wire
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return {
        "name": name,
        "method": method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": out_headers,
        "body": body.decode("utf-8"),
        "access_key_id": creds.access_key,
        "secret_access_key": creds.secret_key,
        "session_token": creds.token,
        "region": region,
        "service": service,
        "presigned": presign,
    }


kms_json = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Encrypt"}
cases = [
    case("kms-encrypt", "POST", "https://kms.us-east-1.amazonaws.com/",
         json.dumps({"KeyId": "alias/app", "Plaintext": "aGVsbG8="}), kms_json, LONG, "us-east-1", "kms"),
    case("kms-encrypt-session-token", "POST", "http://127.0.0.1:4566/",
         json.dumps({"KeyId": "alias/app", "Plaintext": "aGVsbG8=", "EncryptionContext": {"a": "b c"}}),
         kms_json, TEMP, "eu-west-1", "kms"),
    case("secretsmanager-get", "POST", "http://localhost:4566/",
         json.dumps({"SecretId": "prod/db"}),
         {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
         LONG, "us-west-2", "secretsmanager"),
    case("sts-query-form-body", "POST", "https://sts.us-east-1.amazonaws.com/",
         "Action=GetCallerIdentity&Version=2011-06-15",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, TEMP, "us-east-1", "sts"),
    case("get-odd-path-and-query", "GET",
         "https://iam.amazonaws.com/a%20b/./c/../d~e?Marker=x%2By%2Fz&Action=ListUsers&empty=&b=%E1%88%B4",
         None, {"X-Custom": "  spaced   value  "}, LONG, "us-east-1", "iam"),
    case("presigned-get-caller-identity", "GET",
         "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
         None, {}, TEMP, "us-east-1", "sts", presign=True),
]
json.dump({"generator": "botocore " + botocore.__version__, "cases": cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
