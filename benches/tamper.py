#!/usr/bin/env python3
"""Every tampering of the attack round, each on a copy of a seeded demo log (SQLite), checked against
`doelpoort audit verify --anchor` (a checkpoint a partner kept) and against the gateway's start-up check.

    python3 benches/tamper.py [--bin target/debug/doelpoort] [--seed 10]

The records are stored as entry bundles (docs/log-encoding.md); the attacks rewrite them from the documentation,
reading compressed bundles with Python's zstandard (pip install zstandard) and writing them back uncompressed.
Attacks: a field changed; a record deleted; two records swapped; a record inserted behind the head; the tail cut off with the
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def decode(e):
    """The inverse of E(r), from docs/log-encoding.md."""
    pos = 9
    record = {"seq": int.from_bytes(e[1:9], "big", signed=True)}

    def text():
        nonlocal pos
        n = int.from_bytes(e[pos:pos + 4], "big")
        pos += 4
        if n == 0xFFFFFFFF:
            return None
        pos += n
        return e[pos - n:pos].decode("utf-8")

    for name, kind in FIELDS:
        if kind == "list":
            count = int.from_bytes(e[pos:pos + 4], "big")
            pos += 4
            record[name] = [text() for _ in range(count)]
        else:
            record[name] = text()
    return record


def split(data):
    """The encodings an entry bundle holds (docs/log-encoding.md, "Storage: entry bundles")."""
    parts, pos = [], 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        parts.append(bytes(data[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return parts


def unpack(codec, data):
    """A bundle's packed encodings: as stored (codec 0) or one zstd frame of them (codec 1)."""
    if codec == 0:
        return data
    import zstandard  # pip install zstandard
    return zstandard.ZstdDecompressor().decompress(data)


def records(db):
    """Every record in the order the bundles hold them."""
    rows = db.execute("SELECT codec, data FROM log_bundles ORDER BY first_seq")
    return [decode(part) for (codec, data) in rows for part in split(unpack(codec, data))]


def chain(recs):
    """The chain hash after each record of `recs` (from the first record on), by seq."""
    prev, out = b"\x00" * 32, {}
    for r in recs:
        prev = sha256(b"doelpoort-log-record-v1", prev, encode(r))
        out[r["seq"]] = prev
    return out


def store(db, slots):
    """Writes the log as the bundles `slots` say, one record per bundle: (the seq the bundle claims, the record in
    it). What an attacker with the database and the documentation can write."""
    db.execute("DELETE FROM log_bundles")
    prev = b"\x00" * 32
    for seq, r in slots:
        e = encode(r)
        db.execute("INSERT INTO log_bundles (first_seq, last_seq, at, prev, codec, data) VALUES (?, ?, ?, ?, 0, ?)",
                   (seq, seq, r["at"], prev, len(e).to_bytes(4, "big") + e))
        prev = sha256(b"doelpoort-log-record-v1", prev, e)


def rechain(db, start, tail):
    """Replaces the records from seq `start` on by `tail`, renumbered from `start`, with the head at the last and
    the tree dropped (the gateway rebuilds its tiles at start)."""
    kept = [r for r in records(db) if r["seq"] < start]
    recs = kept + [dict(r, seq=start + i) for i, r in enumerate(tail)]
    store(db, [(r["seq"], r) for r in recs])
    db.execute("DELETE FROM log_postings WHERE bundle >= ?", (start,))
    last = recs[-1]["seq"]
    db.execute("UPDATE log_head SET seq = ?, hash = ?, tree_size = 0", (last, chain(recs)[last].hex()))
    db.execute("DELETE FROM log_tiles")


def attack_field(db, n):
    recs = records(db)
    recs[n // 2 - 1]["purpose"] = "weggepoetst"
    store(db, [(r["seq"], r) for r in recs])


def attack_delete(db, n):
    store(db, [(r["seq"], r) for r in records(db) if r["seq"] != n // 2])


def attack_swap(db, n):
    recs = records(db)
    a = n // 3 - 1
    recs[a], recs[a + 1] = recs[a + 1], recs[a]
    store(db, [(i + 1, r) for i, r in enumerate(recs)])


def attack_insert(db, n):
    recs = records(db)
    store(db, [(r["seq"], r) for r in recs] + [(n + 1, dict(recs[-1], seq=n + 1))])


def attack_truncate(db, n):
    keep = n - 12
    recs = [r for r in records(db) if r["seq"] <= keep]
    store(db, [(r["seq"], r) for r in recs])
    db.execute("DELETE FROM log_postings WHERE bundle > ?", (keep,))
    db.execute("DELETE FROM log_notes WHERE seq > ?", (keep,))
    db.execute("UPDATE log_head SET seq = ?, hash = ?, tree_size = 0", (keep, chain(recs)[keep].hex()))
    db.execute("DELETE FROM log_tiles")


def attack_head(db, n):
    db.execute("UPDATE log_head SET seq = ?, hash = ?", (n - 1, chain(records(db))[n - 1].hex()))


def attack_notes(db, n):
    db.execute("DELETE FROM log_notes")


def attack_recompute_keep(db, n):
    start = n // 2
    tail = [r for r in records(db) if r["seq"] >= start]
    tail[0]["purpose"] = "weggepoetst"
    rechain(db, start, tail)


def attack_recompute_drop(db, n):
    start = n // 2
    tail = [r for r in records(db) if r["seq"] >= start and r["action"] != "log.checkpoint"]
    tail[0]["purpose"] = "weggepoetst"
    rechain(db, start, tail)
    db.execute("DELETE FROM log_notes WHERE seq >= ?", (start,))


# name, attack, what `audit verify` must name (one of), whether the start-up check must refuse. A truncation with
# the head, the tree and the later checkpoints rewritten, and a recomputation that also removes the checkpoints,
# agree with themselves: only what a partner kept (the anchor, a witness's state) or the checkpoint interval shows them.
ATTACKS = [
    ("field changed", attack_field, ["does not match it"], False),
    ("row deleted", attack_delete, ["missing"], False),
    ("rows reordered", attack_swap, ["out of place"], False),
    ("row inserted", attack_insert, ["does not match it", "does not cover", "beyond the head"], True),
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
