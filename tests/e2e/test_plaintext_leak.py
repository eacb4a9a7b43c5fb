"""No plaintext and no data key ever reaches the data directory or the server's logs.

Known random plaintexts are encrypted, data keys generated, ciphertexts re-encrypted and
decrypted; then every file under the data directory (the SQLite database with its -wal and -shm
files, the root key file, cluster.json, anything else) and the captured stdout/stderr are
searched for each secret in raw, base64, URL-safe base64 and hex form. The search runs while the
server is up (WAL not yet checkpointed), after SIGKILL, and after a clean restart and stop.
"""

import base64
import os
import unittest

from meridian_harness import MeridianProcess


def encodings(secret):
    forms = {
        "raw": secret,
        "base64": base64.b64encode(secret),
        "base64-unpadded": base64.b64encode(secret).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(secret).rstrip(b"="),
        "hex": secret.hex().encode(),
        "HEX": secret.hex().upper().encode(),
    }
    # UTF-16 (e.g. a string copied into a wide buffer) of the base64 form.
    forms["base64-utf16le"] = forms["base64"].decode().encode("utf-16-le")
    return forms


class PlaintextLeakTest(unittest.TestCase):

    def setUp(self):
        self.server = MeridianProcess()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def files_to_scan(self):
        paths = []
        for root, _, names in os.walk(self.server.data_dir):
            paths.extend(os.path.join(root, n) for n in names)
        paths.extend(self.server.log_files())
        return paths

    def assertNoLeaks(self, secrets, phase):
        paths = self.files_to_scan()
        self.assertTrue(any(p.startswith(self.server.data_dir) for p in paths),
                        "data directory is empty")
        leaks = []
        scanned = 0
        for path in paths:
            try:
                with open(path, "rb") as f:
                    content = f.read()
            except (FileNotFoundError, IsADirectoryError):
                continue  # e.g. a -shm file removed at checkpoint while scanning
            scanned += len(content)
            for label, secret in secrets.items():
                for form, needle in encodings(secret).items():
                    if needle in content:
                        leaks.append(f"{label} ({form}) in {path}")
        self.assertGreater(scanned, 0)
        self.assertEqual(leaks, [], f"plaintext found on disk/logs during {phase}")

    def test_no_plaintext_or_data_key_on_disk(self):
        kms = self.server.client()
        secrets = {}
        key = kms.create_key(Description="leak check")["KeyMetadata"]
        other = kms.create_key(Description="leak check 2")["KeyMetadata"]
        kms.create_alias(AliasName="alias/leak", TargetKeyId=key["KeyId"])
        blobs = []
        for i, size in enumerate((16, 32, 100, 1000, 4096)):
            plaintext = os.urandom(size)
            secrets[f"encrypt-plaintext-{size}"] = plaintext
            ctx = {"purpose": "leak", "i": str(i)}
            blob = kms.encrypt(KeyId="alias/leak", Plaintext=plaintext,
                               EncryptionContext=ctx)["CiphertextBlob"]
            blobs.append((blob, ctx))
            self.assertEqual(kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"],
                             plaintext)
            re_blob = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx,
                                     DestinationKeyId=other["KeyId"])["CiphertextBlob"]
            self.assertEqual(kms.decrypt(CiphertextBlob=re_blob)["Plaintext"], plaintext)
        for spec in ("AES_256", "AES_128"):
            for n in range(3):
                dk = kms.generate_data_key(KeyId=key["KeyId"], KeySpec=spec)
                secrets[f"data-key-{spec}-{n}"] = dk["Plaintext"]
        dk = kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=64)
        secrets["data-key-64"] = dk["Plaintext"]
        for n in range(3):
            wp = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256")
            secrets[f"data-key-without-plaintext-{n}"] = kms.decrypt(
                CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]
        secrets["random"] = kms.generate_random(NumberOfBytes=64)["Plaintext"]
        kms.rotate_key_on_demand(KeyId=key["KeyId"])
        after_rotation = os.urandom(48)
        secrets["after-rotation"] = after_rotation
        kms.encrypt(KeyId=key["KeyId"], Plaintext=after_rotation)

        self.assertNoLeaks(secrets, "operation (server running)")
        self.server.kill()
        self.assertNoLeaks(secrets, "after SIGKILL")
        self.server.start()
        kms = self.server.client()
        for blob, ctx in blobs:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
        self.assertEqual(self.server.stop(), 0)
        self.assertNoLeaks(secrets, "after restart and clean stop")


if __name__ == "__main__":
    unittest.main()
