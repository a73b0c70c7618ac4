#!/usr/bin/env python3
"""How long the console's pages take at 10,000 records, against the API's own answer to the same question.

Starts `doelpoort demo` (the release binary when it is built, else the debug one) in a fresh directory, writes
N hit/no-hit answers about one BSN (default 10,000; the lookup limits raised for the run), then times each page as
the FG over one keep-alive connection with her personal certificate: median of 5, in ms, with the ratio to the
API's `GET /v1/audit/disclosures` (100 records, the peer measured in the same run). The verification is timed
from its POST until the integrity page reports the result.

    python3 benches/console_pages.py [N]
"""
import http.client
import json
import os
import ssl
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
import journeys  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def connection(demo, cert, key):
    ctx = ssl.create_default_context(cafile=str(demo.dir / "ca" / "ca.pem"))
    ctx.load_cert_chain(cert, key)
    return http.client.HTTPSConnection("localhost", demo.port, context=ctx, timeout=120)


def timed(conn, method, path, body=None, headers=None, runs=5):
    times, status, text = [], 0, ""
    for _ in range(runs):
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        text = r.read().decode(errors="replace")
        times.append((time.perf_counter() - started) * 1000)
        status = r.status
    return statistics.median(times), status, text


def main():
    release = ROOT / "target" / "release" / "doelpoort"
    if release.exists():
        journeys.BIN = release
    os.environ["DOELPOORT_LIMITS_LOOKUPS_PER_MINUTE"] = "100000000"
    os.environ["DOELPOORT_LIMITS_LOOKUPS_PER_MINUTE_PER_ORGANISATION"] = "100000000"
    demo = journeys.Demo()
    try:
        police = connection(demo, demo.dir / "orgs/politie/cert.pem", demo.dir / "orgs/politie/key.pem")
        token = demo.token("politie", "professional")
        body = json.dumps({"subject": {"bsn": journeys.BSN}, "purpose": journeys.LOOKUP_PURPOSE})
        started = time.perf_counter()
        for _ in range(N):
            police.request("POST", "/v1/lookups", body=body,
                           headers={"authorization": "Bearer " + token, "content-type": "application/json"})
            r = police.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"lookup answered {r.status}")
        print(f"wrote {N} lookup records in {time.perf_counter() - started:.1f} s ({journeys.BIN.name} build "
              f"{journeys.BIN.parent.name})")

        people = demo.dir / "people" / "zvh-fg"
        fg = connection(demo, people / "cert.pem", people / "key.pem")
        zvh = connection(demo, demo.dir / "orgs/zvh/cert.pem", demo.dir / "orgs/zvh/key.pem")
        officer = "Bearer " + demo.token("zvh", "privacy_officer")
        peer, status, _ = timed(zvh, "GET", "/v1/audit/disclosures", headers={"authorization": officer})
        assert status == 200
        form = {"content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin"}
        enc = urllib.parse.urlencode
        _, _, first = timed(fg, "POST", "/console/audit", enc({"kind": "lookup"}), form, runs=1)
        cursor = first.split('name="cursor" value="')[1].split('"')[0] if 'name="cursor"' in first else ""
        pages = [
            ("GET /console/", "GET", "/console/", None, {}),
            ("GET /console/audit (newest 50)", "GET", "/console/audit", None, {}),
            ("POST /console/audit kind=lookup", "POST", "/console/audit", enc({"kind": "lookup"}), form),
            ("POST /console/audit bsn=…", "POST", "/console/audit", enc({"bsn": journeys.BSN}), form),
            ("POST /console/audit next page", "POST", "/console/audit", enc({"kind": "lookup", "cursor": cursor}),
             form),
            ("GET /console/audit/records/5000", "GET", "/console/audit/records/5000", None, {}),
            ("POST /console/audit/subject-report", "POST", "/console/audit/subject-report",
             enc({"bsn": journeys.BSN}), form),
            ("POST /console/audit/export csv (all)", "POST", "/console/audit/export", enc({"format": "csv"}), form),
            ("GET /console/audit/integrity", "GET", "/console/audit/integrity", None, {}),
            ("GET /console/admin/organisations (as FG: 403)", "GET", "/console/admin/organisations", None, {}),
        ]
        print(f"peer: GET /v1/audit/disclosures (100 records) {peer:.1f} ms")
        api_report, status, _ = timed(zvh, "POST", "/v1/audit/subject-report", json.dumps({"bsn": journeys.BSN}),
                                      {"authorization": officer, "content-type": "application/json"})
        assert status == 200
        print(f"the API's POST /v1/audit/subject-report ({N} releases): {api_report:.1f} ms = {api_report / peer:.1f} × peer")
        print(f"{'page':48} {'ms':>8} {'× peer':>8} status bytes")
        for label, method, path, body, headers in pages:
            ms, status, text = timed(fg, method, path, body, headers)
            print(f"{label:48} {ms:8.1f} {ms / peer:8.1f} {status:6} {len(text)}")
        started = time.perf_counter()
        fg.request("POST", "/console/audit/integrity/verify", headers=form)
        fg.getresponse().read()
        while True:
            fg.request("GET", "/console/audit/integrity")
            text = fg.getresponse().read().decode()
            if "intact" in text:
                break
            time.sleep(0.05)
        ms = (time.perf_counter() - started) * 1000
        print(f"{'verification of the whole log (POST → result)':48} {ms:8.1f} {ms / peer:8.1f}")
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
