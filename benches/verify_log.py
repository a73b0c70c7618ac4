#!/usr/bin/env python3
"""An independent verifier of Doelpoort's disclosure log, written from docs/log-encoding.md alone (no code of the
gateway is used). As the host's privacy officer it reads every record over the API, encodes each one itself,
checks the hash chain, builds the Merkle tree, checks the signed checkpoints (the newest one and every checkpoint
record in the log: signature, size, root), and verifies inclusion and consistency proofs the gateway serves.

    benches/verify_log.py --url https://localhost:8443 --ca CA.pem --cert CERT.pem --key KEY.pem --token TOKEN
    benches/verify_log.py --start [--bin target/debug/doelpoort] [--seed 20]

With --start it makes a seeded demo in a temporary directory, serves it, verifies it, stops it, and runs
`doelpoort audit verify` over the same log as well. Exit 0 when everything verifies, 1 naming the first problem.
Needs Python's `cryptography` (Ed25519).
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# docs/log-encoding.md, "Records": the fields after seq, in order, and their types.
FIELDS = [
    ("at", "text"), ("kind", "text"),
    ("source_oin", "opt"), ("recipient_oin", "opt"), ("actor_oin", "opt"), ("actor_sub", "opt"),
    ("case_id", "opt"), ("subject", "opt"), ("meeting_id", "opt"), ("meeting_type", "opt"), ("purpose", "opt"),
    ("categories", "list"),
    ("covenant_version", "opt"), ("article", "opt"), ("request_id", "opt"), ("content_digest", "opt"),
    ("decision", "text"),
    ("reason", "opt"), ("action", "opt"), ("target", "opt"), ("detail", "opt"), ("trace_id", "opt"), ("span_id", "opt"),
]


class Failed(Exception):
    pass


def encode(record):
    """E(r): docs/log-encoding.md, "Canonical encoding"."""
    def text(value):
        b = value.encode("utf-8")
        return len(b).to_bytes(4, "big") + b

    out = bytearray(b"\x01")
    out += int(record["seq"]).to_bytes(8, "big", signed=True)
    for name, kind in FIELDS:
        value = record.get(name)
        if kind == "list":
            items = value or []
            out += len(items).to_bytes(4, "big")
            for item in items:
                out += text(item)
        elif value is None:
            if kind == "text":
                raise Failed(f"record {record['seq']} has no {name}")
            out += b"\xff\xff\xff\xff"
        else:
            out += text(value)
    return bytes(out)


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def leaf(encoding):
    return sha256(b"\x00", encoding)


def node(left, right):
    return sha256(b"\x01", left, right)


def mth(leaves):
    """MTH over a list of leaf hashes (RFC 6962 §2.1), k the largest power of two below n."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf_hash, proof, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, old, new, proof):
    """RFC 9162 §2.1.4.2."""
    if m == n:
        return not proof and old == new
    if m == 0 or m > n or not proof and m & (m - 1):
        return False
    if m & (m - 1) == 0:
        proof = [old] + list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old and sr == new


def open_note(note, origin, public_key):
    """A checkpoint note signed by `origin` with `public_key`: (size, root, cosignature lines)."""
    if "\n\n" not in note:
        raise Failed("a checkpoint is not a signed note")
    body, signatures = note.split("\n\n", 1)
    body += "\n"
    lines = body[:-1].split("\n")
    if len(lines) != 3 or lines[0] != origin or not re.fullmatch(r"[0-9]+", lines[1]):
        raise Failed(f"a checkpoint body is not origin, size and root: {body!r}")
    size, root = int(lines[1]), base64.b64decode(lines[2], validate=True)
    key_id = sha256(origin.encode(), b"\n", b"\x01", public_key)[:4]
    key = Ed25519PublicKey.from_public_bytes(public_key)
    signed, others = False, []
    for line in signatures.rstrip("\n").split("\n"):
        m = re.fullmatch(r"— (\S+) ([A-Za-z0-9+/=]+)", line)
        if not m:
            raise Failed(f"not a signature line: {line!r}")
        name, blob = m.group(1), base64.b64decode(m.group(2))
        if name == origin and blob[:4] == key_id:
            try:
                key.verify(blob[4:], body.encode())
                signed = True
            except InvalidSignature:
                raise Failed(f"the checkpoint over {size} records has a bad signature")
        else:
            others.append(name)
    if not signed:
        raise Failed(f"the checkpoint over {size} records is not signed by the log's key")
    return size, root, others


class Gateway:
    def __init__(self, url, ca, cert, key, token):
        m = re.fullmatch(r"https://([^:/]+):([0-9]+)/?", url)
        if not m:
            raise Failed("--url must be https://host:port")
        self.host, self.port, self.token = m.group(1), int(m.group(2)), token
        self.context = ssl.create_default_context(cafile=ca)
        self.context.load_cert_chain(cert, key)

    def get(self, path):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
        c.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        if r.status != 200:
            raise Failed(f"GET {path} answered {r.status}: {body[:200]}")
        return body

    def json(self, path):
        return json.loads(self.get(path))

    def records(self, upto):
        """Every record up to seq `upto`, oldest first (the log grows while it is read: each page is recorded)."""
        found, cursor = {}, None
        while True:
            path = "/v1/audit/disclosures?limit=1000" + (f"&cursor={cursor}" if cursor else "")
            page = self.json(path)
            for r in page["records"]:
                if r["seq"] <= upto:
                    found[r["seq"]] = r
            cursor = page.get("next_cursor")
            if not cursor or len(found) >= upto:
                break
        return [found[s] for s in sorted(found)]


