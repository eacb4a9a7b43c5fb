"""Shared harness for the end-to-end suites: runs `meridian up` as a real process.

Every suite starts its own server on a free loopback port with a fresh temporary data directory,
waits for the "meridian: ready" line on stdout, and talks to it with the real AWS clients (boto3,
botocore's SigV4 signer, the aws cli). Nothing here fakes the server or the clients.

Environment:
  MERIDIAN_BIN        path to the meridian binary (CTest passes $<TARGET_FILE:meridian>);
                      defaults to <repo>/build/meridian.
  MERIDIAN_E2E_KEEP   if set, temporary data directories are kept for inspection.
  MERIDIAN_E2E_STORAGE  if set (e.g. "postgres"), every `meridian up` gets `--storage` with it
                      (unless the suite passes its own), to run a suite on another backend.
"""

import base64
import contextlib
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from unittest import mock

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
import botocore.exceptions
from botocore.awsrequest import AWSRequest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
READY_LINE = "meridian: ready"
DEFAULT_REGION = "us-east-1"
START_TIMEOUT_S = float(os.environ.get("MERIDIAN_E2E_START_TIMEOUT", "60"))
STOP_TIMEOUT_S = 20.0
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


def meridian_binary():
    path = os.environ.get("MERIDIAN_BIN") or os.path.join(REPO_ROOT, "build", "meridian")
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"meridian binary not found or not executable at {path!r}; build it first "
            "(make build) or set MERIDIAN_BIN")
    return path


def free_port(block=8):
    """The first of `block` consecutive TCP ports on 127.0.0.1 that nothing uses right now.

    Picked below the kernel's ephemeral range (32768+), so that outgoing connections (of this
    test or a parallel one) cannot take them before meridian binds; `meridian up --port P` also
    listens on the ports after P (one per region, then the peer links).
    """
    for _ in range(200):
        base = random.randrange(20000, 32000 - block)
        sockets = []
        try:
            for port in range(base, base + block):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {block} consecutive free ports on 127.0.0.1")


class PortTaken(RuntimeError):
    pass


