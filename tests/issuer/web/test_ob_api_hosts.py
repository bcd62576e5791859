"""Staff's side of the Open Badges API's hosts: `badgesmith hosts list | revoke | connections | withdraw`.

Real flows only: a site on loopback, hosts registered over HTTP, learners signing in and consenting in a
browser (``Browser``), Authlib's OAuth2Session holding the tokens; the commands run through click against
the same instance folder and SQLite file while the site serves. After `hosts revoke` the host's API calls
are a 401 Imsx_StatusInfo, its refresh tokens and unexchanged codes get nothing (the client itself no
longer authenticates: invalid_client), and it cannot start a new authorization; other hosts keep theirs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from click.testing import CliRunner

from cli import main
from tests.issuer.web.ob_host import ALL_SCOPES, JANE, SAM, Browser, serve_site
from tests.issuer.web.test_ob_api_connected_apps import REDIRECT, SHELF, Host, _page, _unauthorized


@pytest.fixture
def site(tmp_path):
    site = serve_site(tmp_path / "instance")
    site.home = tmp_path / "instance"
    yield site
    site.stop()


def badgesmith(site, *args: str, code: int = 0):
    result = CliRunner().invoke(main, ["--debug", "--home", str(site.home), *args], catch_exceptions=False,
                                env={"DATABASE_URL": None})
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def as_json(site, *args: str, code: int = 0):
    return json.loads(badgesmith(site, "--json", *args, code=code).stdout)


def _hosts(site) -> dict[str, dict]:
    return {host["client_id"]: host for host in as_json(site, "hosts", "list")}


def _code_not_yet_exchanged(site, host: Host, email: str) -> dict:
    """The learner allows the host, which has not yet exchanged the code it was sent back with."""
    session = OAuth2Session(host.client_id, host.registration["client_secret"], scope=ALL_SCOPES,
                            redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(site.base + "/ob/oauth/authorize", code_verifier=verifier)
    location = Browser(site, email).authorize(url)
    return {"grant_type": "authorization_code", "redirect_uri": REDIRECT, "code_verifier": verifier,
            "code": requests.utils.urlparse(location).query.split("code=")[1].split("&")[0]}


def test_staff_list_hosts_and_a_learners_connections_as_the_learner_page_does(site):
    assert as_json(site, "hosts", "list") == []
    backpack, shelf = Host(site), Host(site, SHELF)
    jane, sam = backpack.connect(JANE), backpack.connect(SAM)
    shelf.connect(SAM)
    assert backpack.credentials(jane).status_code == 200  # used: "last used" for the backpack

    hosts = _hosts(site)
    assert set(hosts) == {backpack.client_id, shelf.client_id}
    assert hosts[backpack.client_id] | {"registered_at": None, "last_used_at": None} == {
        "client_id": backpack.client_id, "name": "Example Backpack", "site": "https://backpack.example",
        "registered_at": None, "learners": 2, "last_used_at": None, "revoked_at": None}
    assert hosts[backpack.client_id]["last_used_at"] is not None
    assert hosts[shelf.client_id]["learners"] == 1 and hosts[shelf.client_id]["last_used_at"] is None
    lines = badgesmith(site, "hosts", "list").stdout.splitlines()
    assert lines[0].split() == ["CLIENT", "ID", "STATE", "LEARNERS", "REGISTERED", "LAST", "USED", "NAME", "SITE"]
    row = next(line for line in lines if line.startswith(backpack.client_id))
    assert row.split()[1:3] == ["active", "2"] and row.endswith("Example Backpack  https://backpack.example")
    assert lines[-1] == "2 host(s)"

    # A learner's connections are what their page lists, by the same code.
    connections = as_json(site, "hosts", "connections", "--email", SAM)
    assert [(c["client_id"], c["name"]) for c in connections] == [(backpack.client_id, "Example Backpack"),
                                                                   (shelf.client_id, "Shelf Portfolio")]
    assert connections[1]["scopes"] == SHELF["scope"].split() and connections[1]["last_used_at"] is None
    page = _page(site, SAM)[1]
    assert all(f'name="client_id" value="{c["client_id"]}"' in page for c in connections)
    text = badgesmith(site, "hosts", "connections", "--email", JANE.upper()).stdout.splitlines()
    assert text[0].split() == ["CLIENT", "ID", "ALLOWED", "LAST", "USED", "NAME", "SITE"]
    assert backpack.client_id in text[1] and text[-1] == "1 connected app(s)"
    assert as_json(site, "hosts", "connections", "--email", "nobody@example.org") == []
    assert badgesmith(site, "hosts", "connections", "--email", "nobody@example.org").stdout.splitlines() == [
        "CLIENT ID  ALLOWED  LAST USED  NAME  SITE", "0 connected app(s)"]
    assert backpack.credentials(sam).status_code == 200


def test_staff_withdraw_one_learners_access_and_only_theirs(site):
    backpack = Host(site)
    jane, sam = backpack.connect(JANE), backpack.connect(SAM)
    done = as_json(site, "hosts", "withdraw", backpack.client_id, "--email", SAM)
    assert done == {"client_id": backpack.client_id, "name": "Example Backpack", "email": SAM, "changed": True}
    _unauthorized(backpack.credentials(sam))
    refused = backpack.refresh(sam.token["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert backpack.credentials(jane).status_code == 200  # Jane's grant is hers
    assert [c["client_id"] for c in as_json(site, "hosts", "connections", "--email", SAM)] == []
    assert "No app or badge platform has access" in _page(site, SAM)[1]
    assert _hosts(site)[backpack.client_id]["learners"] == 1

    again = badgesmith(site, "hosts", "withdraw", backpack.client_id, "--email", SAM)
    assert again.stdout == "" and "nothing changed" in again.stderr
    assert as_json(site, "hosts", "withdraw", backpack.client_id, "--email", SAM)["changed"] is False

    # A host this learner never allowed, and an id that is no host, are errors that stop nothing.
    shelf = Host(site, SHELF)
    shelf_jane = shelf.connect(JANE)
    for client_id in (shelf.client_id, "0" * 32):
        error = as_json(site, "hosts", "withdraw", client_id, "--email", SAM, code=2)
        assert error["code"] == "NOT_FOUND", error
    assert shelf.credentials(shelf_jane).status_code == 200 and backpack.credentials(jane).status_code == 200


def test_revoking_a_host_stops_every_token_it_holds_and_it_gets_no_new_one(site):
    backpack, shelf = Host(site), Host(site, SHELF)
    jane, sam, sam_shelf = backpack.connect(JANE), backpack.connect(SAM), shelf.connect(SAM)
    pending = _code_not_yet_exchanged(site, backpack, JANE)
    assert backpack.credentials(jane).status_code == 200

    done = as_json(site, "hosts", "revoke", backpack.client_id)
    assert done["changed"] is True and done["revoked_at"] is not None and done["learners"] == 0
    assert set(done) == {"client_id", "name", "site", "registered_at", "learners", "last_used_at", "revoked_at",
                         "changed"}
    for session in (jane, sam):
        _unauthorized(backpack.credentials(session))
        assert "the issuer revoking the host" in backpack.credentials(session).json()["imsx_description"]
        # The host's own credentials no longer authenticate it: RFC 6749's answer is invalid_client (401).
        refused = backpack.refresh(session.token["refresh_token"])
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", refused.text
    exchanged = requests.post(site.base + "/ob/oauth/token", data=pending, timeout=30,
                              auth=(backpack.client_id, backpack.registration["client_secret"]))
    assert exchanged.status_code == 401 and "access_token" not in exchanged.text
    # A new authorization does not reach the learner's sign-in page.
    session = OAuth2Session(backpack.client_id, scope=ALL_SCOPES, redirect_uri=REDIRECT,
                            code_challenge_method="S256")
    url, _ = session.create_authorization_url(site.base + "/ob/oauth/authorize", code_verifier=generate_token(48))
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 400 and "OB_AUTHORIZATION_INVALID" in answer.text
    assert "E-mail me a sign-in link" not in answer.text
    revoking = requests.post(site.base + "/ob/oauth/revoke", data={"token": jane.token["access_token"]},
                             auth=(backpack.client_id, backpack.registration["client_secret"]), timeout=30)
    assert revoking.status_code == 401  # nor can it use the revocation endpoint

    # Another host keeps its access; the learners' pages and `connections` no longer list the revoked one.
    assert shelf.credentials(sam_shelf).status_code == 200
    assert [c["client_id"] for c in as_json(site, "hosts", "connections", "--email", SAM)] == [shelf.client_id]
    assert "Example Backpack" not in _page(site, JANE)[1]
    hosts = _hosts(site)
    assert hosts[backpack.client_id]["revoked_at"] == done["revoked_at"] and hosts[backpack.client_id]["learners"] == 0
    assert hosts[shelf.client_id]["revoked_at"] is None and hosts[shelf.client_id]["learners"] == 1
    row = next(line for line in badgesmith(site, "hosts", "list").stdout.splitlines()
               if line.startswith(backpack.client_id))
    assert row.split()[1:4] == ["revoked", done["revoked_at"][:10], "0"]

    # Idempotent: a notice, exit 0, the first date kept.
    again = badgesmith(site, "hosts", "revoke", backpack.client_id)
    assert again.stdout == "" and "already revoked" in again.stderr
    repeat = as_json(site, "hosts", "revoke", backpack.client_id)
    assert repeat["changed"] is False and repeat["revoked_at"] == done["revoked_at"]


def test_revoking_an_unknown_host_is_a_clear_error(site):
    Host(site)
    for client_id in ("0" * 32, "x" * 500, "Example Backpack"):  # by client id only: names are the hosts' own
        error = as_json(site, "hosts", "revoke", client_id, code=2)
        assert error["code"] == "CLIENT_NOT_FOUND" and "badgesmith hosts list" in error["message"], error
    failed = badgesmith(site, "hosts", "revoke", "0" * 32, code=2)
    assert failed.stderr.startswith("error [CLIENT_NOT_FOUND]: No host is registered here")
    assert all(host["revoked_at"] is None for host in as_json(site, "hosts", "list"))


def test_hosts_on_an_instance_with_nothing_registered_print_a_header_row(tmp_path):
    site = serve_site(tmp_path / "instance")
    try:
        site.home = Path(tmp_path / "instance")
        assert badgesmith(site, "hosts", "list").stdout.splitlines() == [
            "CLIENT ID  STATE  LEARNERS  REGISTERED  LAST USED  NAME  SITE", "0 host(s)"]
    finally:
        site.stop()


def test_in_an_associations_folder_a_members_connections_are_those_of_their_record(tmp_path):
    """At the association's site the learner's page is their association record; staff see and withdraw the
    hosts listed there, the member found by their address across the divisions."""
    from datetime import date

    from issuer.awarding.awards import issue_single
    from issuer.awarding.issuing import IssueRequest
    from tests.issuer.association.three_divisions import build_association

    def build(home, base_url):
        built = build_association(tmp_path, association_url=base_url)
        issue_single(built.youth, "storytime-early-literacy", IssueRequest(email=JANE, name="Jane Doe",
                                                                           date=date(2025, 10, 15)))
        built.close()
        return {}

    site = serve_site(tmp_path / "association", build=build)
    try:
        site.home = tmp_path / "association"
        backpack = Host(site)
        session = backpack.connect(JANE)
        assert [c["name"] for c in as_json(site, "hosts", "connections", "--email", JANE)] == ["Example Backpack"]
        assert _hosts(site)[backpack.client_id]["learners"] == 1
        assert as_json(site, "hosts", "withdraw", backpack.client_id, "--email", JANE)["changed"] is True
        _unauthorized(backpack.credentials(session))
        assert as_json(site, "hosts", "connections", "--email", JANE) == []
    finally:
        site.stop()


def test_hosts_list_and_revoke_on_each_database(tmp_path, db_url):
    """The counting query (learners with a working grant, per host) and the revocation on SQLite and PostgreSQL."""
    from tests.issuer.web.test_ob_api_connected_apps import _instance_on

    site = serve_site(tmp_path / "instance", build=_instance_on(db_url))
    try:
        site.home = tmp_path / "instance"
        backpack, shelf = Host(site), Host(site, SHELF)
        jane, sam = backpack.connect(JANE), backpack.connect(SAM)
        shelf.connect(JANE)
        assert backpack.credentials(jane).status_code == 200
        hosts = {h["client_id"]: h for h in as_json(site, "--db", db_url, "hosts", "list")}
        assert (hosts[backpack.client_id]["learners"], hosts[shelf.client_id]["learners"]) == (2, 1)
        assert hosts[backpack.client_id]["last_used_at"] and not hosts[shelf.client_id]["last_used_at"]
        assert as_json(site, "--db", db_url, "hosts", "withdraw", backpack.client_id, "--email", SAM)["changed"]
        assert {h["client_id"]: h["learners"] for h in as_json(site, "--db", db_url, "hosts", "list")} == {
            backpack.client_id: 1, shelf.client_id: 1}
        assert as_json(site, "--db", db_url, "hosts", "revoke", backpack.client_id)["changed"] is True
        _unauthorized(backpack.credentials(jane))
        assert as_json(site, "--db", db_url, "hosts", "revoke", backpack.client_id)["changed"] is False
        assert [c["name"] for c in as_json(site, "--db", db_url, "hosts", "connections", "--email", JANE)] == [
            "Shelf Portfolio"]
    finally:
        site.stop()
