"""KMS cryptographic operations through boto3: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
GenerateDataKeyWithoutPlaintext, GenerateRandom, and the encryption context bound as AAD."""

import os
import unittest

from meridian_harness import MeridianTestCase

UNKNOWN_KEY = "11111111-2222-3333-4444-555555555555"


class EncryptDecryptTest(MeridianTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = cls.kms.create_key(Description="crypto")["KeyMetadata"]
        cls.other = cls.kms.create_key(Description="crypto-other")["KeyMetadata"]
        cls.alias = "alias/e2e-crypto"
        cls.kms.create_alias(AliasName=cls.alias, TargetKeyId=cls.key["KeyId"])

    def test_round_trip_sizes(self):
        for size in (1, 2, 15, 16, 17, 255, 1024, 4095, 4096):
            with self.subTest(size=size):
                plaintext = os.urandom(size)
                enc = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=plaintext)
                self.assertEqual(enc["KeyId"], self.key["Arn"])
                self.assertEqual(enc["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT")
                if size >= 8:
                    self.assertNotIn(plaintext, enc["CiphertextBlob"])
                dec = self.kms.decrypt(CiphertextBlob=enc["CiphertextBlob"])
                self.assertEqual(dec["Plaintext"], plaintext)
                self.assertEqual(dec["KeyId"], self.key["Arn"])
                self.assertEqual(dec["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT")

    def test_ciphertexts_are_randomized(self):
        a = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
        b = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
        self.assertNotEqual(a, b)

    def test_encrypt_accepts_every_key_reference_form(self):
        for key_ref in (self.key["KeyId"], self.key["Arn"], self.alias, self.alias_arn(self.alias)):
            with self.subTest(key_ref=key_ref):
                enc = self.kms.encrypt(KeyId=key_ref, Plaintext=b"forms")
                self.assertEqual(enc["KeyId"], self.key["Arn"])
                self.assertEqual(self.kms.decrypt(CiphertextBlob=enc["CiphertextBlob"])["Plaintext"],
                                 b"forms")

    def test_encrypt_plaintext_length_limits(self):
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.encrypt(KeyId=self.key["KeyId"], Plaintext=b"")
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.encrypt(KeyId=self.key["KeyId"], Plaintext=os.urandom(4097))
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.encrypt(KeyId=self.key["KeyId"], Plaintext=os.urandom(65536))

    def test_encrypt_missing_fields_and_unknown_key(self):
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.encrypt(KeyId=self.key["KeyId"])
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.encrypt(Plaintext=b"no key")
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.encrypt(KeyId=UNKNOWN_KEY, Plaintext=b"x")
        with self.assertAwsError("NotFoundException", status=400):
            self.kms.encrypt(KeyId="alias/e2e-missing", Plaintext=b"x")

    def test_decrypt_with_key_id(self):
        blob = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"keyed")["CiphertextBlob"]
        for key_ref in (self.key["KeyId"], self.key["Arn"], self.alias, self.alias_arn(self.alias)):
            with self.subTest(key_ref=key_ref):
                dec = self.kms.decrypt(CiphertextBlob=blob, KeyId=key_ref)
                self.assertEqual(dec["Plaintext"], b"keyed")
                self.assertEqual(dec["KeyId"], self.key["Arn"])

    def test_decrypt_with_wrong_key_id_is_incorrect_key(self):
        blob = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"keyed")["CiphertextBlob"]
        with self.assertAwsError("IncorrectKeyException", status=400):
            self.kms.decrypt(CiphertextBlob=blob, KeyId=self.other["KeyId"])
        with self.assertAwsError("IncorrectKeyException", status=400):
            self.kms.decrypt(CiphertextBlob=blob, KeyId=self.other["Arn"])

    def test_decrypt_rejects_every_altered_byte(self):
        blob = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"tamper-evident")[
            "CiphertextBlob"]
        for i in range(len(blob)):
            altered = bytearray(blob)
            altered[i] ^= 0x01
            with self.subTest(byte=i):
                with self.assertAwsError("InvalidCiphertextException", status=400):
                    self.kms.decrypt(CiphertextBlob=bytes(altered))

    def test_decrypt_rejects_truncated_extended_and_garbage_blobs(self):
        blob = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"whole")["CiphertextBlob"]
        candidates = {
            "truncated-by-1": blob[:-1],
            "half": blob[: len(blob) // 2],
            "one-byte": blob[:1],
            "extended": blob + b"\x00",
            "random": os.urandom(len(blob)),
            "random-short": os.urandom(5),
            "zeros": bytes(len(blob)),
        }
        for name, candidate in candidates.items():
            with self.subTest(candidate=name):
                with self.assertAwsError("InvalidCiphertextException", status=400):
                    self.kms.decrypt(CiphertextBlob=candidate)

    def test_decrypt_requires_ciphertext(self):
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.decrypt()
        with self.assertAwsError("ValidationException", status=400):
            self.kms_raw.decrypt(CiphertextBlob=b"")

    def test_encryption_context_is_bound(self):
        ctx = {"tenant": "acme", "purpose": "e2e"}
        blob = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"bound",
                                EncryptionContext=ctx)["CiphertextBlob"]
        # Same pairs in a different order decrypt.
        reordered = {"purpose": "e2e", "tenant": "acme"}
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob, EncryptionContext=reordered)[
            "Plaintext"], b"bound")
        wrong_contexts = {
            "missing": None,
            "wrong-value": {"tenant": "acme", "purpose": "prod"},
            "subset": {"tenant": "acme"},
            "superset": {"tenant": "acme", "purpose": "e2e", "extra": "x"},
            "renamed-key": {"tenant": "acme", "Purpose": "e2e"},
            # Naive key||value concatenation would make this equal to the original context.
            "concatenation-shift": {"tenan": "tacme", "purpose": "e2e"},
        }
        for name, wrong in wrong_contexts.items():
            with self.subTest(context=name):
                kwargs = {"CiphertextBlob": blob}
                if wrong is not None:
                    kwargs["EncryptionContext"] = wrong
                with self.assertAwsError("InvalidCiphertextException", status=400):
                    self.kms.decrypt(**kwargs)

    def test_context_given_only_at_decrypt_is_rejected(self):
        blob = self.kms.encrypt(KeyId=self.key["KeyId"], Plaintext=b"plain")["CiphertextBlob"]
        with self.assertAwsError("InvalidCiphertextException", status=400):
            self.kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})


