"""The global-database example (examples/global-db/run.sh) end to end.

One run, shared by the tests: `meridian up` with us-east-1 and eu-west-1, a PostgreSQL primary
(us-east-1) and its streaming standby (eu-west-1), the database password in Secrets Manager
replicated to eu-west-1, customer records written in us-east-1 under the three key strategies,
read back from the standby in eu-west-1 (by global-db-app and by the JavaScript reader), then
us-east-1 killed for real (--fail-region-a), eu-west-1 promoted, and us-east-1's Meridian brought
back alone for strategy 3's recovery. The tests read the app's JSON
report and search both PostgreSQL data directories, WAL included, for the plaintext values.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from meridian_harness import REPO_ROOT, meridian_binary

RECORDS = 12
STRATEGIES_READ_LOCALLY = ("mrk", "multi-keyring")
STRATEGY_THROUGH_A = "reencrypt"


def app_binary():
    explicit = os.environ.get("GLOBAL_DB_APP")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(meridian_binary()), "examples", "global-db", "global-db-app")


def postgres_available():
    if os.environ.get("MERIDIAN_PG_BIN"):
        return True
    root = "/usr/lib/postgresql"
    return os.path.isdir(root) and any(
        os.access(os.path.join(root, v, "bin", "initdb"), os.X_OK) for v in os.listdir(root))


def js_available():
    return shutil.which("node") is not None and all(
        os.path.isdir(os.path.join(REPO_ROOT, "node_modules", *p.split("/")))
        for p in ("pg", "@aws-crypto/client-node", "@aws-sdk/client-secrets-manager"))


class GlobalDbExampleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not postgres_available():
            raise unittest.SkipTest("no PostgreSQL server programs on this machine")
        cls.js = js_available()
        # PostgreSQL runs as the postgres user (we are root in CI): it must traverse this directory.
        cls.tmp = tempfile.mkdtemp(prefix="meridian-e2e-globaldb-")
        os.chmod(cls.tmp, 0o711)
        cls.report_path = os.path.join(cls.tmp, "report.json")
        env = dict(os.environ, TMPDIR=cls.tmp, MERIDIAN_BIN=meridian_binary(), GLOBAL_DB_APP=app_binary())
        args = [os.path.join(REPO_ROOT, "examples", "global-db", "run.sh"), "--records", str(RECORDS),
                "--report", cls.report_path, "--keep", "--fail-region-a", "--no-fsync"]
        if not cls.js:
            args.append("--no-js")
        cls.proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240)
        cls.output = cls.proc.stdout.decode("utf-8", "replace")
        print(cls.output)
        cls.report = None
        if os.path.exists(cls.report_path):
            with open(cls.report_path) as f:
                cls.report = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def strategy(self, name):
        self.assertIsNotNone(self.report, "no report:\n" + self.output)
        for s in self.report["strategies"]:
            if s["strategy"] == name:
                return s
        self.fail(f"strategy {name} missing from the report")

    def test_example_exits_zero_with_every_strategy_as_designed(self):
        self.assertEqual(self.proc.returncode, 0, self.output)
        self.assertEqual([s["strategy"] for s in self.report["strategies"]], ["mrk", "multi-keyring", "reencrypt"])
        for s in self.report["strategies"]:
            self.assertTrue(s["as_designed"], s)
            self.assertEqual(s["written"], RECORDS, s)
            self.assertEqual(s["replicated"], RECORDS, s)
            self.assertTrue(s["failed_over"], s)

    def test_mrk_and_multi_keyring_records_decrypt_in_b_before_and_after_failover(self):
        for name in STRATEGIES_READ_LOCALLY:
            s = self.strategy(name)
            self.assertEqual(s["decrypted_in_b"], RECORDS, s)
            self.assertEqual(s["decrypt_in_b_error"], "", s)
            # Region A dead (Meridian SIGKILLed, PostgreSQL crash-stopped), standby promoted.
            self.assertEqual(s["after_failover_decrypted_in_b"], RECORDS, s)
            self.assertEqual(s["after_failover_decrypted_through_a"], 0, s)
            self.assertTrue(s["after_failover_write_in_b"], s)
        # The MRK replica has the primary's key id in region B; the per-region keys differ.
        mrk = self.strategy("mrk")
        self.assertEqual(mrk["key_a"].split(":key/")[1], mrk["key_b"].split(":key/")[1])
        self.assertIn(":eu-west-1:", mrk["key_b"])
        multi = self.strategy("multi-keyring")
        self.assertNotEqual(multi["key_a"].split(":key/")[1], multi["key_b"].split(":key/")[1])

    def test_region_a_only_strategy_decrypts_in_b_only_through_region_a(self):
        s = self.strategy(STRATEGY_THROUGH_A)
        # B's own KMS cannot open A's messages ...
        self.assertEqual(s["decrypted_in_b"], 0, s)
        self.assertNotEqual(s["decrypt_in_b_error"], "", s)
        # ... A's KMS can, while A is up, and re-encryption for B works then ...
        self.assertEqual(s["decrypted_through_a"], RECORDS, s)
        self.assertEqual(s["reencrypted_for_b"], RECORDS, s)
        # ... and nothing opens A's messages once A is dead; B still takes new writes.
        self.assertEqual(s["after_failover_decrypted_in_b"], 0, s)
        self.assertEqual(s["after_failover_decrypted_through_a"], 0, s)
        self.assertNotEqual(s["after_failover_through_a_error"], "", s)
        self.assertTrue(s["after_failover_write_in_b"], s)
        # Region A's Meridian back (its database still dead): A's records are re-encrypted
        # through A for B's key, rewritten on B's promoted database, and all of them then
        # decrypt in B alone (plus the one written in B during the outage).
        self.assertTrue(s["recovered"], s)
        self.assertEqual(s["after_recovery_reencrypted"], RECORDS, s)
        self.assertEqual(s["after_recovery_decrypted_in_b"], RECORDS + 1, s)

    def test_no_plaintext_field_value_in_either_postgres_data_directory(self):
        self.assertIsNotNone(self.report, self.output)
        needles = set()
        for r in self.report["records"]:
            needles.add(r["ssn"].encode())
            needles.add(r["card_number"].encode())
        self.assertGreaterEqual(len(needles), 2 * RECORDS)
        for key in ("postgres_primary_dir", "postgres_standby_dir"):
            directory = self.report[key]
            wal_files = 0
            names_found = False
            for root, _, files in os.walk(directory):
                for name in files:
                    path = os.path.join(root, name)
                    if os.path.islink(path) or not os.path.isfile(path):
                        continue
                    with open(path, "rb") as f:
                        data = f.read()
                    if os.sep + "pg_wal" + os.sep in path + os.sep and len(name) == 24:
                        wal_files += 1
                    names_found = names_found or b"Customer 1" in data
                    for needle in needles:
                        self.assertNotIn(needle, data, f"plaintext {needle!r} found in {path}")
            self.assertGreater(wal_files, 0, f"no WAL segment under {directory}")
            # The customer names are stored in clear on purpose: finding them proves the search
            # reads the same files (tables and WAL) the ciphertext lives in.
            self.assertTrue(names_found, f"no clear-text name found under {directory}: the search saw nothing")

    def test_js_reader_decrypts_every_row(self):
        if not self.js:
            self.skipTest("node or node_modules (pg, @aws-crypto/client-node) missing: run `npm ci`")
        for name in STRATEGIES_READ_LOCALLY:
            s = self.strategy(name)
            self.assertEqual(s["js_rows"], RECORDS, s)
            self.assertEqual(s["js_matched"], RECORDS, s)
        # The JS MRK-aware discovery keyring in B, like ours, cannot open region A's own key.
        s = self.strategy(STRATEGY_THROUGH_A)
        self.assertEqual(s["js_rows"], RECORDS, s)
        self.assertEqual(s["js_matched"], 0, s)


if __name__ == "__main__":
    unittest.main()
