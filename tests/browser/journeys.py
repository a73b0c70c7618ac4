#!/usr/bin/env python3
"""Browser journeys through the console, in real Chromium with the demo people's personal certificates.

Starts `doelpoort demo` in a fresh directory on a free loopback port, seeds a case, a meeting and a request over
the API (as partners would), then drives Chromium through Playwright: the FG answers an access request, a
partner's privacy officer sees only its own records, the administrator onboards an organisation from a JWKS file
and suspends it, and a professional answers a request. Every page is screenshotted into
target/browser/screenshots/; any CSP violation or console error fails the journey. Prints page loads and time
per journey.
"""
import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("DOELPOORT_BIN", ROOT / "target" / "debug" / "doelpoort"))
SHOTS = ROOT / "target" / "browser" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BSN = "123456782"
GEMEENTE = "00000099000000000005"
NEW_OIN = "00000099000000000042"
LOOKUP_PURPOSE = "zsm_afdoening"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="doelpoort-browser-")
        self.dir = Path(self.tmp.name) / "demo"
        self.port = free_port()
        self.origin = f"https://localhost:{self.port}"
        log = open(Path(self.tmp.name) / "demo.log", "w")
        self.proc = subprocess.Popen(
            [str(BIN), "demo", "--dir", str(self.dir), "--listen", f"127.0.0.1:{self.port}",
             "--metrics-listen", f"127.0.0.1:{free_port()}", "--seed", "60"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.call("politie", None, "GET", "/healthz")[0] == 200:
                    return
            except (OSError, ssl.SSLError):
                pass
            if self.proc.poll() is not None:
                raise SystemExit("the demo gateway exited: " + (Path(self.tmp.name) / "demo.log").read_text())
            time.sleep(0.3)
        raise SystemExit("the demo gateway did not come up")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.tmp.cleanup()

    def token(self, org, roles):
        out = subprocess.run([str(BIN), "token", "--dir", str(self.dir), "--org", org, "--sub", f"{org}-script",
                              "--roles", roles], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def call(self, org, roles, method, path, body=None):
        ctx = ssl.create_default_context(cafile=str(self.dir / "ca" / "ca.pem"))
        ctx.load_cert_chain(self.dir / "orgs" / org / "cert.pem", self.dir / "orgs" / org / "key.pem")
        conn = http.client.HTTPSConnection("localhost", self.port, context=ctx, timeout=20)
        headers = {"content-type": "application/json"}
        if roles:
            headers["authorization"] = "Bearer " + self.token(org, roles)
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        return r.status, (json.loads(text) if text.startswith(("{", "[")) else text)

    def ok(self, org, roles, method, path, body=None):
        status, answer = self.call(org, roles, method, path, body)
        if status not in (200, 201, 204):
            raise SystemExit(f"{method} {path} as {org}: {status} {answer}")
        return answer

    def seed(self):
        """A police report, the ZVH's members and a focus meeting in session, and a request to the municipality."""
        now = time.time()
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        case = self.ok("politie", "professional", "POST", "/v1/cases",
                       {"subject": {"bsn": BSN}, "summary": "Zorgen om het gezin"})["id"]
        for oin in ["00000099000000000001", GEMEENTE]:
            self.ok("zvh", "procesregisseur", "POST", f"/v1/cases/{case}/members",
                    {"oin": oin, "reason": "betrokken bij de casus"})
        meeting = self.ok("zvh", "procesregisseur", "POST", "/v1/meetings",
                          {"type": "focus", "starts_at": iso(now - 60), "ends_at": iso(now + 7200)})["id"]
        self.ok("zvh", "procesregisseur", "POST", f"/v1/meetings/{meeting}/agenda", {"case_id": case})
        self.ok("zvh", "procesregisseur", "POST", f"/v1/meetings/{meeting}/attendees", {"oin": GEMEENTE})
        request = self.ok("zvh", "professional", "POST", "/v1/requests",
                          {"case_id": case, "meeting_id": meeting, "purpose": "integraal_plan",
                           "categories": ["leefgebieden"], "addressees": [GEMEENTE], "due": iso(now + 86400)})["id"]
        # A hit/no-hit question of the police: a release to the police its own officer may see.
        self.ok("politie", "professional", "POST", "/v1/lookups",
                {"subject": {"bsn": BSN}, "purpose": LOOKUP_PURPOSE})
        return case, meeting, request


class Journey:
    """One person in one browser context; every page visited is screenshotted and checked for CSP violations."""

    def __init__(self, browser, demo, person, name):
        self.name, self.loads, self.problems = name, 0, []
        self.started = time.time()
        self.context = browser.new_context(
            ignore_https_errors=True,
            client_certificates=[{"origin": demo.origin, "pfxPath": str(demo.dir / "people" / person / "person.p12"),
                                  "passphrase": "demo"}])
        self.page = self.context.new_page()
        self.page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => "
            "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("load", lambda _: self.count())
        self.origin = demo.origin
        self.shot = 0
        self.expected = []

    def count(self):
        self.loads += 1

    def go(self, path, status=200):
        response = self.page.goto(self.origin + path)
        self.snap(path)
        self.expect(response.status == status, f"{path} answers {response.status}, not {status}")
        if status >= 400:
            self.meant(status)
        return response

    def submit(self, button, label):
        """Clicks a form's button and waits for the page it leads to."""
        with self.page.expect_navigation():
            self.page.click(button)
        self.snap(label)

    def meant(self, status):
        """Chromium reports a page that answers with an error status as a console error; this one was meant."""
        self.expected.append(f"Failed to load resource: the server responded with a status of {status} ")

    def snap(self, label):
        self.shot += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "start"
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.shot:02d}-{slug}.png"), full_page=True)

    def expect(self, condition, what):
        if not condition:
            self.snap("failed")
            raise AssertionError(f"{self.name}: {what}")

    def done(self):
        elapsed = time.time() - self.started
        self.context.close()
        for meant in self.expected:
            match = next((p for p in self.problems if p.startswith(meant)), None)
            if match:
                self.problems.remove(match)
        if self.problems:
            raise AssertionError(f"{self.name}: console errors or CSP violations: {self.problems}")
        print(f"journey {self.name}: {self.loads} page loads, {elapsed:.2f} s")


def professional_answers(browser, demo, request):
    j = Journey(browser, demo, "gemeente-medewerker", "professional")
    j.go("/console/")
    j.page.click("text=Inbox")
    j.snap("inbox")
    j.page.click(f"a[href='/console/requests/{request}']")
    j.snap("request")
    j.page.fill("#item-leefgebieden", "Schulden bij drie schuldeisers; gezin bekend bij het wijkteam.")
    j.page.click("text=Antwoord versturen")
    j.snap("answered")
    j.expect("/console/inbox" in j.page.url, "after answering, the inbox is shown")
    j.expect("beantwoord" in j.page.inner_text("main"), "the request shows as answered")
    j.done()


def regisseur_reads_answer(browser, demo, request):
    j = Journey(browser, demo, "zvh-regisseur", "regisseur")
    j.go(f"/console/requests/{request}")
    text = j.page.inner_text("main")
    j.expect("Schulden bij drie schuldeisers" in text, "the requester reads the answer")
    j.expect("vastgelegd als logrecord" in text, "the page names the log record of the release")
    j.done()


def regisseur_runs_the_process(browser, demo, case, meeting):
    """Intake, weighing in a briefing, the plan in the focus meeting, the holder, and a monitoring check."""
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    briefing = demo.ok("zvh", "procesregisseur", "POST", "/v1/meetings",
                       {"type": "briefing", "starts_at": iso(now - 60), "ends_at": iso(now + 3600)})["id"]
    demo.ok("zvh", "procesregisseur", "POST", f"/v1/meetings/{briefing}/agenda", {"case_id": case})
    j = Journey(browser, demo, "zvh-regisseur", "process")
    j.go("/console/intake")
    text = j.page.inner_text("main")
    j.expect("Zorgen om het gezin" in text and "logrecord" in text, "the intake shows the summary and its record")
    j.go(f"/console/cases/{case}")
    j.page.fill("#w-meeting", briefing)
    j.page.select_option("#w-outcome", "focus")
    j.submit("button:text-is('Weging vastleggen')", "weighed")
    text = j.page.inner_text("main")
    j.expect("Niet uitgevoerd" not in text and "Nog niet gewogen" not in text, "the weighing is recorded")
    j.go(f"/console/meetings/{meeting}")
    j.page.select_option("#s-cat", "plan_van_aanpak")
    j.page.fill("#s-content", "Gemeente regelt schuldhulp; wijkteam begeleidt het gezin.")
    j.submit("button:text-is('Delen')", "plan shared")
    j.go(f"/console/cases/{case}")
    j.page.select_option("#h-oin", GEMEENTE)
    j.page.fill("#h-reason", "Afgesproken in het focusoverleg")
    j.submit("button:text-is('Aanwijzen')", "holder")
    j.expect(GEMEENTE in j.page.inner_text("dl.facts"), "the municipality holds the case")
    j.page.select_option("#c-moment", "1w")
    j.page.fill("#c-note", "Eerste week: afspraken nagekomen.")
    j.submit("button:text-is('Vastleggen')", "checked")
    j.expect("op koers" in j.page.inner_text("main"), "the check is recorded")
    j.go("/console/monitoring")
    j.expect("gedaan" in j.page.inner_text("main") and "gepland" in j.page.inner_text("main"),
             "the monitoring page lists done and planned checks")
    j.done()


def holder_reads_file_and_reports_progress(browser, demo, case):
    j = Journey(browser, demo, "gemeente-medewerker", "holder")
    j.go(f"/console/cases/{case}/file")
    j.expect("schuldhulp" in j.page.inner_text("main"), "the plan stays readable in the case file")
    j.page.fill("#f-content", "Schuldhulptraject gestart.")
    j.submit("button:text-is('Toevoegen aan het dossier')", "progress")
    j.expect("Niet uitgevoerd" not in j.page.inner_text("main") and "/file" in j.page.url, "the holder adds progress")
    j.done()


def municipality_reads_its_figures(browser, demo):
    """The municipality's professional sees its factsheet as charts and tables, with the CSV beside them."""
    for i in range(23):
        demo.ok("politie" if i < 12 else "gemeente", "professional", "POST", "/v1/cases",
                {"subject": {"no_bsn": {"reason": "onbekend", "family_name": f"Persoon {i}", "given_name": "Test",
                                        "birth_date": "1990-01-01"}},
                 "municipality": "GM0268", "summary": "Melding"})
    j = Journey(browser, demo, "gemeente-medewerker", "figures")
    j.go("/console/")
    j.page.click("text=Cijfers")
    j.page.wait_for_load_state()
    j.snap("statistics")
    text = j.page.inner_text("main")
    j.expect("Meldingen per melder" in text and j.page.input_value("#st-municipality") == "GM0268",
             "the municipality's own factsheet is shown")
    j.expect(j.page.locator("svg.chart").count() >= 1, "the figures are drawn as charts")
    j.expect(j.page.locator("a[href^='/console/statistics.csv']").count() == 1, "the CSV is offered")
    j.go("/console/statistics?period=2026&municipality=GM0277", status=403)
    j.done()


def steering_group_evaluates_and_replays(browser, demo):
    """The procesregisseur evaluates the covenant over the seeded year and replays it under a changed policy."""
    j = Journey(browser, demo, "zvh-regisseur", "covenant")
    j.go("/console/")
    j.page.click("text=Convenant")
    j.page.wait_for_load_state()
    j.snap("evaluation")
    text = j.page.inner_text("main")
    j.expect("Per artikel" in text and "art. 10 lid 1" in text, "the evaluation counts per article")
    j.expect("Terugkerende weigeringen" in text and "forbidden_category" in text, "recurring refusals are listed")
    policy = j.page.input_value("#cv-policy")
    j.page.fill("#cv-policy", policy + "p, receive, wijkteam, focus, *, politie_samenvatting, art. 10 lid 3\n")
    j.submit("button:text-is('Doorrekenen')", "dry-run")
    text = j.page.inner_text("main")
    j.expect("Zou nu worden toegestaan" in text and "receive wijkteam focus * politie_samenvatting" in text,
             "the dry run lists the refusals the proposal would allow, by rule")
    j.expect("toegevoegd" in text, "the dry run shows what the files change")
    j.page.fill("#cv-policy", "p, share, politie, focus, *, onbekend, art. 1\n")
    j.submit("button:text-is('Doorrekenen')", "broken proposal")
    j.expect(j.page.locator("p.problem").count() == 1, "a broken proposal is named above the form")
    j.done()
    m = Journey(browser, demo, "gemeente-medewerker", "covenant-refused")
    m.go("/console/covenant", status=403)
    m.done()


def fg_answers_access_request(browser, demo):
    j = Journey(browser, demo, "zvh-fg", "fg")
    j.go("/console/")
    j.page.click("nav >> text=Inzageverzoek")
    j.snap("subject-report-form")
    j.page.fill("#bsn", BSN)
    j.page.click("text=Overzicht maken")
    j.snap("subject-report")
    j.expect(BSN not in j.page.url, "the BSN stays out of the URL")
    text = j.page.inner_text("main")
    j.expect("Zorg- en Veiligheidshuis Demo" in text, "the report names the ZVH as a recipient")
    j.expect("leefgebieden" in text, "the report names the category released")
    j.go("/console/audit")
    j.page.select_option("#f-kind", "disclosure")
    j.page.click("form[aria-label='Zoeken in het log'] >> text=Zoeken")
    j.snap("search")
    j.page.click("tbody tr >> nth=0 >> a")
    j.snap("record")
    j.expect("Plaats in de keten" in j.page.inner_text("main"), "a record shows its place in the chain")
    j.go("/console/audit/integrity")
    j.page.click("text=Controleer het log nu")
    for _ in range(60):
        if "intact" in j.page.inner_text("main"):
            break
        j.page.wait_for_timeout(500)
        j.page.reload()
    j.snap("integrity")
    j.expect("Het log is intact" in j.page.inner_text("main"), "the verification finds the log intact")
    j.expect("Laatste controlepunt" in j.page.inner_text("main"), "the page shows the latest checkpoint")
    j.page.fill("#p-seq", "1")
    j.page.click("form[action='/console/audit/integrity#opname'] >> text=Toon het bewijs")
    j.page.click("text=hashes van het bewijs")
    j.snap("integrity-inclusion")
    j.expect("Het bewijs klopt met de ondertekende wortel" in j.page.inner_text("main"),
             "record 1's inclusion proof holds against the signed root")
    with j.page.expect_download() as download:
        j.page.goto(demo.origin + "/console/audit")
        j.page.click("text=Exporteren")
    path = download.value.path()
    j.expect(Path(path).read_text().startswith("seq,"), "the CSV export starts with its header")
    j.done()


def partner_officer_sees_own(browser, demo):
    j = Journey(browser, demo, "politie-privacy", "politie-privacy")
    j.go("/console/audit")
    rows = j.page.locator("tbody tr").all_inner_texts()
    j.expect(rows, "the police officer sees records")
    j.expect(all("Politie" in r for r in rows), f"every record shown involves the police: {rows}")
    j.go("/console/audit/records/1", status=404)  # a host record is not shown to a partner's officer
    j.go("/console/admin/organisations", status=403)  # a privacy officer is not an administrator
    j.done()


def jwks_file(directory):
    key = Path(directory) / "new-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key)], check=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    x = base64.urlsafe_b64encode(der[-32:]).rstrip(b"=").decode()
    path = Path(directory) / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "verslavingszorg-1", "x": x}]}))
    return path


