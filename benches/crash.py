#!/usr/bin/env python3
"""Crash safety and database faults on the disclosure path.

Drives GET /v1/requests/{id} (a full disclosure) from several client threads while a fault strikes:
  --fault kill       (default) the gateway is killed with SIGKILL at random moments and restarted;
  --fault db-outage  (PostgreSQL) the database server is stopped for a few seconds and started again;
  --fault disk-full  (SQLite) the database lives on a small tmpfs that fills up, then space is freed.
For the two database faults it reports what the clients got during the outage and how long the gateway took to
answer 200 again after the database returned. Then it checks:
  * `doelpoort audit verify` passes (the chain, the tree, every checkpoint and the checkpoint interval);
  * a partner's witness (`doelpoort witness`, as the police) run after every restart cosigns, that is: each newest
    checkpoint extends the one it accepted before;
  * the inclusion proof of every received disclosure's record (up to 200) verifies against the newest signed
    checkpoint, from the record's own encoding (benches/verify_log.py);
  * every response the clients received with content has its disclosure record (matched by the x-request-id the
    gateway answered with);
  * every disclosure record is for content that was committed (its content digest is the stored item's).
Records for responses the clients never received (killed between commit and send) are allowed and counted: the
log may over-report a release, never under-report one.

    benches/crash.py [--backend sqlite|postgres] [--fault kill|db-outage|disk-full] [--kills N] [--threads N]
                     [--instances 2]   (PostgreSQL: two gateways on one database, killed alternately)

PostgreSQL needs DOELPOORT_TEST_POSTGRES_URL (an admin URL, as scripts/test sets up); a fresh database is created
and dropped. Exit 0 when every check passes.
"""
import argparse
import atexit
import hashlib
import http.client
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_log  # noqa: E402  (the documented encoding and proof checks)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "doelpoort")
PORT = 18543


def start_demo(demo, port, env, stderr, cpu=None, database_url=None):
    """Starts `doelpoort demo` (which makes the demo directory on first use), pinned to `cpu` if given, and returns
    the process once it serves."""
    cmd = [BIN, "demo", "--dir", demo, "--listen", f"127.0.0.1:{port}"]
    if database_url:
        cmd += ["--database-url", database_url]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    for line in p.stdout:
        if line.startswith("Stop with Ctrl-C"):
            return p
    raise SystemExit("the demo gateway did not start")


