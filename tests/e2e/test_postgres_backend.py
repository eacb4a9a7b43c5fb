"""`meridian up --storage postgres`: a region on PostgreSQL, with a cluster `up` runs itself.

Keys, ciphertexts, aliases and secrets written on PostgreSQL survive a clean restart and a
SIGKILL of `up` (after which its watchdog stops its PostgreSQL: no server outlives `up`); the
region keeps nothing in SQLite; the database holds no plaintext; stopping `up` stops its
PostgreSQL. Skipped when the machine has no PostgreSQL server programs.
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from meridian_harness import MeridianProcess, free_port, meridian_binary

REGION_DB = "meridian_us_east_1"


def postgres_programs():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@unittest.skipUnless(postgres_programs(), "no PostgreSQL server programs (/usr/lib/postgresql/*/bin); "
                                          "scripts/install-deps.sh installs them")
class PostgresBackendTest(unittest.TestCase):

    def setUp(self):
        self.server = MeridianProcess(extra_args=("--storage", "postgres"))
        self.addCleanup(self.server.cleanup)
        self.addCleanup(self.stop_leftover_postgres)
        self.server.start()

    def stop_leftover_postgres(self):
        data = os.path.join(self.server.data_dir, "postgres", "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            cmd = [os.path.join(postgres_programs(), "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w"]
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--"] + cmd
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def region_storage(self):
        with open(os.path.join(self.server.data_dir, "us-east-1", "server.json")) as f:
            return json.load(f)["storage"]

    def psql(self, sql):
        conninfo = self.region_storage()
        self.assertTrue(conninfo.startswith("postgres:"), conninfo.split("password=")[0])
        out = subprocess.run([os.path.join(postgres_programs(), "psql"), conninfo[len("postgres:"):],
                              "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def postgres_port(self):
        conninfo = self.region_storage()
        return int(conninfo.split("port=")[1].split()[0])

    def assertPortClosesWithin(self, port, seconds):
        deadline = time.monotonic() + seconds
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return
            if time.monotonic() > deadline:
                self.fail(f"PostgreSQL still listens on {port} {seconds}s after `up` ended")
            time.sleep(0.1)

    def write_everything(self):
        kms = self.server.client()
        sm = self.server.client("secretsmanager")
        key = kms.create_key(Description="on postgres")["KeyMetadata"]
        kms.create_alias(AliasName="alias/pg-e2e", TargetKeyId=key["KeyId"])
        blob = kms.encrypt(KeyId="alias/pg-e2e", Plaintext=b"plaintext-on-postgres",
                           EncryptionContext={"table": "t1"})["CiphertextBlob"]
        sm.create_secret(Name="pg/e2e", SecretString="secret-value-on-postgres-1234")
        return key, blob

    def check_everything(self, key, blob):
        kms = self.server.client()
        sm = self.server.client("secretsmanager")
        self.assertEqual(kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"], "on postgres")
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"table": "t1"})
        self.assertEqual(out["Plaintext"], b"plaintext-on-postgres")
        self.assertEqual(out["KeyId"], key["Arn"])
        aliases = [a["AliasName"] for a in kms.list_aliases(KeyId=key["KeyId"])["Aliases"]]
        self.assertEqual(aliases, ["alias/pg-e2e"])
        self.assertEqual(sm.get_secret_value(SecretId="pg/e2e")["SecretString"], "secret-value-on-postgres-1234")

    def test_data_lives_in_postgres_wrapped(self):
        key, blob = self.write_everything()
        self.check_everything(key, blob)
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "us-east-1", "meridian.db")))
        self.assertEqual(self.psql("SELECT count(*) FROM kms_keys WHERE k = convert_to('%s', 'UTF8')"
                                   % key["KeyId"]), "1")
        self.assertEqual(self.psql("SELECT version FROM schema_version"),
                         self.psql("SELECT max(version) FROM schema_version"))
        # Secret values and key material are stored wrapped: no plaintext in any table.
        dump = self.psql("SELECT string_agg(encode(v, 'escape'), ' ') FROM ("
                         " SELECT v FROM secret_versions UNION ALL SELECT v FROM secrets"
                         " UNION ALL SELECT v FROM kms_key_material) AS all_values")
        self.assertTrue(dump)
        self.assertNotIn("secret-value-on-postgres", dump)
        self.assertEqual(self.server.stop(), 0)

    def test_survives_restart_and_kill(self):
        key, blob = self.write_everything()
        self.server.restart()
        self.check_everything(key, blob)

        # SIGKILL of `up`: its regions die with it, and its watchdog stops its PostgreSQL.
        old_port = self.postgres_port()
        self.server.kill()
        self.assertPortClosesWithin(old_port, 30)
        self.server.start()
        self.check_everything(key, blob)
        kms = self.server.client()
        blob2 = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"after kill")["CiphertextBlob"]
        self.server.restart()
        self.assertEqual(self.server.client().decrypt(CiphertextBlob=blob2)["Plaintext"], b"after kill")

        # A clean stop stops PostgreSQL too.
        port = self.postgres_port()
        self.assertEqual(self.server.stop(), 0)
        self.assertPortClosesWithin(port, 5)


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own (trust auth on 127.0.0.1), as the postgres user
    when the test runs as root."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="meridian-e2e-pg-")
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync", "--locale=C", "-E", "UTF8")
        self.run("pg_ctl", "start", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w",
                 "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''")

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    def conninfo(self):
        return f"postgres:host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def run(self, program, *args):
        cmd = [os.path.join(postgres_programs(), program)] + list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cleanup(self):
        try:
            self.run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(postgres_programs(), "no PostgreSQL server programs (/usr/lib/postgresql/*/bin); "
                                          "scripts/install-deps.sh installs them")
class StorageMigrateTest(unittest.TestCase):
    """`meridian storage migrate`: a SQLite region moves to PostgreSQL and back with nothing
    lost, checked by decrypting every ciphertext kept along the way."""

    def migrate(self, source, dest):
        out = subprocess.run([meridian_binary(), "storage", "migrate", "--from", source, "--to", dest],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("and checked them", out.stdout)
        self.assertNotIn("password", out.stdout + out.stderr)
        return out.stdout

    def test_sqlite_to_postgres_and_back(self):
        pg = ThrowawayPostgres()
        self.addCleanup(pg.cleanup)
        server = MeridianProcess(extra_args=("--storage", "sqlite"))
        self.addCleanup(server.cleanup)
        db = os.path.join(server.data_dir, "us-east-1", "meridian.db")
        kept = []  # (key id, ciphertext, plaintext)

        def write(label):
            kms = server.client()
            key = kms.create_key(Description=label)["KeyMetadata"]["KeyId"]
            for i in range(3):
                plaintext = f"{label}-{i}".encode()
                kept.append((key, kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"], plaintext))
            server.client("secretsmanager").create_secret(Name=f"migrate/{label}", SecretString=f"value-{label}")

        def check_all():
            kms = server.client()
            sm = server.client("secretsmanager")
            for key, blob, plaintext in kept:
                out = kms.decrypt(CiphertextBlob=blob)
                self.assertEqual((out["Plaintext"], out["KeyId"].split("/")[-1]), (plaintext, key))
            for label in {p.decode().rsplit("-", 1)[0] for _, _, p in kept}:
                self.assertEqual(sm.get_secret_value(SecretId=f"migrate/{label}")["SecretString"], f"value-{label}")

        server.start()
        write("on-sqlite")
        self.assertEqual(server.stop(), 0)

        tables = self.migrate("sqlite:" + db, pg.conninfo())
        self.assertRegex(tables, r"(?m)^kms_keys [1-9]")
        os.rename(db, db + ".before-postgres")
        server.extra_args = ["--storage", pg.conninfo()]
        server.start()
        self.assertFalse(os.path.exists(db))
        check_all()
        write("on-postgres")
        self.assertEqual(server.stop(), 0)

        # Into a non-empty store: refused, nothing changed.
        refused = subprocess.run([meridian_binary(), "storage", "migrate", "--from", pg.conninfo(),
                                  "--to", "sqlite:" + db + ".before-postgres"], capture_output=True, text=True)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("already holds rows", refused.stderr)

        self.migrate(pg.conninfo(), "sqlite:" + db)
        server.extra_args = ["--storage", "sqlite"]
        server.start()
        check_all()
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
