"""Rotating a PostgreSQL user's password with the built-in rotator, through boto3's rotate_secret.

The PostgreSQL server is a real one started for the test: the cluster `meridian up --storage
postgres` runs for itself (its superuser creates the application role and database). The secret
holds AWS's RDS JSON; RotationLambdaARN names the built-in function
`meridian-postgres-single-user`. Checked: the password changes on the server (the old one no
longer logs in, GetSecretValue's does), the version stages move as AWS documents, a rotation that
cannot log in fails with AWSCURRENT unchanged and AWSPENDING left, and no password reaches the
error message or the server's logs; a client loop reconnecting with whatever GetSecretValue
returns sees at most one failed connection per rotation, and its retry succeeds. Skipped when the machine has no PostgreSQL server programs.
"""

import glob
import json
import os
import subprocess
import threading
import time
import unittest

from botocore.exceptions import ClientError

from meridian_harness import MeridianProcess

FUNCTION = "meridian-postgres-single-user"


def postgres_programs():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@unittest.skipUnless(postgres_programs(), "no PostgreSQL server programs (/usr/lib/postgresql/*/bin); "
                                          "scripts/install-deps.sh installs them")
class PostgresRotationTest(unittest.TestCase):

    def setUp(self):
        self.server = MeridianProcess(extra_args=("--storage", "postgres"))
        self.addCleanup(self.server.cleanup)
        self.addCleanup(self.stop_leftover_postgres)
        self.server.start()
        self.sm = self.server.client("secretsmanager")
        self.function_arn = f"arn:aws:lambda:{self.server.region}:{self.server.account_id()}:function:{FUNCTION}"

    def stop_leftover_postgres(self):
        data = os.path.join(self.server.data_dir, "postgres", "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            cmd = [os.path.join(postgres_programs(), "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w"]
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--"] + cmd
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def superuser_conninfo(self):
        with open(os.path.join(self.server.data_dir, self.server.region, "server.json")) as f:
            storage = json.load(f)["storage"]
        self.assertTrue(storage.startswith("postgres:"), storage.split("password=")[0])
        return storage[len("postgres:"):]

    def postgres_port(self):
        return int(self.superuser_conninfo().split("port=")[1].split()[0])

    def superuser(self, sql):
        subprocess.run([os.path.join(postgres_programs(), "psql"), self.superuser_conninfo(), "-At",
                        "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True)

    def can_login(self, user, password):
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
        conninfo = f"host=127.0.0.1 port={self.postgres_port()} user={user} dbname=appdb"
        done = subprocess.run([os.path.join(postgres_programs(), "psql"), conninfo, "-At", "-c", "SELECT 1"],
                              env=env, capture_output=True, text=True)
        return done.returncode == 0 and done.stdout.strip() == "1"

    def value(self, stage="AWSCURRENT"):
        return json.loads(self.sm.get_secret_value(SecretId="db/app", VersionStage=stage)["SecretString"])

    def stages(self):
        return self.sm.describe_secret(SecretId="db/app")["VersionIdsToStages"]

    def test_rotation_changes_the_password_on_the_server(self):
        first = "Start-passw0rd-with-'quote'"
        self.superuser("CREATE ROLE app_user LOGIN PASSWORD 'Start-passw0rd-with-''quote'''")
        self.superuser("CREATE DATABASE appdb OWNER app_user")
        self.assertTrue(self.can_login("app_user", first))
        secret = {"engine": "postgres", "host": "127.0.0.1", "port": self.postgres_port(),
                  "username": "app_user", "password": first, "dbname": "appdb"}
        created = self.sm.create_secret(Name="db/app", SecretString=json.dumps(secret))

        rotated = self.sm.rotate_secret(SecretId="db/app", RotationLambdaARN=self.function_arn,
                                        RotationRules={"AutomaticallyAfterDays": 30})
        second = self.value()["password"]
        self.assertNotEqual(second, first)
        self.assertEqual(len(second), 32)
        self.assertTrue(self.can_login("app_user", second))
        self.assertFalse(self.can_login("app_user", first))
        self.assertEqual({k: v for k, v in self.value().items() if k != "password"},
                         {k: v for k, v in secret.items() if k != "password"})
        stages = self.stages()
        self.assertEqual(stages[rotated["VersionId"]], ["AWSCURRENT"])
        self.assertEqual(stages[created["VersionId"]], ["AWSPREVIOUS"])
        described = self.sm.describe_secret(SecretId="db/app")
        self.assertTrue(described["RotationEnabled"])
        self.assertEqual(described["RotationLambdaARN"], self.function_arn)

        # Someone changes the password behind Secrets Manager's back: the next rotation cannot
        # log in, fails, and leaves AWSCURRENT as it was and AWSPENDING for the reattempt.
        self.superuser("ALTER ROLE app_user PASSWORD 'changed-Behind-our-back'")
        with self.assertRaises(ClientError) as failed:
            self.sm.rotate_secret(SecretId="db/app")
        error = failed.exception.response["Error"]
        self.assertEqual(error["Code"], "InvalidRequestException")
        self.assertIn("setSecret", error["Message"])
        self.assertEqual(self.value()["password"], second)
        pending = self.value("AWSPENDING")["password"]
        for password in (first, second, pending, "changed-Behind-our-back"):
            self.assertNotIn(password, error["Message"])
        self.assertEqual(sorted(sum(self.stages().values(), [])), ["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"])

        # No password in the server's output.
        for path in self.server.log_files():
            with open(path, "rb") as f:
                logs = f.read()
            for password in (first, second, pending):
                self.assertNotIn(password.encode(), logs, path)

    def test_clients_keep_connecting_during_rotations(self):
        """A client loop connects with whatever GetSecretValue returns while the secret is rotated
        three times: a connection may fail only in the moment between setSecret and finishSecret,
        at most once per rotation, and retrying with a fresh GetSecretValue succeeds once the rotation
        has finished."""
        self.superuser("CREATE ROLE loop_user LOGIN PASSWORD 'Loop-start-passw0rd'")
        self.superuser("CREATE DATABASE appdb OWNER loop_user")
        secret = {"engine": "postgres", "host": "127.0.0.1", "port": self.postgres_port(),
                  "username": "loop_user", "password": "Loop-start-passw0rd", "dbname": "appdb"}
        self.sm.create_secret(Name="db/app", SecretString=json.dumps(secret))
        client = self.server.client("secretsmanager")
        stop = threading.Event()
        counts = {"connections": 0, "failed": 0, "failed_after_retry": 0}

        def login_with_current():
            value = json.loads(client.get_secret_value(SecretId="db/app")["SecretString"])
            return self.can_login(value["username"], value["password"])

        def loop():
            while not stop.is_set():
                counts["connections"] += 1
                if login_with_current():
                    continue
                counts["failed"] += 1
                # The window lasts until finishSecret moves AWSCURRENT: retry with a fresh
                # GetSecretValue (as AWS's guidance for single-user rotation says) until it ends.
                deadline = time.monotonic() + 10
                while not login_with_current():
                    if time.monotonic() > deadline:
                        counts["failed_after_retry"] += 1
                        break
                    time.sleep(0.2)

        worker = threading.Thread(target=loop)
        worker.start()
        try:
            rotations = 3
            for _ in range(rotations):
                time.sleep(0.5)
                self.sm.rotate_secret(SecretId="db/app", RotationLambdaARN=self.function_arn)
            time.sleep(0.5)
        finally:
            stop.set()
            worker.join()
        self.assertGreater(counts["connections"], 5, counts)
        self.assertLessEqual(counts["failed"], rotations, counts)
        self.assertEqual(counts["failed_after_retry"], 0, counts)
        self.assertTrue(self.can_login("loop_user", self.value()["password"]))
        self.assertFalse(self.can_login("loop_user", "Loop-start-passw0rd"))


if __name__ == "__main__":
    unittest.main()