class ReEncryptTest(MeridianTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.kms.create_key(Description="source")["KeyMetadata"]
        cls.dest = cls.kms.create_key(Description="dest")["KeyMetadata"]

    def test_re_encrypt_moves_ciphertext_to_destination_key(self):
        src_ctx = {"stage": "source"}
        dst_ctx = {"stage": "dest"}
        blob = self.kms.encrypt(KeyId=self.source["KeyId"], Plaintext=b"moving",
                                EncryptionContext=src_ctx)["CiphertextBlob"]
        resp = self.kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=src_ctx,
                                   DestinationKeyId=self.dest["KeyId"],
                                   DestinationEncryptionContext=dst_ctx)
        self.assertEqual(resp["SourceKeyId"], self.source["Arn"])
        self.assertEqual(resp["KeyId"], self.dest["Arn"])
        self.assertEqual(resp["SourceEncryptionAlgorithm"], "SYMMETRIC_DEFAULT")
        self.assertEqual(resp["DestinationEncryptionAlgorithm"], "SYMMETRIC_DEFAULT")
        new_blob = resp["CiphertextBlob"]
        dec = self.kms.decrypt(CiphertextBlob=new_blob, EncryptionContext=dst_ctx)
        self.assertEqual(dec["Plaintext"], b"moving")
        self.assertEqual(dec["KeyId"], self.dest["Arn"])
        with self.assertAwsError("InvalidCiphertextException"):
            self.kms.decrypt(CiphertextBlob=new_blob, EncryptionContext=src_ctx)
        with self.assertAwsError("IncorrectKeyException"):
            self.kms.decrypt(CiphertextBlob=new_blob, KeyId=self.source["KeyId"])

    def test_re_encrypt_to_same_key(self):
        blob = self.kms.encrypt(KeyId=self.source["KeyId"], Plaintext=b"same")["CiphertextBlob"]
        resp = self.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=self.source["Arn"],
                                   SourceKeyId=self.source["KeyId"])
        self.assertNotEqual(resp["CiphertextBlob"], blob)
        self.assertEqual(self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"],
                         b"same")

    def test_re_encrypt_errors(self):
        ctx = {"k": "v"}
        blob = self.kms.encrypt(KeyId=self.source["KeyId"], Plaintext=b"err",
                                EncryptionContext=ctx)["CiphertextBlob"]
        with self.assertAwsError("InvalidCiphertextException"):
            self.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=self.dest["KeyId"])
        with self.assertAwsError("IncorrectKeyException"):
            self.kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx,
                                SourceKeyId=self.dest["KeyId"], DestinationKeyId=self.dest["KeyId"])
        with self.assertAwsError("NotFoundException"):
            self.kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx,
                                DestinationKeyId=UNKNOWN_KEY)
        with self.assertAwsError("ValidationException"):
            self.kms_raw.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx)
        altered = bytearray(blob)
        altered[-1] ^= 0x80
        with self.assertAwsError("InvalidCiphertextException"):
            self.kms.re_encrypt(CiphertextBlob=bytes(altered), SourceEncryptionContext=ctx,
                                DestinationKeyId=self.dest["KeyId"])