class MeridianProcess:
    """One `meridian up` process with its own data directory.

    The process can be stopped (SIGTERM), killed (SIGKILL) and started again on the same data
    directory and port. Its stdout and stderr are captured to files in a separate log directory
    (never inside the data directory), which the plaintext-leak suite also scans.
    """

    def __init__(self, data_dir=None, port=None, region=DEFAULT_REGION, extra_args=(),
                 env=None, regions=None):
        """regions: a list of regions for a multi-region deployment (`--regions a,b,c`); `port`
        is then the edge endpoint, and `region` defaults to the first of them."""
        self.regions = list(regions) if regions else None
        if self.regions:
            region = self.regions[0]
        self._owns_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="meridian-e2e-data-")
        self.log_dir = tempfile.mkdtemp(prefix="meridian-e2e-logs-")
        self._port_chosen_here = port is None
        self.port = port or free_port()
        self.region = region
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self.starts = 0
        self._stdout_lines = []
        self._ready = threading.Event()
        self._reader = None
        self._stderr_file = None

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        regions = ",".join(self.regions) if self.regions else self.region
        storage = os.environ.get("MERIDIAN_E2E_STORAGE")
        storage_args = ["--storage", storage] if storage and "--storage" not in self.extra_args else []
        return [meridian_binary(), "up", "--data-dir", self.data_dir,
                "--regions", regions, "--port", str(self.port)] + storage_args + self.extra_args

    def start(self, timeout=START_TIMEOUT_S):
        """Starts the server and waits for its ready line.

        A port picked by free_port() can be taken by a parallel test before meridian binds it;
        on a first start the harness then moves to another free port (at most 3 tries).
        """
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if not (self._port_chosen_here and self.starts == 1) or attempt == 2:
                    raise
                self.starts = 0
                self.port = free_port()

    def _start_once(self, timeout):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self._ready.clear()
        self._stdout_lines = []
        stdout_path = os.path.join(self.log_dir, f"stdout.{self.starts}.log")
        stderr_path = os.path.join(self.log_dir, f"stderr.{self.starts}.log")
        self._stderr_file = open(stderr_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._stderr_file,
                                     env=self.env, cwd=self.log_dir)
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc, stdout_path),
                                        daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                self._reader.join(2)
                self._finish_io()
                tail = self.output_tail()
                if "already in use" in tail:
                    raise PortTaken(tail)
                raise RuntimeError(
                    f"meridian exited with code {self.proc.returncode} before it was ready\n"
                    + tail)
        self.kill()
        raise RuntimeError(f"meridian did not print {READY_LINE!r} within {timeout}s\n"
                           + self.output_tail())

    def _read_stdout(self, proc, path):
        with open(path, "wb") as out:
            for raw in iter(proc.stdout.readline, b""):
                out.write(raw)
                out.flush()
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self._stdout_lines.append(line)
                if line.strip() == READY_LINE:
                    self._ready.set()
        proc.stdout.close()

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Sends `sig` and waits; returns the exit code. Kills the process if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
            self._wait_port_closed()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"meridian did not exit within {timeout}s of signal {sig}\n"
                               + self.output_tail())
        finally:
            self._finish_io()
        return code

    def kill(self):
        """SIGKILL: no chance to flush or clean up, as after a crash or power loss.

        `meridian up` supervises one child process per region, which dies with it; wait until
        the port is free again so that a restart can bind it.
        """
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self._wait_port_closed()
        self._finish_io()

    def _wait_port_closed(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"port {self.port} still accepts connections {timeout}s after "
                           "meridian was killed (orphaned region process?)")

    def restart(self, hard=False):
        if hard:
            self.kill()
        else:
            code = self.stop()
            if code != 0:
                raise RuntimeError(f"meridian exited with {code} on SIGTERM\n" + self.output_tail())
        return self.start()

    def _finish_io(self):
        if self._reader is not None:
            self._reader.join(5)
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def cleanup(self):
        self.kill()
        if os.environ.get("MERIDIAN_E2E_KEEP"):
            return
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.log_dir, ignore_errors=True)

    def output_tail(self, lines=40):
        out = "\n".join(self._stdout_lines[-lines:])
        err = ""
        stderr_path = os.path.join(self.log_dir, f"stderr.{self.starts}.log")
        if os.path.exists(stderr_path):
            with open(stderr_path, "rb") as f:
                err = f.read()[-6000:].decode("utf-8", "replace")
        return f"--- meridian stdout (tail) ---\n{out}\n--- meridian stderr (tail) ---\n{err}"

    def log_files(self):
        return [os.path.join(self.log_dir, n) for n in sorted(os.listdir(self.log_dir))]

    # ---- cluster.json and clients ----------------------------------------------------------

    def cluster(self):
        with open(os.path.join(self.data_dir, "cluster.json")) as f:
            return json.load(f)

    def admin_credentials(self):
        admin = self.cluster()["admin"]
        return admin["access_key_id"], admin["secret_access_key"]

    def account_id(self):
        return self.cluster()["account_id"]

    def region_endpoint(self, region):
        """The direct endpoint of one region's process, as cluster.json records it."""
        return self.cluster()["regions"][region]["endpoint"]

    def region_pids(self):
        """{region: pid} of the `meridian server --config <data-dir>/<region>/server.json`
        processes that this `meridian up` runs as its children (from /proc)."""
        return {os.path.basename(os.path.dirname(config)): pid
                for pid, config in self._server_children()
                if os.path.basename(config) == "server.json"}

    def frontend_pids(self):
        """{region: [pid of frontend 1, frontend 2, ...]} of the `meridian server` processes this
        `meridian up` runs (several per region with `--frontends`, PostgreSQL storage). Frontend 1
        reads <region>/server.json, frontend k <region>/server-k.json; a dead frontend is left out."""
        found = {}
        for pid, config in self._server_children():
            name = os.path.basename(config)
            if name == "server.json":
                index = 1
            elif name.startswith("server-") and name.endswith(".json") and name[7:-5].isdigit():
                index = int(name[7:-5])
            else:
                continue
            found.setdefault(os.path.basename(os.path.dirname(config)), []).append((index, pid))
        return {region: [pid for _, pid in sorted(entries)] for region, entries in found.items()}

    def frontend_endpoints(self, region=None):
        """Each frontend's own endpoint (cluster.json "frontends"); [] with one frontend."""
        return self.cluster()["regions"][region or self.region].get("frontends", [])

    def _server_children(self):
        """(pid, config path) of each live `meridian server --config PATH` child of `up`."""
        children = []
        if self.proc is None or self.proc.poll() is not None:
            return children
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat_fields = f.read().rsplit(b")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
            except OSError:
                continue
            if int(stat_fields[1]) != self.proc.pid or stat_fields[0] == b"Z":
                continue
            if len(argv) >= 4 and argv[1] == "server" and argv[2] == "--config":
                children.append((int(entry), argv[3]))
        return children

    def client(self, service="kms", validate=True, access_key=None, secret_key=None,
               region=None, read_timeout=30, endpoint_url=None):
        """A boto3 client for this server: admin credentials, retries off.

        validate=False turns off botocore's client-side parameter validation so that the server's
        own validation (lengths, ranges, required fields) is what gets tested.
        endpoint_url: another endpoint than this server's (e.g. one region's direct endpoint).
        """
        ak, sk = self.admin_credentials()
        config = botocore.config.Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            parameter_validation=validate,
            connect_timeout=5,
            read_timeout=read_timeout,
        )
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint_url or self.endpoint,
            region_name=region or self.region,
            aws_access_key_id=access_key or ak,
            aws_secret_access_key=secret_key or sk,
            config=config,
        )

    # ---- raw signed requests ---------------------------------------------------------------

    def signed_request(self, operation, body, *, access_key=None, secret_key=None,
                       region=None, service="kms", signed_at=None, headers=None,
                       target_prefix="TrentService", query_auth=False, mutate=None):
        """Sends one POST / with a body signed by botocore's SigV4 signer.

        body may be a dict (JSON-encoded) or bytes (sent as is, e.g. malformed JSON).
        signed_at: a datetime (UTC) to sign with instead of now (clock-skew tests).
        query_auth: sign in the query string (presigned) instead of the Authorization header.
        mutate: a callable(AWSRequest) applied after signing (to tamper with the request).
        Returns (status, headers dict with lower-case names, parsed JSON body or raw bytes).
        """
        ak, sk = self.admin_credentials()
        creds = botocore.credentials.Credentials(access_key or ak, secret_key or sk)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request_headers = {"Content-Type": JSON_CONTENT_TYPE}
        if operation is not None:
            request_headers["X-Amz-Target"] = f"{target_prefix}.{operation}"
        request_headers.update(headers or {})
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=data,
                             headers=request_headers)
        signer_cls = _JsonSigV4QueryAuth if query_auth else botocore.auth.SigV4Auth
        signer = signer_cls(creds, service, region or self.region)
        if signed_at is None:
            signer.add_auth(request)
        else:
            with mock.patch.object(botocore.auth, "get_current_datetime",
                                   return_value=signed_at):
                signer.add_auth(request)
        if mutate is not None:
            mutate(request)
        prepared = request.prepare()
        return send_raw(self.port, "POST", prepared.url[len(self.endpoint):] or "/",
                        prepared.body, dict(prepared.headers))