def admin_onboards_and_suspends(browser, demo):
    j = Journey(browser, demo, "zvh-beheerder", "admin")
    j.go("/console/admin/organisations")
    j.page.fill("#o-oin", "12345")
    j.page.fill("#o-name", "Verslavingszorg Demo")
    j.page.click("button:has-text('Aansluiten')")
    j.snap("refused")
    j.meant(422)
    j.expect("Niet aangesloten" in j.page.inner_text("main"), "a bad OIN is refused with a message")
    j.page.fill("#o-oin", NEW_OIN)
    j.page.fill("#o-name", "Verslavingszorg Demo")
    j.page.select_option("#o-kind", "convenantpartner")
    j.page.check("input[name=roles][value=ggd]")
    j.page.set_input_files("#o-file", str(jwks_file(demo.tmp.name)))
    j.page.click("button:has-text('Aansluiten')")
    j.snap("onboarded")
    j.expect(f"/console/admin/organisations/{NEW_OIN}" in j.page.url, "onboarding leads to the new organisation")
    j.page.fill("#s-who", "Directeur Verslavingszorg")
    j.page.click("text=Ondertekening vastleggen")
    j.page.fill("#r-suspend", "onderzoek naar een datalek")
    j.page.click("button:has-text('Schorsen')")
    j.snap("suspended")
    j.expect(j.page.inner_text("#status") == "geschorst", "the organisation is suspended")
    j.go("/console/admin/people")
    j.expect("zvh-fg" in j.page.inner_text("main"), "the people page lists the demo people")
    j.done()


def main():
    if not BIN.exists():
        raise SystemExit(f"{BIN} does not exist; run cargo build first")
    shutil.rmtree(SHOTS, ignore_errors=True)
    demo = Demo()
    try:
        case, meeting, request = demo.seed()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            professional_answers(browser, demo, request)
            regisseur_reads_answer(browser, demo, request)
            regisseur_runs_the_process(browser, demo, case, meeting)
            holder_reads_file_and_reports_progress(browser, demo, case)
            municipality_reads_its_figures(browser, demo)
            steering_group_evaluates_and_replays(browser, demo)
            fg_answers_access_request(browser, demo)
            partner_officer_sees_own(browser, demo)
            admin_onboards_and_suspends(browser, demo)
            browser.close()
        print(f"browser journeys passed; screenshots in {SHOTS}")
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
