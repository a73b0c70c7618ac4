#!/usr/bin/env python3
"""Soak: the disclosure load of benches/load.sh at about 60 % of the capacity measured at the start, for a number of
minutes, in one-minute windows (oha, kept-alive connections). During the run a client certificate is revoked (at a
third), the content master key is rotated (at half: new key named, old one retired, SIGHUP, `content rewrap`, old
one dropped, SIGHUP) and the covenant is reloaded (SIGHUP, at two thirds). Per window it records throughput, p99, the
gateway's resident memory and open file descriptors; at the end it compares the first and the last windows, checks
that every data key is under the new master key and that no reload was refused, and runs `audit verify`.

    benches/soak.py [--minutes 30] [--share 0.6]
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
# The soak's windows keep as many connections open as the capacity run: the log commits in groups, so fewer
# connections make smaller groups, and 60 % of a 64-connection capacity can be out of reach of 16 (then every
# window runs saturated and its p99 measures the queue, not the gateway's drift).
CONNECTIONS = "64"


def oha(demo, url, token, seconds, extra):
    out = subprocess.run(
        ["taskset", "-c", "1", "oha", "--no-tui", "--output-format", "json", "-z", f"{seconds}s",
         "--cacert", os.path.join(demo, "ca", "ca.pem"), "--cert", os.path.join(demo, "orgs", "zvh", "cert.pem"),
         "--key", os.path.join(demo, "orgs", "zvh", "key.pem"), "-H", f"authorization: Bearer {token}", *extra, url],
        check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["summary"]["requestsPerSec"], r["latencyPercentiles"]["p99"] * 1000, r.get("statusCodeDistribution", {})


def name_master_keys(config, current, retired):
    """Sets the configuration file's master key and retired keys (paths relative to the demo directory)."""
    lines = [l for l in open(config).read().splitlines() if not l.startswith("retired_master_key_files")]
    listed = ", ".join(json.dumps(r) for r in retired)
    keys = f'master_key_file = "{current}"\nretired_master_key_files = [{listed}]'
    open(config, "w").write("\n".join(keys if l.startswith("master_key_file") else l for l in lines) + "\n")


def rotate_master_key(gw, demo, config, env):
    """The rotation procedure of the README, against the serving gateway; returns the rewrap command's answer."""
    with open(os.path.join(demo, "keys", "master-2.key"), "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    name_master_keys(config, "keys/master-2.key", ["keys/master.key"])
    gw.send_signal(signal.SIGHUP)
    time.sleep(2)
    rewrap = subprocess.run([BIN, "content", "rewrap", "--config", config], check=True, capture_output=True,
                            text=True, env=env).stdout.strip()
    name_master_keys(config, "keys/master-2.key", [])
    gw.send_signal(signal.SIGHUP)
    return rewrap


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--share", type=float, default=0.6)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="doelpoort-soak.")
    demo = os.path.join(work, "demo")
    env = dict(os.environ, DOELPOORT_LOG="warn")
    gw = crash.start_demo(demo, crash.PORT, env, open(os.path.join(work, "gateway.log"), "w"), cpu=0)
    request, token, _ = crash.prepare(demo)
    url = f"https://localhost:{crash.PORT}/v1/requests/{request}"
    capacity, _, _ = oha(demo, url, token, 10, ["-c", CONNECTIONS])
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
        if minute == args.minutes // 2:
            event = "master key rotated: " + rotate_master_key(gw, demo, config, env)
        if minute == (2 * args.minutes) // 3:
            gw.send_signal(signal.SIGHUP)
            event = "covenant reloaded (SIGHUP)"
        rps, p99, codes = oha(demo, url, token, 60, ["-c", CONNECTIONS, "-q", str(rate)])
        fds = len(os.listdir(f"/proc/{gw.pid}/fd"))
        windows.append((rps, p99, crash.rss_kib(gw.pid) / 1024, fds, codes))
        print(f"minute {minute + 1}: {rps:.0f} req/s, p99 {p99:.2f} ms, memory {windows[-1][2]:.1f} MiB, "
              f"{fds} open files, status {codes}{'; ' + event if event else ''}", flush=True)
    gw.send_signal(signal.SIGTERM)
    gw.wait(timeout=30)
    verify = subprocess.run([BIN, "audit", "verify", "--config", config], env=env, capture_output=True, text=True)
    rewrap = subprocess.run([BIN, "content", "rewrap", "--config", config], env=env, capture_output=True, text=True)
    refused = [l for l in open(os.path.join(work, "gateway.log")) if "refused" in l]
    k = min(5, max(1, len(windows) // 3))
    first, last = windows[:k], windows[-k:]
    avg = lambda ws, i: sum(w[i] for w in ws) / len(ws)
    print(f"first {k} min: p99 {avg(first, 1):.2f} ms, memory {avg(first, 2):.1f} MiB, {avg(first, 3):.0f} open files")
    print(f"last {k} min:  p99 {avg(last, 1):.2f} ms, memory {avg(last, 2):.1f} MiB, {avg(last, 3):.0f} open files")
    print(f"audit verify: exit {verify.returncode}: {(verify.stdout + verify.stderr).strip()}")
    print(f"after the rotation: {(rewrap.stdout + rewrap.stderr).strip()}; refused reloads: {len(refused)}")
    errors = sum(v for w in windows for c, v in w[4].items() if c != "200")
    rotated = rewrap.returncode == 0 and "re-wrapped 0 data key(s)" in rewrap.stdout
    ok = verify.returncode == 0 and errors == 0 and rotated and not refused
    print("soak: " + ("PASS" if ok else f"FAIL ({errors} non-200 answers)"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