def verify(gw, rng):
    info = gw.json("/v1/audit/checkpoints?limit=1000")
    origin = info["origin"]
    public_key = base64.urlsafe_b64decode(info["public_key"] + "=" * (-len(info["public_key"]) % 4))
    latest = gw.get("/v1/audit/checkpoint")
    size, root, cosigners = open_note(latest, origin, public_key)
    records = gw.records(size)
    if [r["seq"] for r in records] != list(range(1, size + 1)):
        raise Failed(f"the records 1..{size} are not all there")

    # The chain and the leaves, from our own encoding.
    prev, leaves = b"\x00" * 32, []
    for r in records:
        e = encode(r)
        if r["prev_hash"] != prev.hex() or sha256(b"doelpoort-log-record-v1", prev, e).hex() != r["hash"]:
            raise Failed(f"record {r['seq']} does not match its hash or its predecessor")
        prev = bytes.fromhex(r["hash"])
        leaves.append(leaf(e))
    if mth(leaves) != root:
        raise Failed(f"the records do not have the root the newest checkpoint (over {size}) signed")

    # Every checkpoint record: signed, over the records before it, with their root.
    sizes = []
    for r in records:
        if r.get("action") != "log.checkpoint":
            continue
        detail = json.loads(r["detail"])
        n, nroot, _ = open_note(detail["note"], origin, public_key)
        if str(n) != r["target"] or n != r["seq"] - 1 or nroot != mth(leaves[:n]) or detail["root"] != nroot.hex():
            raise Failed(f"checkpoint record {r['seq']} does not sign the tree of the records before it")
        sizes.append(n)

    # Our encoding is the gateway's, for a sample.
    sample = sorted(set([1, size] + rng.sample(range(1, size + 1), min(size, 8))))
    for seq in sample:
        served = gw.json(f"/v1/audit/records/{seq}")
        if base64.b64decode(served["encoding"]) != encode(records[seq - 1]):
            raise Failed(f"record {seq}: the gateway's encoding is not the documented one")

    # Inclusion proofs into the newest tree, for a sample.
    sample = sorted(set([1, size] + rng.sample(range(1, size + 1), min(size, 32))))
    for seq in sample:
        p = gw.json(f"/v1/audit/proof/inclusion?seq={seq}&tree_size={size}")
        proof = [bytes.fromhex(h) for h in p["path"]]
        if not verify_inclusion(seq - 1, size, leaves[seq - 1], proof, root):
            raise Failed(f"the inclusion proof of record {seq} in the tree of {size} does not verify")

    # Consistency proofs between checkpoints (consecutive ones, sampled, and each into the newest).
    pairs = list(zip(sizes, sizes[1:] + [size]))
    pairs = rng.sample(pairs, min(len(pairs), 24)) + [(m, size) for m in rng.sample(sizes, min(len(sizes), 8))]
    for m, n in pairs:
        if m == n:
            continue
        p = gw.json(f"/v1/audit/proof/consistency?from={m}&to={n}")
        proof = [bytes.fromhex(h) for h in p["path"]]
        if not verify_consistency(m, n, mth(leaves[:m]), mth(leaves[:n]), proof):
            raise Failed(f"the consistency proof from {m} to {n} records does not verify")
    print(f"independent verification: {size} records, chain and tree root {root.hex()} as the newest checkpoint "
          f"signed; {len(sizes)} checkpoint records, {len(sample)} inclusion and {len(pairs)} consistency proofs "
          f"verified; {len(cosigners)} cosignature(s) present")
    return root.hex()


def start(bin_path, seed):
    work = tempfile.mkdtemp(prefix="doelpoort-verify-")
    demo = os.path.join(work, "demo")
    with socket_port() as port:
        pass
    out = open(os.path.join(work, "demo.out"), "w+")
    proc = subprocess.Popen([bin_path, "demo", "--dir", demo, "--listen", f"127.0.0.1:{port}", "--seed", str(seed)],
                            stdout=out, stderr=open(os.path.join(work, "demo.log"), "w"),
                            env={**os.environ, "DOELPOORT_LOG": "warn"})
    deadline = time.time() + 600
    while time.time() < deadline:
        out.seek(0)
        if "Paste these lines" in out.read():
            break
        if proc.poll() is not None:
            raise Failed(f"the demo stopped; see {work}/demo.log")
        time.sleep(0.5)
    else:
        raise Failed("the demo did not come up")
    token = subprocess.run([bin_path, "token", "--dir", demo, "--org", "zvh", "--sub", "independent-verifier",
                            "--roles", "privacy_officer"], check=True, capture_output=True, text=True).stdout.strip()
    org = os.path.join(demo, "orgs", "zvh")
    gw = Gateway(f"https://localhost:{port}", os.path.join(demo, "ca", "ca.pem"), os.path.join(org, "cert.pem"),
                 os.path.join(org, "key.pem"), token)
    return proc, gw, demo


class socket_port:
    def __enter__(self):
        import socket
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        return self.s.getsockname()[1]

    def __exit__(self, *_):
        self.s.close()


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--url")
    a.add_argument("--ca")
    a.add_argument("--cert")
    a.add_argument("--key")
    a.add_argument("--token")
    a.add_argument("--start", action="store_true")
    a.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "doelpoort"))
    a.add_argument("--seed", type=int, default=20)
    args = a.parse_args()
    rng = random.Random(1)
    try:
        if not args.start:
            verify(Gateway(args.url, args.ca, args.cert, args.key, args.token), rng)
            return 0
        proc, gw, demo = start(args.bin, args.seed)
        try:
            root = verify(gw, rng)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
        own = subprocess.run([args.bin, "audit", "verify", "--config", os.path.join(demo, "doelpoort.toml")],
                             capture_output=True, text=True)
        print(own.stdout.strip() or own.stderr.strip())
        if own.returncode != 0:
            raise Failed("doelpoort audit verify failed on the same log")
        return 0
    except Failed as e:
        print(f"verify_log: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
