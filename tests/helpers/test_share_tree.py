"""Unit tests of share-tree (files/usr/share/@package@/bin/share-tree), run by scripts/test-all
as root (it changes owners; as another user the tests fail, never skip):
python3 -m unittest discover -s tests/helpers

The tree belongs to the unprivileged user "nobody" (the old service user); GROUP is "users".
What must hold: its own entries change, nothing reached through a link does."""

import grp
import os
import pwd
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SHARE_TREE = os.path.join(HERE, "..", "..", "files", "usr", "share", "@package@", "bin", "share-tree")
NOBODY = pwd.getpwnam("nobody").pw_uid
USERS = grp.getgrnam("users").gr_gid


class ShareTree(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        base = self.tmp.name
        self.media = os.path.join(base, "media")
        self.outside = os.path.join(base, "outside")
        os.makedirs(os.path.join(self.media, "scans", "turkey"))
        os.makedirs(self.outside)
        self.victim = os.path.join(self.outside, "root-only")
        with open(self.victim, "w") as f:
            f.write("secret")
        os.chmod(self.victim, 0o600)
        with open(os.path.join(self.media, "scans", "turkey", "upload.txt"), "w") as f:
            f.write("upload")
        with open(os.path.join(self.media, "roots-file"), "w") as f:
            f.write("root's")
        os.symlink(self.victim, os.path.join(self.media, "link-to-file"))
        os.symlink(self.outside, os.path.join(self.media, "link-to-dir"))
        for dirpath, dirnames, filenames in os.walk(self.media):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                if name != "roots-file":
                    os.chown(p, NOBODY, -1, follow_symlinks=False)
        os.chown(self.media, NOBODY, -1)
        os.link(self.victim, os.path.join(self.media, "hard-link"))   # root's file, 2 links

    def tearDown(self):
        self.tmp.cleanup()

    def run_tool(self, *args):
        return subprocess.run([SHARE_TREE, *args], capture_output=True, text=True)

    def test_own_entries_change_and_directories_become_group_writable(self):
        r = self.run_tool("users", "nobody", self.media)
        self.assertEqual(r.returncode, 0, r.stderr)
        for d in (self.media, os.path.join(self.media, "scans"), os.path.join(self.media, "scans", "turkey")):
            st = os.stat(d)
            self.assertEqual(st.st_gid, USERS, d)
            self.assertTrue(st.st_mode & stat.S_IWGRP and st.st_mode & stat.S_ISGID, oct(st.st_mode))
        self.assertEqual(os.stat(os.path.join(self.media, "scans", "turkey", "upload.txt")).st_gid, USERS)
        self.assertIn("entries of", r.stdout)

    def test_nothing_reached_through_a_link_or_owned_by_another_user_changes(self):
        before = os.stat(self.victim)
        outside_before = os.stat(self.outside)
        roots = os.stat(os.path.join(self.media, "roots-file"))
        r = self.run_tool("users", "nobody", self.media)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = os.stat(self.victim)
        self.assertEqual((after.st_uid, after.st_gid, after.st_mode), (before.st_uid, before.st_gid, before.st_mode))
        out = os.stat(self.outside)
        self.assertEqual((out.st_gid, out.st_mode), (outside_before.st_gid, outside_before.st_mode))
        r2 = os.stat(os.path.join(self.media, "roots-file"))
        self.assertEqual((r2.st_gid, r2.st_mode), (roots.st_gid, roots.st_mode))

    def test_a_root_that_is_a_symlink_is_refused(self):
        link = os.path.join(self.tmp.name, "media-link")
        os.symlink(self.outside, link)
        r = self.run_tool("users", "nobody", link)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(os.stat(self.outside).st_gid, 0)

    def test_bad_usage_and_unknown_names(self):
        self.assertEqual(self.run_tool("users").returncode, 2)
        self.assertEqual(self.run_tool("no-such-group-x", "nobody", self.media).returncode, 2)


if __name__ == "__main__":
    unittest.main()
