"""Fixtures for the web app: ``app``, ``client``, a live server and a headless browser.

The app gets a fake ``verify`` through config (``VERIFY``) that reads JSON,
JWT, PNG and SVG the simple way and returns a real ``verifier.report.Report``,
so these tests depend on the web layer only, not on the pipeline.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app import create_app
from errors import Code, InputError
from verifier.report import FAILED, PASSED, SKIPPED, WARNING, Check, Report
from verifier.summary import summarize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SVG_CREDENTIAL = re.compile(rb"<openbadges:credential[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", re.S)


class FakeVerify:
    """A stand-in for the pipeline: same call shape, real Report, records its calls.

    A credential with ``"tampered": true`` fails the proof check; ``"revoked": true``
    fails status; ``"_email"`` is the address the recipient check accepts.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, str | None]] = []

    def __call__(self, data: bytes, *, email: str | None = None) -> Report:
        self.calls.append((data, email))
        container, credential = _read(data)
        checks = [Check("container", PASSED, "CONTAINER_OK", f"Read from {container}."),
                  Check("json", PASSED, "JSON_OK", "The credential is a well-formed JSON object.")]
        if credential.get("tampered"):
            checks.append(Check("proof", FAILED, Code.PROOF_INVALID.value,
                                "The signature does not match the credential: it was changed after signing."))
        else:
            checks.append(Check("proof", PASSED, "PROOF_OK", "The signature matches the credential."))
        checks.append(Check("validity", PASSED, "VALIDITY_OK", "Valid from 1 March 2026, no expiry."))
        if credential.get("revoked"):
            checks.append(Check("status", FAILED, Code.REVOKED.value, "The issuer has revoked this credential."))
        else:
            checks.append(Check("status", SKIPPED, "NO_STATUS", "The credential has no status information."))
        checks.append(Check("issuer_trust", WARNING, Code.ISSUER_UNKNOWN.value,
                            "The issuer is not on your list of known issuers."))
        if email is not None:
            ok = email == credential.get("_email")
            checks.append(Check("recipient", PASSED if ok else FAILED,
                                "RECIPIENT_MATCH" if ok else Code.RECIPIENT_MISMATCH.value,
                                f"Awarded to {email}." if ok else f"The credential was not awarded to {email}."))
        # "embedded": credentials inside this one (a transcript's entries), each judged the same way.
        embedded = tuple((inner.get("id", f"urn:uuid:inner-{n}"), self(json.dumps(inner).encode()))
                         for n, inner in enumerate(credential.get("embedded") or []))
        return Report(checks=tuple(checks), format="di-eddsa-rdfc-2022", container=container,
                      credential=summarize(credential), embedded=embedded)


def _read(data: bytes) -> tuple[str, dict[str, Any]]:
    if data.startswith(b"\x89PNG"):
        from PIL import Image

        text = Image.open(io.BytesIO(data)).text.get("openbadgecredential")  # type: ignore[attr-defined]
        if text is None:
            raise InputError(Code.NO_CREDENTIAL, "The PNG image carries no credential.")
        return "png", _json(text.encode())
    if data.lstrip().startswith((b"<svg", b"<?xml")):
        match = SVG_CREDENTIAL.search(data)
        if match is None:
            raise InputError(Code.NO_CREDENTIAL, "The SVG image carries no credential.")
        return "svg", _json(match.group(1))
    text = data.strip()
    if re.fullmatch(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", text):
        payload = text.split(b".")[1]
        return "jwt", _json(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    return "json", _json(text)


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise InputError(Code.JSON_MALFORMED, "The credential is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "The credential is not a JSON object.")
    return value


@pytest.fixture
def make_credential() -> Callable[..., dict[str, Any]]:
    """Build an OB 3.0-shaped credential dict (unsigned: the fake verify does not look at proofs)."""

    def build(name: str = "Reference Interview Techniques", **extra: Any) -> dict[str, Any]:
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2",
                         "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "urn:uuid:5b1f6c1e-2f1a-4d2b-9a51-1f0c1c2d3e4f",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": name,
            "issuer": {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                       "type": ["Profile"], "name": "Continuing Education Office"},
            "validFrom": "2026-03-01T09:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                                "identityHash": "Ada Lovelace"}],
                "creditsEarned": 1.5,
                "achievement": {
                    "id": "https://badges.example.org/achievements/reference-interview",
                    "type": ["Achievement"], "achievementType": "Course", "name": name,
                    "description": "A six-hour course on the reference interview.",
                    "criteria": {"narrative": "Attend all sessions and pass the quiz."},
                    "creditsAvailable": 1.5,
                },
            },
        }
        credential.update(extra)
        return credential

    return build


@pytest.fixture
def bake_png() -> Callable[[dict[str, Any]], bytes]:
    """A small PNG with the credential in an ``openbadgecredential`` iTXt chunk."""
    from PIL import Image, PngImagePlugin

    def bake(credential: dict[str, Any]) -> bytes:
        info = PngImagePlugin.PngInfo()
        info.add_itxt("openbadgecredential", json.dumps(credential))
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (31, 58, 95)).save(out, "PNG", pnginfo=info)
        return out.getvalue()

    return bake


