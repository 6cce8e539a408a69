#!/usr/bin/python3
"""Zero-downtime probe for the cts-server e2e test (runs inside the chroot, loopback only).

    load.py --stop FILE [--host cts.example.org] [--max-seconds 600] [--max-requests 50000]
            [--pause 0.02] PATH...

Sends GET PATH (round robin, one new TLS connection per request) to nginx on 127.0.0.1:443 with
the given Host header until FILE exists, the time or the request budget is used up. A request
fails on a connection error, a timeout (10 s) or a status other than 200. Prints one line:
    LOAD requests=N failures=F longest_stall_ms=S max_latency_ms=L seconds=T [first_error=...]
where the stall is the longest time between two successful answers of the same path.
Exit status 0 when no request failed.
"""
import argparse
import http.client
import os
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stop", required=True)
    ap.add_argument("--host", default="cts.example.org")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--max-requests", type=int, default=50000)
    ap.add_argument("--pause", type=float, default=0.02)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t0 = time.monotonic()
    last_ok = {p: t0 for p in a.paths}
    n = failures = 0
    stall = latency = 0.0
    first_error = ""
    while n < a.max_requests and time.monotonic() - t0 < a.max_seconds and not os.path.exists(a.stop):
        path = a.paths[n % len(a.paths)]
        n += 1
        t1 = time.monotonic()
        err = ""
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", 443, context=ctx, timeout=10)
            conn.request("GET", path, headers={"Host": a.host, "Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                err = f"{path}: HTTP {resp.status}"
        except (OSError, http.client.HTTPException) as exc:
            err = f"{path}: {type(exc).__name__}: {exc}"
        t2 = time.monotonic()
        latency = max(latency, t2 - t1)
        if err:
            failures += 1
            first_error = first_error or err
        else:
            stall = max(stall, t2 - last_ok[path])
            last_ok[path] = t2
        time.sleep(a.pause)
    end = time.monotonic()
    for p in a.paths:  # a path that stopped answering counts up to the end
        stall = max(stall, end - last_ok[p])
    line = (f"LOAD requests={n} failures={failures} longest_stall_ms={stall * 1000:.0f} "
            f"max_latency_ms={latency * 1000:.0f} seconds={end - t0:.1f}")
    if first_error:
        line += f" first_error={first_error!r}"
    print(line, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
