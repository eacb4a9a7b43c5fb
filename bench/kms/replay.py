#!/usr/bin/env python3
"""Sends an exact number of SigV4-signed KMS requests to one endpoint (used by
bench/kms/instructions.sh, which counts the server's instructions per request under callgrind).

  replay.py setup  --endpoint URL --cluster cluster.json --state FILE
      creates a symmetric key and one ciphertext with boto3; writes them to FILE (JSON)
  replay.py send   --endpoint URL --cluster cluster.json --state FILE
                   --operation Encrypt|Decrypt|GenerateDataKey --requests N [--connections C]
      signs one request now (botocore's signer, valid for the 5-minute skew window) and sends it
      N times over C keep-alive connections, in waves of C (one request per connection, then all
      C responses), so that the server sees the same concurrency in every run. Every response must
      be 200 with a JSON body, or the run fails (a benchmark of error responses is worthless).

Same request shapes as bench/kms/kms_bench.py: 64-byte plaintext for Encrypt, AES_256 for
GenerateDataKey.
"""

import argparse
import base64
import json
import socket
import sys

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
from botocore.awsrequest import AWSRequest

REGION = "us-east-1"
PLAINTEXT = bytes(range(64))


def credentials(cluster_path):
    with open(cluster_path) as f:
        admin = json.load(f)["admin"]
    return admin["access_key_id"], admin["secret_access_key"]


def setup(args):
    access_key, secret_key = credentials(args.cluster)
    kms = boto3.session.Session().client(
        "kms", endpoint_url=args.endpoint, region_name=REGION, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=600))
    key_id = kms.create_key(Description="instruction count")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)["CiphertextBlob"]
    with open(args.state, "w") as f:
        json.dump({"key_id": key_id, "ciphertext": base64.b64encode(blob).decode()}, f)


def signed_request(endpoint, operation, state, access_key, secret_key):
    if operation == "Encrypt":
        body = {"KeyId": state["key_id"], "Plaintext": base64.b64encode(PLAINTEXT).decode()}
    elif operation == "Decrypt":
        body = {"CiphertextBlob": state["ciphertext"]}
    elif operation == "GenerateDataKey":
        body = {"KeyId": state["key_id"], "KeySpec": "AES_256"}
    else:
        raise SystemExit(f"replay.py: unknown operation {operation}")
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"TrentService.{operation}",
    })
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(access_key, secret_key), "kms",
                            REGION).add_auth(request)
    host = endpoint.split("://", 1)[1].rstrip("/")
    head = [f"POST / HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}",
            "User-Agent: meridian-bench-replay"]
    for name, value in request.headers.items():
        if name.lower() not in ("host", "content-length", "user-agent"):
            head.append(f"{name}: {value}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


class Connection:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def read_response(self):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("replay.py: the server closed the connection")
        self.buffer += chunk


def send(args):
    access_key, secret_key = credentials(args.cluster)
    with open(args.state) as f:
        state = json.load(f)
    payload = signed_request(args.endpoint.rstrip("/"), args.operation, state, access_key, secret_key)
    host, port = args.endpoint.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    connections = [Connection(host, int(port)) for _ in range(args.connections)]
    remaining = args.requests
    while remaining > 0:
        wave = connections[:min(remaining, len(connections))]
        for c in wave:
            c.sock.sendall(payload)
        for c in wave:
            status, body = c.read_response()
            if status != 200:
                raise SystemExit(f"replay.py: HTTP {status}: {body[:300]!r}")
            json.loads(body)
        remaining -= len(wave)
    for c in connections:
        c.sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("setup", "send"))
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--operation", default="Encrypt")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    setup(args) if args.mode == "setup" else send(args)


if __name__ == "__main__":
    sys.exit(main())