class RegionServerProcess:
    """One `meridian server --config <data-dir>/<region>/server.json` started by the test itself,
    e.g. to bring back a region of a `meridian up` deployment whose process was killed.

    It gets the environment `up` gives its region processes (the admin credentials from
    cluster.json). It is not a child of `up`: the test stops it (stop()/kill()).
    """

    def __init__(self, deployment, region):
        self.deployment = deployment
        self.region = region
        self.config_path = os.path.join(deployment.data_dir, region, "server.json")
        with open(self.config_path) as f:
            self.config = json.load(f)
        self.ports = [l["port"] for l in self.config.get("listeners", [])]
        if self.config.get("peer_listener"):
            self.ports.append(self.config["peer_listener"]["port"])
        self.log_dir = tempfile.mkdtemp(prefix=f"meridian-e2e-{region}-logs-")
        self.proc = None
        self._logs = []

    def start(self, timeout=START_TIMEOUT_S):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        ak, sk = self.deployment.admin_credentials()
        env = dict(os.environ)
        env["MERIDIAN_ADMIN_ACCESS_KEY_ID"] = ak
        env["MERIDIAN_ADMIN_SECRET_ACCESS_KEY"] = sk
        n = len(self._logs) + 1
        out = open(os.path.join(self.log_dir, f"stdout.{n}.log"), "wb")
        err = open(os.path.join(self.log_dir, f"stderr.{n}.log"), "wb")
        self._logs.append((out, err))
        self.proc = subprocess.Popen(
            [meridian_binary(), "server", "--config", self.config_path], stdin=subprocess.DEVNULL,
            stdout=out, stderr=err, env=env, cwd=self.log_dir)
        deadline = time.monotonic() + timeout
        pending = list(self.ports)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"meridian server for {self.region} exited with "
                                   f"{self.proc.returncode}\n" + self.output_tail())
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"meridian server for {self.region} did not listen on "
                                   f"{pending} within {timeout}s\n" + self.output_tail())
            try:
                socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2).close()
                pending.pop(0)
            except OSError:
                time.sleep(0.05)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"meridian server for {self.region} did not exit within "
                               f"{timeout}s of signal {sig}\n" + self.output_tail())
        finally:
            self._close_logs()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_logs()

    def _close_logs(self):
        for out, err in self._logs:
            out.close()
            err.close()

    def cleanup(self):
        self.kill()
        if not os.environ.get("MERIDIAN_E2E_KEEP"):
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def output_tail(self):
        text = ""
        for name in sorted(os.listdir(self.log_dir)):
            with open(os.path.join(self.log_dir, name), "rb") as f:
                text += f"--- {name} (tail) ---\n" + f.read()[-4000:].decode("utf-8", "replace")
        return text


