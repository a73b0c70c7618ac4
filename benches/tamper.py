#!/usr/bin/env python3
"""Every tampering of the attack round, each on a copy of a seeded demo log (SQLite), checked against
`doelpoort audit verify --anchor` (a checkpoint a partner kept) and against the gateway's start-up check.

    python3 benches/tamper.py [--bin target/debug/doelpoort] [--seed 10]

Attacks: a field changed; a row deleted; two rows swapped; a row inserted behind the head; the tail cut off with the
head, the tree and the later checkpoints rewritten to match; the head rewritten; the checkpoint rows deleted; a record
altered and the whole chain after it recomputed (hashes, head, tree), the checkpoint records kept; the same with
the checkpoint records removed as well. Each must make `audit verify` exit 1 naming the problem. The start-up check
is cheap (the head, the newest records and the newest checkpoint, no scan): it must refuse an inserted row, a
rewritten head and a recomputation under a kept checkpoint, and is not expected to see a change deep inside the log
(which `audit verify` finds) nor a log cut short consistently (which only what a partner kept shows). Exit 0 when every
expectation holds; one line per attack either way.
"""
import argparse
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import http.client
import json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_log import FIELDS, encode, sha256  # noqa: E402  (the documented encoding, not the gateway's code)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["seq"] + [name for name, _ in FIELDS]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rows(db, start=1):
    db.row_factory = sqlite3.Row
    out = []
    for r in db.execute("SELECT * FROM log_records WHERE seq >= ? ORDER BY seq", (start,)):
        d = dict(r)
        d["categories"] = json.loads(d["categories"])
        out.append(d)
    return out


def rechain(db, start, records):
    """Writes `records` from seq `start` on with every hash recomputed, the head at the last, the tree dropped
    (the gateway rebuilds its tiles at start): what an attacker with the database and the documentation can do."""
    prev_row = db.execute("SELECT hash FROM log_records WHERE seq = ?", (start - 1,)).fetchone()
    prev = bytes.fromhex(prev_row[0]) if prev_row else b"\x00" * 32
    db.execute("DELETE FROM log_records WHERE seq >= ?", (start,))
    for i, r in enumerate(records):
        r = dict(r, seq=start + i)
        h = sha256(b"doelpoort-log-record-v1", prev, encode(r))
        values = [r[c] if c != "categories" else json.dumps(r[c], separators=(",", ":")) for c in COLUMNS]
        db.execute(
            f"INSERT INTO log_records ({', '.join(COLUMNS)}, prev_hash, hash) VALUES ({', '.join('?' * (len(COLUMNS) + 2))})",
            values + [prev.hex(), h.hex()],
        )
        prev = h
    last = start + len(records) - 1
    db.execute("UPDATE log_head SET seq = ?, hash = ?, tree_size = 0", (last, prev.hex()))
    db.execute("DELETE FROM log_tiles")


