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

# On a graceful reload (HUP) gunicorn forks the new workers and at once stops the old ones,
# which stop accepting while the new ones still import the application (about a second here):
# every request of that second waits. on_reload runs just before that, with the new settings
# applied: it forks the new workers itself and waits until each has loaded the application (its
# first heartbeat), then sets "workers" to 0 for the rest of this reload, so that gunicorn forks
# no more and its usual clean-up stops just the old ones (the oldest beyond the configured
# number). The next reload reads the configured number again. If a new worker does not come up
# within _BOOT_WAIT seconds (a broken release), gunicorn goes on as it would have.
_BOOT_WAIT = 60


def on_reload(arbiter):
    import time

    try:
        wanted = arbiter.cfg.workers
        started = []
        for _ in range(wanted):
            pid = arbiter.spawn_worker()
            worker = arbiter.WORKERS[pid]
            started.append((worker, worker.tmp.last_update()))
        deadline = time.monotonic() + _BOOT_WAIT
        while any(w.tmp.last_update() == first for w, first in started):
            if time.monotonic() > deadline:
                arbiter.log.warning("on_reload: the new workers did not all boot in %ss", _BOOT_WAIT)
                return
            time.sleep(0.05)
        arbiter.cfg.set("workers", 0)
        arbiter.log.info("on_reload: %d new workers booted; stopping the old ones", wanted)
    except Exception as exc:  # never let the hook break a reload
        arbiter.log.warning("on_reload: %s; reloading the usual way", exc)