class _JsonSigV4QueryAuth(botocore.auth.SigV4QueryAuth):
    """SigV4 in the query string (X-Amz-Signature=...) with the JSON body left in place.

    botocore's SigV4QueryAuth is meant for the Query protocol and moves body parameters into the
    URL; for a JSON 1.1 request the body stays and is covered by the payload hash.
    """

    def _modify_request_before_signing(self, request):
        body = request.data
        request.data = b""
        super()._modify_request_before_signing(request)
        request.data = body


def send_raw(port, method, path, body, headers, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        response_headers = {k.lower(): v for k, v in response.getheaders()}
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return response.status, response_headers, parsed
    finally:
        conn.close()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def b64(data):
    return base64.b64encode(data).decode()


class MeridianTestCase(unittest.TestCase):
    """Starts one server per test class; tests in the class share it.

    Subclasses may set EXTRA_ARGS / EXTRA_ENV. tearDownClass checks that SIGTERM shuts the
    server down cleanly (exit code 0).
    """

    EXTRA_ARGS = ()
    EXTRA_ENV = None
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = MeridianProcess(extra_args=cls.EXTRA_ARGS, env=cls.EXTRA_ENV)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.kms = cls.server.client()
        cls.kms_raw = cls.server.client(validate=False)
        cls.account_id = cls.server.account_id()
        cls.region = cls.server.region

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            if code != 0:
                raise AssertionError(f"meridian exited with code {code} on SIGTERM\n"
                                     + cls.server.output_tail())
        finally:
            cls.server.cleanup()
            super().tearDownClass()

    # ---- helpers ---------------------------------------------------------------------------

    def create_key(self, **kwargs):
        return self.kms.create_key(**kwargs)["KeyMetadata"]

    def key_arn(self, key_id):
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"

    def alias_arn(self, alias_name):
        return f"arn:aws:kms:{self.region}:{self.account_id}:{alias_name}"

    @contextlib.contextmanager
    def assertAwsError(self, code, status=None, message_contains=None):
        """Asserts that the block raises a botocore ClientError with this AWS error code."""
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            yield ctx
        error = ctx.exception.response.get("Error", {})
        meta = ctx.exception.response.get("ResponseMetadata", {})
        self.assertEqual(error.get("Code"), code,
                         f"expected {code}, got {error.get('Code')}: {error.get('Message')!r}")
        if status is not None:
            self.assertEqual(meta.get("HTTPStatusCode"), status)
        if message_contains is not None:
            self.assertIn(message_contains, error.get("Message") or "")
        self.assertTrue(meta.get("RequestId"), "error response has no x-amzn-RequestId")

    def assertRawError(self, result, code, status=400):
        status_got, headers, body = result
        self.assertIsInstance(body, dict, f"error body is not JSON: {body!r}")
        type_got = str(body.get("__type", ""))
        # AWS may prefix the type with a namespace ("com.amazon.coral.service#...").
        self.assertEqual(type_got.split("#")[-1], code, f"body: {body!r}")
        self.assertEqual(status_got, status, f"body: {body!r}")
        self.assertTrue(body.get("message") or body.get("Message"),
                        f"error has no message: {body!r}")
        self.assertTrue(headers.get("x-amzn-requestid"), f"no x-amzn-RequestId: {headers!r}")