def attack_field(db, n):
    db.execute("UPDATE log_records SET purpose = 'weggepoetst' WHERE seq = ?", (n // 2,))


def attack_delete(db, n):
    db.execute("DELETE FROM log_records WHERE seq = ?", (n // 2,))


def attack_swap(db, n):
    a, b = n // 3, n // 3 + 1
    db.execute("UPDATE log_records SET seq = -1 WHERE seq = ?", (a,))
    db.execute("UPDATE log_records SET seq = ? WHERE seq = ?", (a, b))
    db.execute("UPDATE log_records SET seq = ? WHERE seq = -1", (b,))


def attack_insert(db, n):
    db.execute(f"INSERT INTO log_records SELECT {n + 1}, at, kind, source_oin, recipient_oin, actor_oin, actor_sub, "
               "case_id, subject, meeting_id, meeting_type, purpose, categories, covenant_version, article, request_id, "
               f"content_digest, decision, reason, action, target, detail, trace_id, span_id, hash, hash "
               f"FROM log_records WHERE seq = {n}")


def attack_truncate(db, n):
    keep = n - 12
    row = db.execute("SELECT hash FROM log_records WHERE seq = ?", (keep,)).fetchone()
    db.execute("DELETE FROM log_records WHERE seq > ?", (keep,))
    db.execute("DELETE FROM log_notes WHERE seq > ?", (keep,))
    db.execute("UPDATE log_head SET seq = ?, hash = ?, tree_size = 0", (keep, row[0]))
    db.execute("DELETE FROM log_tiles")


def attack_head(db, n):
    row = db.execute("SELECT hash FROM log_records WHERE seq = ?", (n - 1,)).fetchone()
    db.execute("UPDATE log_head SET seq = ?, hash = ?", (n - 1, row[0]))


def attack_notes(db, n):
    db.execute("DELETE FROM log_notes")


def attack_recompute_keep(db, n):
    start = n // 2
    tail = rows(db, start)
    tail[0]["purpose"] = "weggepoetst"
    rechain(db, start, tail)


def attack_recompute_drop(db, n):
    start = n // 2
    tail = [r for r in rows(db, start) if r["action"] != "log.checkpoint"]
    tail[0]["purpose"] = "weggepoetst"
    rechain(db, start, tail)
    db.execute("DELETE FROM log_notes WHERE seq >= ?", (start,))


# name, attack, what `audit verify` must name (one of), whether the start-up check must refuse. A truncation with
# the head, the tree and the later checkpoints rewritten, and a recomputation that also removes the checkpoints,
# agree with themselves: only what a partner kept (the anchor, a witness's state) or the checkpoint interval shows them.
ATTACKS = [
    ("field changed", attack_field, ["altered"], False),
    ("row deleted", attack_delete, ["missing"], False),
    ("rows reordered", attack_swap, ["does not follow"], False),
    ("row inserted", attack_insert, ["altered", "beyond the head"], True),
    ("tail truncated", attack_truncate, ["partner held"], False),
    ("head rewritten", attack_head, ["beyond the head"], True),
    ("checkpoint rows deleted", attack_notes, ["deleted"], False),
    ("recomputed, checkpoint records kept", attack_recompute_keep, ["signs a root the records do not have"], True),
    ("recomputed, checkpoints removed", attack_recompute_drop, ["partner held", "a checkpoint is missing"], False),
]


def make_demo(bin_path, seed, work):
    demo = os.path.join(work, "demo")
    out = open(os.path.join(work, "demo.out"), "w+")
    proc = subprocess.Popen([bin_path, "demo", "--dir", demo, "--listen", f"127.0.0.1:{free_port()}", "--seed", str(seed)],
                            stdout=out, stderr=open(os.path.join(work, "demo.log"), "w"),
                            env={**os.environ, "DOELPOORT_LOG": "warn"})
    for _ in range(1200):
        out.seek(0)
        if "Paste these lines" in out.read():
            break
        if proc.poll() is not None:
            sys.exit(f"the demo stopped; see {work}/demo.log")
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    return demo


def health(copy, bin_path):
    """Starts `serve` on the copy and returns /healthz's status and JSON."""
    port = free_port()
    config = os.path.join(copy, "doelpoort.toml")
    text = open(config).read().splitlines()
    text = [f'listen = "127.0.0.1:{port}"' if l.startswith("listen =") else
            f'metrics_listen = "127.0.0.1:{free_port()}"' if l.startswith("metrics_listen =") else l for l in text]
    open(config, "w").write("\n".join(text) + "\n")
    proc = subprocess.Popen([bin_path, "serve", "--config", config], cwd=copy, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(copy, "serve.log"), "w"), env={**os.environ, "DOELPOORT_LOG": "warn"})
    context = ssl.create_default_context(cafile=os.path.join(copy, "ca", "ca.pem"))
    org = os.path.join(copy, "orgs", "zvh")
    context.load_cert_chain(os.path.join(org, "cert.pem"), os.path.join(org, "key.pem"))
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPSConnection("localhost", port, context=context, timeout=5)
                c.request("GET", "/healthz")
                r = c.getresponse()
                return r.status, json.loads(r.read() or b"{}")
            except (ConnectionRefusedError, ssl.SSLError, OSError):
                time.sleep(0.1)
        return None, {}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "doelpoort"))
    a.add_argument("--seed", type=int, default=10)
    args = a.parse_args()
    work = tempfile.mkdtemp(prefix="doelpoort-tamper-")
    demo = make_demo(args.bin, args.seed, work)
    db = sqlite3.connect(os.path.join(demo, "doelpoort.db"))
    n = db.execute("SELECT seq FROM log_head").fetchone()[0]
    anchor = db.execute("SELECT note FROM log_notes ORDER BY size DESC LIMIT 1").fetchone()[0]
    db.close()
    anchor_file = os.path.join(work, "anchor.txt")
    open(anchor_file, "w").write(anchor)
    print(f"demo log: {n} records; anchor: the newest checkpoint, as a partner's witness holds it")
    failures = 0
    for name, attack, named, start_refuses in [("untouched", None, [], False)] + ATTACKS:
        copy = os.path.join(work, name.replace(" ", "-").replace(",", ""))
        shutil.copytree(demo, copy)
        db = sqlite3.connect(os.path.join(copy, "doelpoort.db"))
        if attack:
            attack(db, n)
        db.commit()
        db.close()
        # The gateway first (it rebuilds the tree an attacker dropped), then the verification.
        status, body = health(copy, args.bin)
        v = subprocess.run([args.bin, "audit", "verify", "--config", os.path.join(copy, "doelpoort.toml"),
                            "--anchor", anchor_file], cwd=copy, capture_output=True, text=True)
        said = (v.stdout + v.stderr).strip().splitlines()[-1] if (v.stdout + v.stderr).strip() else ""
        if attack is None:
            ok = v.returncode == 0 and status == 200
        else:
            ok = (v.returncode == 1 and any(x in said for x in named)
                  and (status == 503 if start_refuses else status in (200, 503)))
        failures += not ok
        start = f"start: {status} {body.get('status', '')}" + (f" ({body['reason']})" if body.get("reason") else "")
        print(f"{'ok  ' if ok else 'FAIL'} {name:38} verify: {said}\n     {'':38} {start}")
    print(f"{len(ATTACKS)} attacks, {failures} expectation(s) missed; copies in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