class DataKeyAndRandomTest(MeridianTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = cls.kms.create_key(Description="data keys")["KeyMetadata"]

    def test_generate_data_key_key_specs(self):
        for spec, length in (("AES_256", 32), ("AES_128", 16)):
            with self.subTest(spec=spec):
                resp = self.kms.generate_data_key(KeyId=self.key["KeyId"], KeySpec=spec)
                self.assertEqual(len(resp["Plaintext"]), length)
                self.assertEqual(resp["KeyId"], self.key["Arn"])
                dec = self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])
                self.assertEqual(dec["Plaintext"], resp["Plaintext"])

    def test_generate_data_key_number_of_bytes(self):
        for n in (1, 7, 64, 1024):
            with self.subTest(n=n):
                resp = self.kms.generate_data_key(KeyId=self.key["KeyId"], NumberOfBytes=n)
                self.assertEqual(len(resp["Plaintext"]), n)
                dec = self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])
                self.assertEqual(dec["Plaintext"], resp["Plaintext"])

    def test_generate_data_key_is_random(self):
        a = self.kms.generate_data_key(KeyId=self.key["KeyId"], KeySpec="AES_256")["Plaintext"]
        b = self.kms.generate_data_key(KeyId=self.key["KeyId"], KeySpec="AES_256")["Plaintext"]
        self.assertNotEqual(a, b)

    def test_generate_data_key_with_context(self):
        ctx = {"table": "orders"}
        resp = self.kms.generate_data_key(KeyId=self.key["KeyId"], KeySpec="AES_256",
                                          EncryptionContext=ctx)
        with self.assertAwsError("InvalidCiphertextException"):
            self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])
        self.assertEqual(self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"],
                                          EncryptionContext=ctx)["Plaintext"], resp["Plaintext"])

    def test_generate_data_key_validation(self):
        for op in (self.kms_raw.generate_data_key,
                   self.kms_raw.generate_data_key_without_plaintext):
            name = op.__name__
            with self.subTest(op=name, case="both"):
                with self.assertAwsError("ValidationException", status=400):
                    op(KeyId=self.key["KeyId"], KeySpec="AES_256", NumberOfBytes=32)
            with self.subTest(op=name, case="neither"):
                with self.assertAwsError("ValidationException", status=400):
                    op(KeyId=self.key["KeyId"])
            for n in (0, 1025):
                with self.subTest(op=name, number_of_bytes=n):
                    with self.assertAwsError("ValidationException", status=400):
                        op(KeyId=self.key["KeyId"], NumberOfBytes=n)
            with self.subTest(op=name, case="bad-spec"):
                with self.assertAwsError("ValidationException", status=400):
                    op(KeyId=self.key["KeyId"], KeySpec="AES_512")
            with self.subTest(op=name, case="no-key"):
                with self.assertAwsError("ValidationException", status=400):
                    op(KeySpec="AES_256")
            with self.subTest(op=name, case="unknown-key"):
                with self.assertAwsError("NotFoundException", status=400):
                    op(KeyId=UNKNOWN_KEY, KeySpec="AES_256")

    def test_generate_data_key_without_plaintext(self):
        resp = self.kms.generate_data_key_without_plaintext(KeyId=self.key["KeyId"],
                                                            KeySpec="AES_256")
        self.assertNotIn("Plaintext", resp)
        self.assertEqual(resp["KeyId"], self.key["Arn"])
        dec = self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])
        self.assertEqual(len(dec["Plaintext"]), 32)
        resp = self.kms.generate_data_key_without_plaintext(KeyId=self.key["KeyId"],
                                                            NumberOfBytes=100)
        self.assertEqual(len(self.kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"]),
                         100)

    def test_generate_random(self):
        for n in (1, 32, 1024):
            with self.subTest(n=n):
                self.assertEqual(len(self.kms.generate_random(NumberOfBytes=n)["Plaintext"]), n)
        a = self.kms.generate_random(NumberOfBytes=32)["Plaintext"]
        b = self.kms.generate_random(NumberOfBytes=32)["Plaintext"]
        self.assertNotEqual(a, b)
        for n in (0, 1025):
            with self.subTest(invalid=n):
                with self.assertAwsError("ValidationException", status=400):
                    self.kms_raw.generate_random(NumberOfBytes=n)


if __name__ == "__main__":
    unittest.main()
