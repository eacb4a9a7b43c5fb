"""`meridian dr-drill` (issue 8, scenarios S1/S2): region A is killed for real (SIGKILL of its
Meridian region process, immediate stop of its PostgreSQL primary), B's streaming standby is
promoted, and the report says per key strategy what survived.

One drill runs all three strategies (real `meridian up` regions, two PostgreSQL clusters per
strategy); the tests read its JSON report, its PNG timeline, and /proc afterwards.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from meridian_harness import meridian_binary

DRILL_TIMEOUT_S = 150


def processes_mentioning(text):
    """pids of live processes whose command line contains `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != b"Z":
            found.append((int(entry), cmdline))
    return found


class DrDrillTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="meridian-e2e-drill-")
        os.chmod(cls.work, 0o711)  # PostgreSQL runs as the postgres user when the tests run as root
        cls.data_dir = os.path.join(cls.work, "scratch")
        cls.json_path = os.path.join(cls.work, "drill.json")
        cls.png_path = os.path.join(cls.work, "timeline.png")
        started = time.monotonic()
        cls.result = subprocess.run(
            [meridian_binary(), "dr-drill", "--strategies", "1,2,3", "--duration", "2", "--observe", "1",
             "--region-a-down", "2", "--rate", "30", "--data-dir", cls.data_dir,
             "--json", cls.json_path, "--plot", cls.png_path],
            capture_output=True, text=True, timeout=DRILL_TIMEOUT_S)
        cls.elapsed = time.monotonic() - started
        cls.report = None
        if os.path.exists(cls.json_path):
            with open(cls.json_path) as f:
                cls.report = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def output(self):
        return f"exit {self.result.returncode}\nstdout:\n{self.result.stdout}\nstderr:\n{self.result.stderr[-6000:]}"

    def strategy(self, n):
        self.assertIsNotNone(self.report, self.output())
        for s in self.report["strategies"]:
            if s["strategy"] == n:
                self.assertTrue(s["completed"], f"strategy {n}: {s['error']}\n" + self.output())
                return s
        self.fail(f"no strategy {n} in the report\n" + self.output())

    def test_drill_succeeds_and_prints_a_table(self):
        self.assertEqual(self.result.returncode, 0, self.output())
        self.assertIn("RTO ms", self.result.stdout)
        for n in (1, 2, 3):
            self.assertIn(f"{n} ", self.result.stdout)
        self.assertLess(self.elapsed, DRILL_TIMEOUT_S)

    def check_recovers_without_region_a(self, n):
        s = self.strategy(n)
        rpo = s["rpo"]
        self.assertGreater(rpo["acknowledged_in_a"], 10, s)
        # Every record written in A that B has decrypts in B with B's KMS alone, A still dead.
        check = s["decrypt_in_b_while_a_down"]
        self.assertGreater(check["checked"], 0, s)
        self.assertEqual(check["decrypted"], check["checked"], check["first_error"])
        self.assertGreaterEqual(check["checked"], rpo["acknowledged_in_a"] - rpo["lost"])
        self.assertTrue(s["recovered_without_region_a"], s)
        self.assertEqual(s["region_a_restored_at_ms"], -1)
        # RTO includes the promotion and is bounded; RPO is a small, explained loss.
        self.assertGreater(s["promotion_ms"], 0)
        self.assertGreaterEqual(s["rto_ms"], s["promotion_ms"])
        self.assertLess(s["rto_ms"], 20000)
        self.assertLessEqual(rpo["lost"], rpo["acknowledged_in_a"] // 4, rpo)
        self.assertEqual(len(rpo["lost_record_ids"]), min(rpo["lost"], 50))
        if rpo["lost"] == 0:
            self.assertEqual(rpo["window_ms"], 0)

    def test_strategy_1_mrk_decrypts_everything_in_b_after_failover(self):
        self.check_recovers_without_region_a(1)

    def test_strategy_2_multi_keyring_decrypts_everything_in_b_after_failover(self):
        self.check_recovers_without_region_a(2)

    def test_strategy_3_needs_region_a(self):
        s = self.strategy(3)
        # While A is down, nothing written in A decrypts in B ...
        down = s["decrypt_in_b_while_a_down"]
        self.assertGreater(down["checked"], 0, s)
        self.assertEqual(down["decrypted"], 0, s)
        self.assertNotEqual(down["first_error"], "")
        # ... and once A's region process is back, every record is re-encrypted for B and decrypts
        # with B's key alone.
        self.assertGreater(s["region_a_restored_at_ms"], 0)
        back = s["decrypt_in_b_after_a_restored"]
        self.assertEqual(back["checked"], down["checked"])
        self.assertEqual(back["decrypted"], back["checked"], back["first_error"])
        self.assertEqual(s["reencrypt_for_b"]["records"], down["checked"], s["reencrypt_for_b"])
        self.assertFalse(s["recovered_without_region_a"])
        self.assertGreater(s["rto_ms"], s["region_a_restored_at_ms"])
        # The timeline shows it: between the kill and A's return no read succeeded (the first
        # bucket may hold a read that was already through A's KMS when A died).
        restored, width = s["region_a_restored_at_ms"], self.report["bucket_ms"]
        reads_while_down = sum(b["reads_ok"] for b in s["timeline"]
                               if width <= b["t_ms"] and b["t_ms"] + width <= restored)
        self.assertEqual(reads_while_down, 0)

    def test_password_rotation_in_progress_left_the_application_working(self):
        # The database password (Secrets Manager, replicated to B) was mid-rotation (AWSPENDING
        # staged in A) when A died: B still serves the old AWSCURRENT, the application logs in to
        # B's promoted database with it, and the rotation finishes in B.
        for n in (1, 2, 3):
            rotation = self.strategy(n)["secret_rotation"]
            self.assertTrue(rotation["attempted"], rotation)
            self.assertTrue(rotation["current_readable_in_b"], rotation)
            self.assertTrue(rotation["current_unchanged"], rotation)
            self.assertTrue(rotation["rotation_completed_in_b"], rotation)

    def test_timeline_shows_the_outage_window(self):
        for n in (1, 2, 3):
            s = self.strategy(n)
            buckets = s["timeline"]
            self.assertTrue(any(b["t_ms"] < 0 for b in buckets), n)
            self.assertTrue(any(b["t_ms"] > 0 for b in buckets), n)
            ts = [b["t_ms"] for b in buckets]
            self.assertEqual(ts, list(range(ts[0], ts[-1] + 1, self.report["bucket_ms"])))
            before = [b for b in buckets if b["t_ms"] < 0]
            self.assertGreater(sum(b["writes_ok"] for b in before), 0)
            self.assertGreater(sum(b["reads_ok"] for b in before), 0)
            # Writes stop at the kill and come back in B: the outage is visible and bounded by RTO.
            self.assertTrue(any(b["writes_ok"] > 0 for b in buckets if b["t_ms"] > s["rto_ms"] - 100), n)
            width = self.report["bucket_ms"]
            self.assertEqual(sum(b["writes_ok"] for b in buckets if width <= b["t_ms"] < s["promotion_ms"] - width),
                             0, n)
            self.assertEqual(s["requests"], sum(b["writes_ok"] + b["reads_ok"] + b["failed"] for b in buckets))

    def test_plot_is_a_png(self):
        self.assertTrue(os.path.exists(self.png_path), self.output())
        with open(self.png_path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(self.png_path), 2000)

    def test_every_process_it_started_is_gone(self):
        # Region processes, `meridian up` and both PostgreSQL clusters lived under the scratch
        # directory; PostgreSQL's stop may lag the drill's exit by a moment (its watchdog).
        deadline = time.monotonic() + 15
        left = processes_mentioning(self.data_dir)
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = processes_mentioning(self.data_dir)
        self.assertEqual(left, [])
        # Without --keep, each strategy's directory is removed.
        self.assertEqual([d for d in os.listdir(self.data_dir) if d.startswith("strategy-")], [])


if __name__ == "__main__":
    unittest.main()