def rss_kib(pid):
    """Resident memory of process `pid`, in KiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


RUNNING = []  # gateways to kill if the script ends early


@atexit.register
def _kill_running():
    for g in RUNNING:
        if g.proc and g.proc.poll() is None:
            g.proc.kill()


class Gateway:
    def __init__(self, demo, env, log, port=PORT, config=None):
        self.demo, self.env, self.log, self.proc, self.port = demo, env, log, None, port
        self.config = config or os.path.join(demo, "doelpoort.toml")
        RUNNING.append(self)

    def start(self):
        log = open(self.log, "a")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.config], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                status, _, _ = call("zvh", self.demo, "GET", "/healthz", port=self.port)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"the gateway did not come up; see {self.log}")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def context(demo, slug):
    ctx = ssl.create_default_context(cafile=os.path.join(demo, "ca", "ca.pem"))
    org = os.path.join(demo, "orgs", slug)
    ctx.load_cert_chain(os.path.join(org, "cert.pem"), os.path.join(org, "key.pem"))
    return ctx


def call(slug, demo, method, path, token=None, body=None, conn=None, headers=None, port=PORT):
    own = conn is None
    conn = conn or http.client.HTTPSConnection("localhost", port, context=context(demo, slug), timeout=10)
    h = dict(headers or {})
    if token:
        h["authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body)
        h["content-type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        return r.status, r.headers, payload
    finally:
        if own:
            conn.close()


def token(demo, slug, roles):
    out = subprocess.run([BIN, "token", "--dir", demo, "--org", slug, "--sub", f"crash-{slug}", "--roles", roles],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def created(result):
    status, _, payload = result
    if status != 201:
        raise SystemExit(f"setup failed: {status} {payload[:300]!r}")
    return json.loads(payload)["id"]


def prepare(demo):
    oin = lambda slug: open(os.path.join(demo, "orgs", slug, "oin")).read().strip()
    t_gem, t_reg, t_zvh = token(demo, "gemeente", "professional"), token(demo, "zvh", "procesregisseur"), \
        token(demo, "zvh", "professional")
    case = created(call("gemeente", demo, "POST", "/v1/cases", t_gem,
                        {"subject": {"bsn": "123456782"}, "summary": "crash test"}))
    assert call("zvh", demo, "POST", f"/v1/cases/{case}/members", t_reg,
                {"oin": oin("zvh"), "reason": "crash test"})[0] == 204
    now = time.time()
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    meeting = created(call("zvh", demo, "POST", "/v1/meetings", t_reg,
                           {"type": "focus", "starts_at": stamp(now - 60), "ends_at": stamp(now + 4 * 3600)}))
    assert call("zvh", demo, "POST", f"/v1/meetings/{meeting}/agenda", t_reg, {"case_id": case})[0] == 204
    request = created(call("zvh", demo, "POST", "/v1/requests", t_zvh, {
        "case_id": case, "meeting_id": meeting, "purpose": "integraal_plan", "categories": ["leefgebieden"],
        "addressees": [oin("gemeente")], "due": stamp(now + 4 * 3600)}))
    content = {"huisvesting": "x" * 500}
    assert call("gemeente", demo, "POST", f"/v1/requests/{request}/responses", t_gem,
                {"items": [{"category": "leefgebieden", "content": content}]})[0] == 204
    item_digest = hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()
    return request, t_zvh, hashlib.sha256(f"{item_digest}\n".encode()).hexdigest()


def drive(demo, request, tok, received, timeline, stop, port=PORT):
    conn = None
    while not stop.is_set():
        try:
            conn = conn or http.client.HTTPSConnection("localhost", port, context=context(demo, "zvh"), timeout=10)
            status, headers, payload = call("zvh", demo, "GET", f"/v1/requests/{request}", tok, conn=conn)
            if status == 200 and json.loads(payload)["items"]:
                received.append(headers["x-request-id"])  # the gateway's own id, which its record holds
            timeline.append((time.time(), status))
        except (OSError, http.client.HTTPException, ValueError):
            timeline.append((time.time(), 0))
            if conn:
                conn.close()
            conn = None
            time.sleep(0.05)


def witness(demo, work, port):
    """One round of the police's witness; returns (exit code, what it said)."""
    org = os.path.join(demo, "orgs", "politie")
    out = subprocess.run([BIN, "witness", "--url", f"https://localhost:{port}", "--ca", os.path.join(demo, "ca", "ca.pem"),
                          "--cert", os.path.join(org, "cert.pem"), "--key", os.path.join(org, "key.pem"),
                          "--token-key", os.path.join(org, "token-key.pem"),
                          "--state", os.path.join(work, "witness-state.json"),
                          "--witness-key", os.path.join(work, "witness-key.pem")], capture_output=True, text=True)
    return out.returncode, (out.stdout + out.stderr).strip().splitlines()[-1:]


def proofs_hold(demo, port, export, received):
    """Inclusion proofs of the received disclosures' records in the newest checkpoint's tree, checked from the
    records' own encoding; returns (checked, failed)."""
    tok = token(demo, "zvh", "privacy_officer")
    org = os.path.join(demo, "orgs", "zvh")
    gw = verify_log.Gateway(f"https://localhost:{port}", os.path.join(demo, "ca", "ca.pem"),
                            os.path.join(org, "cert.pem"), os.path.join(org, "key.pem"), tok)
    info = gw.json("/v1/audit/checkpoints?limit=1")
    key = verify_log.base64.urlsafe_b64decode(info["public_key"] + "=" * (-len(info["public_key"]) % 4))
    size, root, _ = verify_log.open_note(gw.get("/v1/audit/checkpoint"), info["origin"], key)
    wanted = set(received)
    records = [r for r in (json.loads(l) for l in open(export)) if r.get("request_id") in wanted and r["seq"] <= size]
    failed = 0
    for r in random.sample(records, min(len(records), 200)):
        p = gw.json(f"/v1/audit/proof/inclusion?seq={r['seq']}&tree_size={size}")
        leaf = verify_log.leaf(verify_log.encode(r))
        path = [bytes.fromhex(h) for h in p["path"]]
        failed += not verify_log.verify_inclusion(r["seq"] - 1, size, leaf, path, root)
    return min(len(records), 200), failed