@pytest.fixture
def bake_svg() -> Callable[..., bytes]:
    """An SVG badge with the credential in ``<openbadges:credential>`` (and, on request, a script)."""

    def bake(credential: dict[str, Any], *, hostile: bool = False) -> bytes:
        script = '<script>alert("svg")</script><image href="x" onerror="alert(2)"/>' if hostile else ""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" '
                f'width="10" height="10" onload="alert(3)">{script}'
                f"<openbadges:credential><![CDATA[{json.dumps(credential)}]]></openbadges:credential>"
                '<rect width="10" height="10"/></svg>').encode()

    return bake


@pytest.fixture
def fake_verify() -> FakeVerify:
    return FakeVerify()


@pytest.fixture
def stored() -> dict[str, bytes]:
    """Credentials the injected ``lookup`` knows, by id (what the registry would hold)."""
    return {}


@pytest.fixture
def app_config(fake_verify: FakeVerify, stored: dict[str, bytes]) -> dict[str, Any]:
    return {"TESTING": True, "HOME": None, "VERIFY": fake_verify, "LOOKUP": stored.get, "RATE_LIMIT": "off"}


@pytest.fixture
def app(app_config: dict[str, Any]):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright; skips saying why when either is missing."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists()
                                                                  else shutil.which("chromium")),
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def build_state_site(home: Path, base_url: str) -> dict[str, str]:
    """A demo instance with a badge in every state; returns page URLs by state name.

    active course and certification (Jane Doe, Sam Lee), revoked (Alex Kim, demo), suspended (with a
    reason), expired (a certification awarded four years ago, valid for three), a long name, the learner
    pages of Jane Doe (current badges, a pathway), Robin Ellis (expired) and Pat Morgan (suspended), and the
    verify page.
    """
    from datetime import date

    from issuer.awarding.awards import issue_single
    from issuer.awarding.status_changes import change_status
    from issuer.awarding.demo import run_demo
    from issuer.awarding.issuing import IssueRequest, Issuer
    from issuer.records.learners import create_link, learner_page_url

    demo = run_demo(home, base_url=base_url, echo=lambda _: None)
    issuer = Issuer.open(demo.home)
    try:
        today = date.today()
        suspended = issue_single(issuer, "inclusive-teen-programming", IssueRequest(
            email="pat.morgan@example.org", name="Pat Morgan", date=today), suspension=True)
        if suspended.record.status != "suspended":
            change_status(issuer, suspended.record.id, "suspend",
                          reason="Attendance records are being checked")
        expired = issue_single(issuer, "certified-youth-services-librarian", IssueRequest(
            email="robin.ellis@example.org", name="Robin Ellis", date=today.replace(year=today.year - 4)))
        long_name = issue_single(issuer, "annual-conference-2025", IssueRequest(
            email="maximiliana.wolfeschlegelsteinhausen@example.org",
            name="Maximiliana Wolfeschlegelsteinhausen-Bergerdorff", date=today))
        learner = {name: learner_page_url(issuer, create_link(issuer, email)[0])
                   for name, email in (("learner", "jane.doe@example.org"),
                                       ("learner-expired", "robin.ellis@example.org"),
                                       ("learner-suspended", "pat.morgan@example.org"))}
    finally:
        issuer.close()
    return {**demo.pages, "suspended": suspended.page_url, "expired": expired.page_url,
            "attendance": long_name.page_url, **learner}
