"""Time-driven key lifecycle across restarts: a key scheduled for deletion is really destroyed
once its waiting period has passed, and automatic rotation happens when due.

The server is restarted under libfaketime (Debian's libfaketime, LD_PRELOAD) with its clock moved
days ahead; the clients sign with the same shifted clock so SigV4's 5-minute skew check passes.
"""

import contextlib
import datetime
import os
import time
import unittest
from unittest import mock

import botocore.auth
import botocore.exceptions

from meridian_harness import MeridianProcess, utcnow

LIBFAKETIME_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
)
_real_get_current_datetime = botocore.auth.get_current_datetime


def libfaketime():
    for path in LIBFAKETIME_CANDIDATES:
        if os.path.exists(path):
            return path
    raise AssertionError("libfaketime is not installed (scripts/install-deps.sh installs it)")


@contextlib.contextmanager
def clients_sign_ahead(days):
    offset = datetime.timedelta(days=days)
    with mock.patch.object(botocore.auth, "get_current_datetime",
                           side_effect=lambda *a, **k: _real_get_current_datetime(*a, **k) + offset):
        yield


class TimeTravelTest(unittest.TestCase):

    def setUp(self):
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.base_env = dict(self.server.env)

    def restart_days_ahead(self, days):
        self.assertEqual(self.server.stop(), 0)
        self.server.env = dict(self.base_env)
        self.server.env.update({
            "LD_PRELOAD": libfaketime(),
            "FAKETIME": f"+{days}d",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        })
        self.server.start()

    def assertGone(self, call):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            call()
        self.assertIn(ctx.exception.response["Error"]["Code"],
                      ("NotFoundException", "InvalidCiphertextException"),
                      ctx.exception.response["Error"])

    def test_pending_deletion_key_is_destroyed_when_due(self):
        kms = self.server.client()
        doomed = kms.create_key(Description="doomed")["KeyMetadata"]
        later = kms.create_key(Description="deleted later")["KeyMetadata"]
        saved = kms.create_key(Description="deletion canceled")["KeyMetadata"]
        kept = kms.create_key(Description="kept")["KeyMetadata"]
        blobs = {md["KeyId"]: kms.encrypt(KeyId=md["KeyId"], Plaintext=b"p")["CiphertextBlob"]
                 for md in (doomed, later, saved, kept)}
        kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
        kms.schedule_key_deletion(KeyId=later["KeyId"], PendingWindowInDays=30)
        kms.schedule_key_deletion(KeyId=saved["KeyId"], PendingWindowInDays=7)
        kms.cancel_key_deletion(KeyId=saved["KeyId"])

        # The server was down when the 7-day window ended; it must still destroy the key.
        self.restart_days_ahead(8)
        with clients_sign_ahead(8):
            kms = self.server.client()
            self.assertGone(lambda: kms.describe_key(KeyId=doomed["KeyId"]))
            self.assertGone(lambda: kms.decrypt(CiphertextBlob=blobs[doomed["KeyId"]]))
            listed = {k["KeyId"] for k in kms.list_keys()["Keys"]}
            self.assertNotIn(doomed["KeyId"], listed)
            self.assertEqual({later["KeyId"], saved["KeyId"], kept["KeyId"]} - listed, set())
            self.assertEqual(kms.describe_key(KeyId=later["KeyId"])["KeyMetadata"]["KeyState"],
                             "PendingDeletion")
            self.assertEqual(kms.describe_key(KeyId=saved["KeyId"])["KeyMetadata"]["KeyState"],
                             "Disabled")
            self.assertEqual(kms.decrypt(CiphertextBlob=blobs[kept["KeyId"]])["Plaintext"], b"p")

        self.restart_days_ahead(31)
        with clients_sign_ahead(31):
            kms = self.server.client()
            self.assertGone(lambda: kms.describe_key(KeyId=later["KeyId"]))
            kms.enable_key(KeyId=saved["KeyId"])
            self.assertEqual(kms.decrypt(CiphertextBlob=blobs[saved["KeyId"]])["Plaintext"], b"p")
        self.assertEqual(self.server.stop(), 0)

    def test_automatic_rotation_when_due(self):
        kms = self.server.client()
        md = kms.create_key(Description="auto-rotated")["KeyMetadata"]
        kms.enable_key_rotation(KeyId=md["KeyId"], RotationPeriodInDays=90)
        before = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"before rotation")["CiphertextBlob"]
        self.assertEqual(kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"], [])

        self.restart_days_ahead(91)
        with clients_sign_ahead(91):
            kms = self.server.client()
            rotations = []
            for _ in range(100):  # allow the server a few seconds to run its rotation pass
                rotations = kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"]
                if rotations:
                    break
                time.sleep(0.1)
            self.assertEqual([r["RotationType"] for r in rotations], ["AUTOMATIC"], rotations)
            status = kms.get_key_rotation_status(KeyId=md["KeyId"])
            self.assertIs(status["KeyRotationEnabled"], True)
            shifted_now = utcnow() + datetime.timedelta(days=91)
            self.assertGreater(status["NextRotationDate"], shifted_now)
            self.assertEqual(kms.decrypt(CiphertextBlob=before)["Plaintext"], b"before rotation")
            after = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"after rotation")["CiphertextBlob"]
            self.assertEqual(kms.decrypt(CiphertextBlob=after)["Plaintext"], b"after rotation")
        self.assertEqual(self.server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
