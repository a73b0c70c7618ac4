#!/usr/bin/env python3
"""Soak: the disclosure load of benches/load.sh at about 60 % of the capacity measured at the start, for a number of
minutes, in one-minute windows (oha, kept-alive connections). During the run a client certificate is revoked and the
covenant is reloaded (SIGHUP). Per window it records throughput, p99, the gateway's resident memory and open file
descriptors; at the end it compares the first and the last windows and runs `audit verify`.

    benches/soak.py [--minutes 30] [--share 0.6]

A master-key rotation during the run is not part of it yet: the gateway reads its master keys at start, so a
rotation needs a restart (see docs/reliability.md).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash  # noqa: E402  (shares the demo preparation)

ROOT = crash.ROOT
BIN = crash.BIN


def oha(demo, url, token, seconds, extra):
    out = subprocess.run(
        ["taskset", "-c", "1", "oha", "--no-tui", "--output-format", "json", "-z", f"{seconds}s",
         "--cacert", os.path.join(demo, "ca", "ca.pem"), "--cert", os.path.join(demo, "orgs", "zvh", "cert.pem"),
         "--key", os.path.join(demo, "orgs", "zvh", "key.pem"), "-H", f"authorization: Bearer {token}", *extra, url],
        check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["summary"]["requestsPerSec"], r["latencyPercentiles"]["p99"] * 1000, r.get("statusCodeDistribution", {})


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--share", type=float, default=0.6)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="doelpoort-soak.")
    demo = os.path.join(work, "demo")
    env = dict(os.environ, DOELPOORT_LOG="warn")
    gw = subprocess.Popen(["taskset", "-c", "0", BIN, "demo", "--dir", demo, "--listen", f"127.0.0.1:{crash.PORT}"],
                          env=env, stdout=subprocess.PIPE, stderr=open(os.path.join(work, "gateway.log"), "w"),
                          text=True)
    for line in gw.stdout:
        if line.startswith("Stop with Ctrl-C"):
            break
    request, token, _ = crash.prepare(demo)
    url = f"https://localhost:{crash.PORT}/v1/requests/{request}"
    capacity, _, _ = oha(demo, url, token, 10, ["-c", "64"])
    rate = max(1, int(capacity * args.share))
    print(f"capacity {capacity:.0f} req/s; soaking at {rate} req/s for {args.minutes} min; work directory {work}",
          flush=True)
    windows = []
    config = os.path.join(demo, "doelpoort.toml")
    for minute in range(args.minutes):
        event = ""
        if minute == args.minutes // 3:
            wijkteam = open(os.path.join(demo, "orgs", "wijkteam", "oin")).read().strip()
            issued = subprocess.run([BIN, "cert", "issue", "--config", config, "--oin", wijkteam, "--out",
                                     os.path.join(work, "extra-cert")], check=True, capture_output=True, text=True,
                                    env=env).stdout
            serial = issued.split("issued serial ")[1].split()[0]
            subprocess.run([BIN, "cert", "revoke", "--config", config, "--serial", serial, "--reason", "soak"],
                           check=True, capture_output=True, env=env)
            event = f"issued and revoked a certificate (serial {serial[:8]}…)"
        if minute == (2 * args.minutes) // 3:
            gw.send_signal(signal.SIGHUP)
            event = "covenant reloaded (SIGHUP)"
        rps, p99, codes = oha(demo, url, token, 60, ["-c", "16", "-q", str(rate)])
        fds = len(os.listdir(f"/proc/{gw.pid}/fd"))
        windows.append((rps, p99, rss_mib(gw.pid), fds, codes))
        print(f"minute {minute + 1}: {rps:.0f} req/s, p99 {p99:.2f} ms, memory {windows[-1][2]:.1f} MiB, "
              f"{fds} open files, status {codes}{'; ' + event if event else ''}", flush=True)
    gw.send_signal(signal.SIGTERM)
    gw.wait(timeout=30)
    verify = subprocess.run([BIN, "audit", "verify", "--config", config], env=env, capture_output=True, text=True)
    k = min(5, max(1, len(windows) // 3))
    first, last = windows[:k], windows[-k:]
    avg = lambda ws, i: sum(w[i] for w in ws) / len(ws)
    print(f"first {k} min: p99 {avg(first, 1):.2f} ms, memory {avg(first, 2):.1f} MiB, {avg(first, 3):.0f} open files")
    print(f"last {k} min:  p99 {avg(last, 1):.2f} ms, memory {avg(last, 2):.1f} MiB, {avg(last, 3):.0f} open files")
    print(f"audit verify: exit {verify.returncode}: {(verify.stdout + verify.stderr).strip()}")
    errors = sum(v for w in windows for c, v in w[4].items() if c != "200")
    ok = verify.returncode == 0 and errors == 0
    print("soak: " + ("PASS" if ok else f"FAIL ({errors} non-200 answers)"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
