#!/usr/bin/env python3
"""Floods and slow clients against the demo gateway, while a well-behaved partner keeps calling.

Scenarios (each for a few seconds, the well-behaved client measured throughout):
  idle-tcp      N TCP connections that never start TLS (N below and above limits.max_connections)
  slowloris     TLS connections that drip request-header bytes, one a second
  slow-body     TLS connections that send headers announcing a body, then drip it
  handshakes    threads doing full mutual-TLS handshakes and hanging up, as fast as they can
  stranger      1,024 connections, reopened as they close, with a certificate from the trusted CA for an OIN that
                is not onboarded, each sending half a request head
  onboarded-slowloris
                the same with an onboarded organisation's own certificate (politie; the prober is the ZVH)
  big-headers   one request with a 64 KiB header and one with 300 headers
The gateway's resident memory is read from /proc before, at the peak of each scenario and after.

    benches/flood.py [--idle N] [--seconds S] [--only NAME]

Prints, per scenario, the well-behaved client's successes, failures and p50/p99, the attack connections the
gateway closed, and its memory. Exit 0 when the well-behaved client got at least 99 % answers in every scenario
and both oversized requests were refused with 431.
"""
import argparse
import http.client
import os
import signal
import socket
import ssl
import statistics
import subprocess
import tempfile
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash import ROOT, rss_kib, start_demo  # noqa: E402  (the demo gateway's start and memory)

PORT = 18743


def ctx(demo, slug="zvh"):
    c = ssl.create_default_context(cafile=os.path.join(demo, "ca", "ca.pem"))
    org = os.path.join(demo, "orgs", slug)
    c.load_cert_chain(os.path.join(org, "cert.pem"), os.path.join(org, "key.pem"))
    return c


class Prober:
    """The well-behaved partner: one request on a new connection after another, latencies recorded."""

    def __init__(self, demo):
        self.demo, self.results, self.stop = demo, [], threading.Event()

    def run(self):
        context = ctx(self.demo)
        while not self.stop.is_set():
            t = time.time()
            try:
                conn = http.client.HTTPSConnection("localhost", PORT, context=context, timeout=5)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
            self.results.append((ok, time.time() - t))
            time.sleep(0.02)

    def window(self):
        taken, self.results = self.results, []
        return taken


def summary(results):
    ok = [d for good, d in results if good]
    failed = len(results) - len(ok)
    if not ok:
        return f"0 ok, {failed} failed", 0.0
    ok.sort()
    p50 = statistics.median(ok) * 1000
    p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))] * 1000
    return f"{len(ok)} ok, {failed} failed, p50 {p50:.1f} ms, p99 {p99:.1f} ms", len(ok) / max(1, len(results))


def closed_by_server(socks):
    """How many of the sockets the peer has closed (a read returns EOF or fails)."""
    n = 0
    for s in socks:
        try:
            s.setblocking(False)
            while True:
                if s.recv(65536) == b"":
                    n += 1
                    break
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except (OSError, ssl.SSLError):
            n += 1
    return n


def idle_tcp(n, seconds, pid, peak):
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", PORT), timeout=2))
        except OSError:
            break
    end = time.time() + seconds
    while time.time() < end:
        peak[0] = max(peak[0], rss_kib(pid))
        time.sleep(0.2)
    return f"{len(socks)} opened, {hang_up(socks)} closed by the gateway within {seconds} s"


def hang_up(socks):
    """Closes the attack connections; returns how many the gateway had closed already."""
    closed = closed_by_server(socks)
    for s in socks:
        s.close()
    return closed


def tls_socks(demo, n):
    context = ctx(demo)
    socks = []
    for _ in range(n):
        raw = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        socks.append(context.wrap_socket(raw, server_hostname="localhost"))
    return socks


def drip(socks, first, then, seconds, pid, peak):
    for s in socks:
        try:
            s.send(first)
        except OSError:
            pass
    end = time.time() + seconds
    while time.time() < end:
        for s in socks:
            try:
                s.send(then)
            except OSError:
                pass
        peak[0] = max(peak[0], rss_kib(pid))
        time.sleep(1.0)
    return f"{len(socks)} connections, {hang_up(socks)} closed by the gateway within {seconds} s"


def attack_for(seconds, threads, stop, pid, peak):
    """Runs the attack `threads` for `seconds`, noting the gateway's peak memory, then sets `stop` and joins them."""
    for t in threads:
        t.start()
    end = time.time() + seconds
    while time.time() < end:
        peak[0] = max(peak[0], rss_kib(pid))
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()


def stranger_cert(demo, work):
    """A client certificate from the demo CA for an OIN no organisation holds; returns its directory."""
    out = os.path.join(work, "stranger")
    os.makedirs(out, exist_ok=True)
    key, csr, cert, ext = (os.path.join(out, f) for f in ("key.pem", "csr.pem", "cert.pem", "ext.cnf"))
    with open(ext, "w") as f:
        f.write("extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    run("openssl", "req", "-new", "-key", key, "-subj", "/CN=Vreemde/serialNumber=00000099000000000099",
        "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(demo, "ca", "ca.pem"),
        "-CAkey", os.path.join(demo, "ca", "ca-key.pem"), "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", cert)
    return out


def cert_ctx(demo, cert_dir):
    c = ssl.create_default_context(cafile=os.path.join(demo, "ca", "ca.pem"))
    c.load_cert_chain(os.path.join(cert_dir, "cert.pem"), os.path.join(cert_dir, "key.pem"))
    return c