def outage_report(timeline, start, end):
    during = [s for t, s in timeline if start <= t <= end]
    after = sorted(t for t, s in timeline if t > end and s == 200)
    # The outage ends when the database is asked to come back; the recovery includes its start-up.
    counts = {}
    for s in during:
        counts[s] = counts.get(s, 0) + 1
    recovery = f"{after[0] - end:.2f} s" if after else "never"
    print(f"during the outage ({end - start:.1f} s): responses by status {counts} (0 = no connection); "
          f"first 200 after the database returned: {recovery}", flush=True)
    return bool(after) and counts.get(200, 0) == 0


def pg_cluster():
    version = sorted(os.listdir("/usr/lib/postgresql"), key=float)[-1]
    return ["pg_ctlcluster", version, "main"]


def fill(fs, free_bytes):
    """Leaves about `free_bytes` free on the file system at `fs` with a ballast file."""
    st = os.statvfs(fs)
    size = max(0, st.f_bavail * st.f_frsize - free_bytes)
    with open(os.path.join(fs, "ballast"), "wb") as f:
        f.write(b"\0" * size)


def disk_full(fs):
    st = os.statvfs(fs)
    return st.f_bavail * st.f_frsize < 64 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--fault", choices=["kill", "db-outage", "disk-full"], default="kill")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--instances", type=int, choices=[1, 2], default=1)
    args = ap.parse_args()
    if args.instances == 2 and (args.backend != "postgres" or args.fault != "kill"):
        raise SystemExit("--instances 2 needs --backend postgres and --fault kill")
    if args.fault == "db-outage" and args.backend != "postgres":
        raise SystemExit("--fault db-outage needs --backend postgres")
    if args.fault == "disk-full" and args.backend != "sqlite":
        raise SystemExit("--fault disk-full needs --backend sqlite")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="doelpoort-crash.")
    demo = os.path.join(work, "demo")
    fs = None
    if args.fault == "disk-full":
        fs = os.path.join(work, "fs")
        os.makedirs(fs)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", fs], check=True)
        demo = os.path.join(fs, "demo")
    env = dict(os.environ, DOELPOORT_LOG="warn")
    db_name = None
    if args.backend == "postgres":
        admin = os.environ.get("DOELPOORT_TEST_POSTGRES_URL")
        if not admin:
            raise SystemExit("--backend postgres needs DOELPOORT_TEST_POSTGRES_URL (scripts/postgres-up sets one up)")
        db_name = f"doelpoort_crash_{uuid.uuid4().hex[:8]}"
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {db_name}"], check=True)
        env["DOELPOORT_DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + db_name
    p = start_demo(demo, PORT, env, subprocess.DEVNULL,
                   database_url=env["DOELPOORT_DATABASE_URL"] if db_name else None)
    request, tok, record_digest = prepare(demo)
    p.send_signal(signal.SIGTERM)
    p.wait()
    if fs:
        fill(fs, free_bytes=3 * 1024 * 1024)

    # Checkpoints every second, so the kills strike around them too.
    config = os.path.join(demo, "doelpoort.toml")
    text = open(config).read()
    open(config, "w").write(text.replace("checkpoint_interval_secs = 300", "checkpoint_interval_secs = 1"))
    gateways = [Gateway(demo, env, os.path.join(work, "gateway.log"))]
    if args.instances == 2:
        second = os.path.join(demo, "second.toml")  # beside the first: its paths are relative to it
        lines = open(config).read().splitlines()
        lines = [f'listen = "127.0.0.1:{PORT + 1}"' if l.startswith("listen =") else
                 f'metrics_listen = "127.0.0.1:{PORT + 2}"' if l.startswith("metrics_listen =") else l for l in lines]
        open(second, "w").write("\n".join(lines) + "\n")
        gateways.append(Gateway(demo, env, os.path.join(work, "gateway2.log"), port=PORT + 1, config=second))
    for g in gateways:
        g.start()
    gateway = gateways[0]
    received, timeline, stop = [], [], threading.Event()
    threads = [threading.Thread(target=drive, args=(demo, request, tok, received, timeline, stop,
                                                    gateways[i % len(gateways)].port))
               for i in range(args.threads)]
    for t in threads:
        t.start()
    fault_ok = True
    witnessed = []
    if args.fault == "kill":
        for k in range(args.kills):
            victim = gateways[k % len(gateways)]
            time.sleep(random.uniform(0.5, 3.0))
            victim.kill()
            print(f"kill {k + 1}: SIGKILL of instance {k % len(gateways) + 1} after {len(received)} disclosures "
                  f"received", flush=True)
            time.sleep(random.uniform(0.0, 0.5))
            victim.start()
            time.sleep(1.2)  # a checkpoint of the restarted instance
            witnessed.append(witness(demo, work, victim.port))
            if witnessed[-1][0] != 0:
                print(f"  witness refused: {witnessed[-1][1]}", flush=True)
    elif args.fault == "db-outage":
        time.sleep(2.0)
        subprocess.run(pg_cluster() + ["stop", "-m", "fast"], check=True)
        start = time.time()
        time.sleep(10.0)
        end = time.time()
        subprocess.run(pg_cluster() + ["start"], check=True)
        print(f"PostgreSQL was down for {end - start:.1f} s and took {time.time() - end:.1f} s to start", flush=True)
        time.sleep(8.0)
        fault_ok = outage_report(timeline, start, end)
    else:
        time.sleep(1.0)
        while not disk_full(fs):
            time.sleep(0.2)
        start = time.time()
        time.sleep(3.0)
        os.remove(os.path.join(fs, "ballast"))
        end = time.time()
        time.sleep(8.0)
        fault_ok = outage_report(timeline, start, end)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    for g in gateways[1:]:
        g.stop()
    gateway.stop()
    errors = [s for _, s in timeline if s != 200]

    verify = subprocess.run([BIN, "audit", "verify", "--config", config], env=env, capture_output=True, text=True)
    export = os.path.join(work, "disclosures.jsonl")
    subprocess.run([BIN, "audit", "export", "--config", config, "--format", "jsonl", "--kind", "disclosure",
                    "--out", export], env=env, check=True, capture_output=True)
    records = [json.loads(line) for line in open(export)]
    recorded = {r.get("request_id") for r in records}
    missing = [rid for rid in received if rid not in recorded]
    foreign = [r["seq"] for r in records if r.get("content_digest") != record_digest]
    proved, unproved, final_witness = 0, 0, (0, [])
    if args.fault == "kill":
        gateway.start()
        final_witness = witness(demo, work, gateway.port)
        proved, unproved = proofs_hold(demo, gateway.port, export, received)
        gateway.stop()
    witness_ok = all(code == 0 for code, _ in witnessed + [final_witness])
    fault = f"{args.kills} kills" if args.fault == "kill" else args.fault
    print(f"backend {args.backend}: {fault}, {len(received)} disclosures received by clients, "
          f"{len(records)} disclosure records, {len(records) - len(set(received) & recorded)} records without a "
          f"received response, {len(errors)} failed or refused requests")
    print(f"audit verify: exit {verify.returncode}: {(verify.stdout + verify.stderr).strip()}")
    print(f"received without a record: {len(missing)}; records for content never committed: {len(foreign)}")
    if args.fault == "kill":
        print(f"witness rounds: {len(witnessed) + 1}, refused: {sum(c != 0 for c, _ in witnessed + [final_witness])}; "
              f"inclusion proofs checked: {proved}, failed: {unproved}")
    if missing:
        print("  for example: " + ", ".join(missing[:5]))
    if db_name:
        subprocess.run(["psql", os.environ["DOELPOORT_TEST_POSTGRES_URL"], "-qc",
                        f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"], check=False)
    if fs and not os.environ.get("DOELPOORT_CRASH_KEEP"):
        subprocess.run(["umount", "-l", fs], check=False)
    ok = (fault_ok and verify.returncode == 0 and not missing and not foreign and received and witness_ok
          and not unproved and (proved > 0 or args.fault != "kill"))
    print("crash safety: " + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
