"""Pushing a badge into a learner's host (Service Consumer, Write), with both sides Badgesmith instances.

The host is a real instance served on 127.0.0.1 (werkzeug, threaded); the pusher is another division's
instance that issued Jane her badges. The learner is a browser driven by ``tests.issuer.web.ob_host.Browser``:
it opens the printed link, signs in by the mailed link, allows, and is sent back to the push's loopback
listener. The CLI test runs ``badgesmith push`` as a real subprocess and reads the link from its output.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
import requests

from errors import AuthError, Code, InputError, NotFound, UpstreamError
from issuer.awarding.awards import issue_single
from issuer.awarding.issuing import IssueRequest
from issuer.records.hosted import held_credentials
from issuer.records.push import push_credential
from tests.issuer.web.ob_host import (JANE, ROOT, Browser, achievement_id, open_division, serve_site,
                                      status_documents)

KIM = "kim.park@example.org"


@pytest.fixture(scope="module")
def pusher(tmp_path_factory):
    """Another division (did:key, offline-verifiable) that awarded Jane a course (JSON) and attendance (VC-JWT)."""
    home = tmp_path_factory.mktemp("pusher") / "instance"
    issuer = open_division(home, "Metro Library Division", "https://metro.example", ("ceu-course", "attendance"))
    ids = {fmt: issue_single(issuer, achievement_id(name), IssueRequest(email=JANE, name="Jane Doe", date=date.today(),
                                                                       format=fmt)).record.id
           for name, fmt in (("ceu-course", "di"), ("attendance", "jwt"))}
    documents = status_documents(issuer, home.parent / "documents")  # the host's verifier reads these, not the network
    yield issuer, ids, documents
    issuer.close()


@pytest.fixture(scope="module")
def host(tmp_path_factory, pusher):
    site = serve_site(tmp_path_factory.mktemp("host") / "instance", DOCUMENTS=str(pusher[2]), OFFLINE=True)
    yield site
    site.stop()


def _learner(host, decision="allow"):
    """on_link for push_credential: the learner's browser, in its own thread as a person would be."""
    done = []

    def on_link(link: str) -> None:
        def act() -> None:
            location = Browser(host).authorize(link, decision)
            done.append(requests.get(location, timeout=30).status_code)  # back to the push's loopback listener

        threading.Thread(target=act, daemon=True).start()

    on_link.done = done
    return on_link


def _never(link: str) -> None:
    raise AssertionError(f"the learner was asked again: {link}")


def test_push_registers_authorizes_upserts_and_a_second_push_is_idempotent(host, pusher):
    issuer, ids, _ = pusher
    learner = _learner(host)
    first = push_credential(issuer, ids["di"], host.base, on_link=learner, wait=60)
    assert (first.status, first.outcome, first.registered, first.authorized) == (201, "created", True, True)
    assert learner.done == [200]
    issued = json.loads(issuer.registry.get_credential(ids["di"]).credential)
    held = {h.id: h.value for h in held_credentials(host.issuer, JANE)}
    assert held[ids["di"]] == issued
    # Again: the remembered registration and refresh token; the host replaces, nothing is added.
    again = push_credential(issuer, ids["di"], host.base, on_link=_never, wait=5)
    assert (again.status, again.outcome, again.registered, again.authorized) == (200, "replaced", False, False)
    assert [h.id for h in held_credentials(host.issuer, JANE)].count(ids["di"]) == 1
    # The VC-JWT goes as text and is kept as the same compact JWS.
    jwt = push_credential(issuer, ids["jwt"], host.base, on_link=_never, wait=5)
    assert jwt.status == 201
    held = {h.id: h.value for h in held_credentials(host.issuer, JANE)}
    assert held[ids["jwt"]] == issuer.registry.get_credential(ids["jwt"]).credential


def test_the_remembered_registration_is_sealed(host, pusher):
    issuer, ids, _ = pusher
    push_credential(issuer, ids["di"], host.base, on_link=_learner(host), wait=60)
    database = Path(issuer.settings.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT base_url, lookup_key, sealed FROM ob_hosts").fetchall()
    assert {r[0] for r in rows} == {host.base} and len(rows) == 2
    assert all("client_secret" not in r[2] and "refresh_token" not in r[2] for r in rows)
    with sqlite3.connect(Path(host.issuer.settings.database_url.removeprefix("sqlite:///"))) as db:
        (clients,) = db.execute("SELECT count(*) FROM ob_clients WHERE client_metadata LIKE '%Metro%'").fetchone()
    assert clients == 1  # registered once, however many pushes


def test_a_learner_who_declines_stops_the_push(tmp_path, host, pusher):
    issuer, ids, _ = pusher
    fresh = open_division(tmp_path / "fresh", "Harbor Division", "https://harbor.example")
    try:
        record = issue_single(fresh, achievement_id("ceu-course"), IssueRequest(email=JANE, name="Jane Doe", date=date.today())).record
        with pytest.raises(AuthError) as refused:
            push_credential(fresh, record.id, host.base, on_link=_learner(host, "deny"), wait=60)
        assert refused.value.code == Code.OB_AUTHORIZATION_DENIED and "access_denied" in refused.value.message
        with pytest.raises(AuthError) as late:
            push_credential(fresh, record.id, host.base, on_link=lambda link: None, wait=1)
        assert late.value.code == Code.OB_AUTHORIZATION_DENIED
    finally:
        fresh.close()


def test_push_refuses_bad_targets_before_any_request(host, pusher):
    issuer, ids, _ = pusher
    with pytest.raises(InputError):
        push_credential(issuer, ids["di"], "http://backpack.example", on_link=_never)
    with pytest.raises(NotFound):
        push_credential(issuer, "urn:uuid:00000000-0000-4000-8000-000000000000", host.base, on_link=_never)
    with pytest.raises(UpstreamError) as no_api:
        push_credential(issuer, ids["di"], host.base + "/nothing", on_link=_never)
    assert no_api.value.code == Code.OB_HOST_INVALID


def test_cli_push_prints_the_link_and_reports(host, pusher):
    """`badgesmith push` as a subprocess: the learner (Kim, new at the host) follows the link it prints."""
    issuer, ids, _ = pusher
    slug = issuer.registry.get_credential(ids["di"]).achievement
    record_id = issue_single(issuer, slug, IssueRequest(email=KIM, name="Kim Park", date=date.today())).record.id
    process = subprocess.Popen([sys.executable, "-c", "import cli; cli.run()", "--home", str(issuer.settings.home),
                                "push", record_id.removeprefix("urn:uuid:"), "--to", host.base + "/", "--wait", "60",
                                "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        link = None
        for line in process.stderr:
            found = re.search(r"(http://127\.0\.0\.1:\d+/ob/oauth/authorize\?\S+)", line)
            if found:
                link = found.group(1)
                break
        assert link, "no authorization link printed"
        location = Browser(host, KIM).authorize(link)
        assert requests.get(location, timeout=30).status_code == 200
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, (out, err)
    assert json.loads(out) == {"host": host.base, "credential": record_id, "outcome": "created", "status": 201,
                               "registered": False, "authorized": True}
    assert record_id in {h.id for h in held_credentials(host.issuer, KIM)}
