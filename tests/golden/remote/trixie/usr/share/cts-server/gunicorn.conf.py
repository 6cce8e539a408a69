# cts-server: gunicorn settings shared by every instance (not a conffile: edit the instance
# files in /etc/cts-server instead). gunicorn reads this file at start and again on every graceful
# reload (SIGHUP, sent by cts-server-setup after an upgrade): it re-reads the instance's
# /etc/cts-server/<instance>.conf and .env so that the new workers see edited settings without
# a restart (the listening socket never closes). A variable deleted from those files keeps the
# value it had when the program started until the next restart.
import os
import subprocess
import sys

_ETC = "/etc/cts-server"
_IGNORED = {"PWD", "OLDPWD", "SHLVL", "_", "PATH"}


def _instance_env(instance):
    if not instance:
        return []
    script = 'set -a; . "$1/$2.conf" && . "$1/$2.env" && exec env -0'
    try:
        out = subprocess.run(
            ["sh", "-c", script, "sh", _ETC, instance],
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"gunicorn.conf.py: cannot read the settings of {instance}: {exc}; keeping the current ones",
              file=sys.stderr)
        return []
    env = []
    for item in out.split(b"\0"):
        key, sep, value = item.decode("utf-8", "surrogateescape").partition("=")
        if sep and key not in _IGNORED:
            env.append(f"{key}={value}")
    return env


raw_env = _instance_env(os.environ.get("CTS_INSTANCE", ""))