def held_open(context, n, seconds, pid, peak, threads=4):
    """Keeps `n` connections open with `context`'s certificate, each sending half a request head and reopened as
    the gateway closes it. Returns what happened."""
    opened, refused, stop = [0], [0], threading.Event()
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "

    def hold(share):
        socks = []
        while not stop.is_set():
            alive = []
            for s in socks:
                if closed_by_server([s]):
                    s.close()
                else:
                    alive.append(s)
            socks = alive
            while len(socks) < share and not stop.is_set():
                try:
                    raw = socket.create_connection(("127.0.0.1", PORT), timeout=2)
                    s = context.wrap_socket(raw, server_hostname="localhost")
                    s.send(head)
                    socks.append(s)
                    opened[0] += 1
                except (OSError, ssl.SSLError):
                    refused[0] += 1
            time.sleep(0.2)
        for s in socks:
            s.close()

    attack_for(seconds, [threading.Thread(target=hold, args=(n // threads,)) for _ in range(threads)], stop,
               pid, peak)
    return f"{opened[0]} connections opened (reopened as closed), {refused[0]} refused in the handshake"


def handshakes(demo, seconds, pid, peak, threads=6):
    count, stop = [0], threading.Event()

    def hammer():
        context = ctx(demo)
        while not stop.is_set():
            try:
                raw = socket.create_connection(("127.0.0.1", PORT), timeout=5)
                s = context.wrap_socket(raw, server_hostname="localhost")
                s.close()
                count[0] += 1
            except OSError:
                pass

    attack_for(seconds, [threading.Thread(target=hammer) for _ in range(threads)], stop, pid, peak)
    return f"{count[0]} handshakes by {threads} threads ({count[0] / seconds:.0f}/s)"


def big_headers(demo):
    """Sends each oversized head whole and reads the answer even when the gateway closed before the head was all
    written (it answers 431 as soon as the head outgrows its limit)."""
    out = []
    for name, headers in (("one 64 KiB header", {"x-big": "a" * 65536}),
                          ("300 headers", {f"x-h{i}": "b" * 60 for i in range(300)})):
        head = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        answer = b""
        try:
            raw = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s = ctx(demo).wrap_socket(raw, server_hostname="localhost")
            try:
                s.sendall((head + "\r\n").encode())
            except (OSError, ssl.SSLError):
                pass
            while b"\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
            s.close()
        except (OSError, ssl.SSLError) as e:
            answer = answer or f"connection closed ({type(e).__name__})".encode()
        status = answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/1.1 ") else answer.decode()[:60]
        out.append(f"{name}: {status}")
    return "; ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, default=1500)
    ap.add_argument("--seconds", type=int, default=12)
    ap.add_argument("--only", help="run only the scenarios whose name starts with this")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="doelpoort-flood.")
    demo = os.path.join(work, "demo")
    log = open(os.path.join(work, "gateway.log"), "w")
    gw = start_demo(demo, PORT, dict(os.environ, DOELPOORT_LOG="warn"), log)
    pid = gw.pid
    prober = Prober(demo)
    thread = threading.Thread(target=prober.run)
    thread.start()
    time.sleep(3)
    base, _ = summary(prober.window())
    print("limits: max_connections 1024, 256 per organisation, handshake and header timeouts 10 s, "
          "request timeout 30 s")
    print(f"baseline: well-behaved {base}; memory {rss_kib(pid) / 1024:.1f} MiB", flush=True)
    verdicts = []
    scenarios = [
        ("idle-tcp below the limit", lambda peak: idle_tcp(min(args.idle, 900), args.seconds, pid, peak), True),
        ("idle-tcp above the limit", lambda peak: idle_tcp(args.idle, args.seconds, pid, peak), True),
        ("slowloris", lambda peak: drip(tls_socks(demo, 300), b"GET /healthz HTTP/1.1\r\n", b"x", args.seconds,
                                         pid, peak), True),
        ("slow-body", lambda peak: drip(tls_socks(demo, 300),
                                        b"POST /v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                        b"Content-Length: 100000\r\n\r\n", b"{", args.seconds, pid, peak), True),
        ("handshakes", lambda peak: handshakes(demo, args.seconds, pid, peak), True),
        ("stranger", lambda peak: held_open(cert_ctx(demo, stranger_cert(demo, work)), 1024, args.seconds, pid,
                                            peak), True),
        ("onboarded-slowloris", lambda peak: held_open(ctx(demo, "politie"), 1024, args.seconds, pid, peak), True),
        ("big-headers", lambda peak: big_headers(demo), False),
    ]
    for name, attack, judged in scenarios:
        if args.only and not name.startswith(args.only):
            continue
        peak = [rss_kib(pid)]
        prober.window()
        what = attack(peak)
        during, share = summary(prober.window())
        time.sleep(1)
        print(f"{name}: {what}; well-behaved during it: {during}; memory peak {peak[0] / 1024:.1f} MiB", flush=True)
        if judged:
            verdicts.append(share >= 0.99)
        elif name == "big-headers":
            verdicts.append(what.count(": 431") == 2)
        time.sleep(11)  # let the gateway's timeouts clear what is left
    prober.stop.set()
    thread.join()
    print(f"after: memory {rss_kib(pid) / 1024:.1f} MiB")
    gw.send_signal(signal.SIGTERM)
    gw.wait(timeout=30)
    ok = all(verdicts)
    print("floods: " + ("PASS" if ok else "FAIL"))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
