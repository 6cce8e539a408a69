"""Unit tests of migration-targets (files/usr/share/@package@/bin/migration-targets):
python3 -m unittest discover -s tests/helpers"""

import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "files", "usr", "share", "@package@", "bin", "migration-targets")

BEFORE = """\
[X]  contenttypes.0001_initial
[X]  auth.0001_initial
[X]  scans.0001_initial
[ ]  scans.0002_e2e_upgrade
[ ]  scans.0003_fails
[ ]  extra.0001_initial
"""


def run(before, now):
    with tempfile.NamedTemporaryFile("w", suffix=".plan") as f:
        f.write(before)
        f.flush()
        out = subprocess.run([TOOL, f.name], input=now, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


class MigrationTargets(unittest.TestCase):
    def test_nothing_changed_prints_nothing(self):
        self.assertEqual(run(BEFORE, BEFORE), [])

    def test_partly_applied_app_goes_back_to_its_last_migration(self):
        now = BEFORE.replace("[ ]  scans.0002", "[X]  scans.0002")
        self.assertEqual(run(BEFORE, now), ["scans 0001_initial"])

    def test_new_app_goes_to_zero_newest_change_first(self):
        now = BEFORE.replace("[ ]  scans.0002", "[X]  scans.0002").replace("[ ]  extra", "[X]  extra")
        self.assertEqual(run(BEFORE, now), ["extra zero", "scans 0001_initial"])

    def test_verbose_plan_lines_and_noise_are_parsed(self):
        now = ("Operations to perform:\n"
               + BEFORE.replace("[ ]  scans.0002_e2e_upgrade", "[X]  scans.0002_e2e_upgrade ... (scans.0001_initial)"))
        self.assertEqual(run(BEFORE, now), ["scans 0001_initial"])

    def test_a_shell_command_in_the_input_is_only_data(self):
        now = BEFORE + "[X]  scans.0009_$(touch /tmp/x);\n"
        # "0009_" is the name up to the first non-word character: printed, never run
        self.assertEqual(run(BEFORE, now), ["scans 0001_initial"])

    def test_unreadable_before_is_exit_2(self):
        p = subprocess.run([TOOL, "/nonexistent/before"], input="", capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("migration-targets:", p.stderr)


if __name__ == "__main__":
    unittest.main()
