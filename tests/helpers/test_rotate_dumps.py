"""Unit tests of rotate-dumps (files/usr/share/@package@/bin/rotate-dumps):
python3 -m unittest discover -s tests/helpers"""

import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "files", "usr", "share", "@package@", "bin", "rotate-dumps")


class RotateDumps(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def touch(self, *names):
        for name in names:
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("dump")

    def rotate(self, db="cts_turkey", keep=5):
        p = subprocess.run([TOOL, self.dir, db, str(keep)], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(os.listdir(self.dir))

    def test_retries_keep_the_dump_before_the_first_attempt(self):
        # one upgrade from 1.0-1 tried eight times (failed migration, retries, a fixed version)
        names = ["cts_turkey-20261201-10000%d-from-1.0-1.dump" % i for i in range(8)]
        self.touch(*names)
        self.assertEqual(self.rotate(), [names[0], names[-1]])

    def test_the_newest_keep_upgrades_stay(self):
        names = ["cts_turkey-2026120%d-100000-from-1.%d.dump" % (i, i) for i in range(1, 8)]
        self.touch(*names)
        self.assertEqual(self.rotate(keep=5), names[2:])

    def test_old_style_names_count_one_upgrade_each(self):
        old = ["cts_turkey-2026110%d-100000.dump" % i for i in range(1, 4)]
        new = ["cts_turkey-20261201-10000%d-from-1.0.dump" % i for i in range(3)]
        self.touch(*old, *new)
        self.assertEqual(self.rotate(keep=2), [old[-1], new[0], new[-1]])

    def test_other_databases_links_and_files_untouched(self):
        mine = ["cts_turkey-2026120%d-100000-from-1.%d.dump" % (i, i) for i in range(1, 4)]
        other = ["cts_turkey_x-20261201-100000-from-1.1.dump", "cts-20261201-100000.dump", "notes.txt"]
        self.touch(*mine, *other)
        os.symlink("/etc/passwd", os.path.join(self.dir, "cts_turkey-20261101-100000.dump"))
        kept = self.rotate(keep=1)
        self.assertEqual(kept, sorted(["cts_turkey-20261101-100000.dump", mine[-1], *other]))
        self.assertTrue(os.path.exists("/etc/passwd"))

    def test_bad_usage_is_exit_2(self):
        p = subprocess.run([TOOL, self.dir, "cts_turkey", "0"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
