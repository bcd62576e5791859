"""Connected apps on the learner's page: which hosts hold access to their badges, and withdrawing it.

Real flows only: a site on loopback, the learner's browser signing in and consenting (``Browser``), the host
played by Authlib's OAuth2Session (and by plain requests), the learner page read and posted through Flask's
test client against the same instance. After a withdrawal the host's access token is a 401 in the API's
Imsx_StatusInfo shape and its refresh token is invalid_grant; another learner's grants, and hosts the
learner never allowed, cannot be withdrawn from their page.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import jsonschema
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from issuer.records import learners
from issuer.web.oauth_server import SCOPE_BASE
from tests.issuer.web.ob_host import ALL_SCOPES, BACKPACK, JANE, SAM, Browser, serve_site

IMSX = json.loads((Path(__file__).with_name("ob_v3p0_imsx_statusinfo_schema.json")).read_text("utf-8"))
READ = SCOPE_BASE + "credential.readonly"
REDIRECT = BACKPACK["redirect_uris"][0]
SHELF = {**BACKPACK, "client_name": "Shelf Portfolio", "client_uri": "https://shelf.example",
         "logo_uri": "https://shelf.example/logo.png", "tos_uri": "https://shelf.example/terms",
         "policy_uri": "https://shelf.example/privacy", "software_id": "shelf",
         "redirect_uris": ["https://shelf.example/back"], "scope": READ}


@pytest.fixture
def site(tmp_path):
    site = serve_site(tmp_path / "instance")
    yield site
    site.stop()


class Host:
    """A learner's host: registered once, then one OAuth2Session per learner who allows it."""

    def __init__(self, site, metadata=BACKPACK) -> None:
        self.site, self.metadata = site, metadata
        self.registration = requests.post(site.base + "/ob/oauth/register", json=metadata, timeout=30).json()
        self.client_id = self.registration["client_id"]

    def connect(self, email: str) -> OAuth2Session:
        session = OAuth2Session(self.client_id, self.registration["client_secret"], scope=self.metadata["scope"],
                                redirect_uri=self.metadata["redirect_uris"][0], code_challenge_method="S256",
                                token_endpoint_auth_method="client_secret_basic")
        verifier = generate_token(48)
        url, _ = session.create_authorization_url(self.site.base + "/ob/oauth/authorize", code_verifier=verifier)
        location = Browser(self.site, email).authorize(url)
        session.fetch_token(self.site.base + "/ob/oauth/token", authorization_response=location,
                            code_verifier=verifier)
        return session

    def credentials(self, session: OAuth2Session) -> requests.Response:
        return session.get(self.site.base + "/ims/ob/v3p0/credentials", timeout=30)

    def refresh(self, refresh_token: str) -> requests.Response:
        return requests.post(self.site.base + "/ob/oauth/token", timeout=30,
                             auth=(self.client_id, self.registration["client_secret"]),
                             data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def _page(site, email: str) -> tuple[str, str]:
    """(the learner page's path, its HTML), as the learner opens it from `badgesmith learner-link`."""
    token, _ = learners.create_link(site.issuer, email)
    path = f"/learners/{token}"
    answer = site.app.test_client().get(path)
    assert answer.status_code == 200
    return path, answer.get_data(as_text=True)


def _withdraw(site, path: str, client_id: str, **headers):
    # As the page's own form posts it: a browser marks it same-origin, and (no referrer) its Origin is "null".
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "null", **headers}
    return site.app.test_client().post(path + "/connected-apps/withdraw", data={"client_id": client_id},
                                       headers={k: v for k, v in headers.items() if v is not None})


def _unauthorized(answer: requests.Response) -> None:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    jsonschema.validate(body, IMSX)
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorizedrequest"
    assert "withdrawing" in body["imsx_description"]


def _tokens(site) -> list[tuple]:
    database = Path(site.issuer.settings.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as db:
        return db.execute("SELECT client_id, email, revoked_at FROM ob_tokens ORDER BY id").fetchall()


def test_the_learner_sees_a_connected_host_and_withdraws_its_access(site):
    path, page = _page(site, JANE)
    assert "No app or badge platform has access to your badges here." in page
    backpack = Host(site)
    session = backpack.connect(JANE)
    _, page = _page(site, JANE)
    assert "Example Backpack" in page and 'href="https://backpack.example"' in page
    assert "read the badges and credentials you hold here" in page and "change your profile here" in page
    assert "not used yet" in page and "Allowed <time" in page
    assert f'name="client_id" value="{backpack.client_id}"' in page
    assert backpack.credentials(session).status_code == 200
    _, page = _page(site, JANE)
    assert "last used <time" in page and "not used yet" not in page

    answer = _withdraw(site, path, backpack.client_id)
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "Access withdrawn" in text and "Example Backpack can no longer reach your badges here" in text
    assert answer.headers["Cache-Control"] == "no-store"
    _unauthorized(backpack.credentials(session))
    refused = backpack.refresh(session.token["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert all(revoked for _, _, revoked in _tokens(site))
    assert "No app or badge platform has access" in _page(site, JANE)[1]

    again = _withdraw(site, path, backpack.client_id)
    assert again.status_code == 200 and "Access was already withdrawn" in again.get_data(as_text=True)

    # Allowing it again is a new grant, listed again; the old tokens stay dead.
    fresh = backpack.connect(JANE)
    assert backpack.credentials(fresh).status_code == 200
    assert "Example Backpack" in _page(site, JANE)[1]
    _unauthorized(backpack.credentials(session))


def test_a_learner_withdraws_only_their_own_grants(site):
    backpack, shelf = Host(site), Host(site, SHELF)
    jane, sam, sam_shelf = backpack.connect(JANE), backpack.connect(SAM), shelf.connect(SAM)
    jane_path, jane_page = _page(site, JANE)
    sam_page = _page(site, SAM)[1]
    assert "Example Backpack" in jane_page and "Shelf Portfolio" not in jane_page
    assert "Example Backpack" in sam_page and "Shelf Portfolio" in sam_page
    before = _tokens(site)

    # Jane's page naming a host only Sam allowed, a host that does not exist, or nothing: 404, nothing revoked.
    for client_id in (shelf.client_id, "0" * 32, "", "x" * 500):
        answer = _withdraw(site, jane_path, client_id)
        assert answer.status_code == 404, client_id
        assert "<html" in answer.get_data(as_text=True).lower()  # the site's error page
    # A post another site's page makes, or an unknown learner link: refused, nothing revoked.
    assert _withdraw(site, jane_path, backpack.client_id, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert _withdraw(site, jane_path, backpack.client_id, **{"Sec-Fetch-Site": None,
                                                             "Origin": "https://evil.example"}).status_code == 403
    assert _withdraw(site, "/learners/" + "A" * 43, backpack.client_id).status_code == 404
    assert _tokens(site) == before
    assert all(backpack.credentials(s).status_code == 200 for s in (jane, sam))
    assert shelf.credentials(sam_shelf).status_code == 200

    # Jane withdraws the backpack: hers stop, Sam's (same host) and Sam's other host go on.
    assert _withdraw(site, jane_path, backpack.client_id).status_code == 200
    _unauthorized(backpack.credentials(jane))
    assert backpack.credentials(sam).status_code == 200 and shelf.credentials(sam_shelf).status_code == 200
    assert backpack.refresh(sam.token["refresh_token"]).status_code == 200
    assert "Example Backpack" in _page(site, SAM)[1]


def test_a_refresh_racing_a_withdrawal_gets_nothing_that_works(site):
    """Six requests refresh with the one refresh token while the learner withdraws: whichever wins, nothing
    the host holds afterwards opens the API, and the page lists nothing."""
    backpack = Host(site)
    session = backpack.connect(JANE)
    path, _ = _page(site, JANE)
    refresh_token, answers = session.token["refresh_token"], []
    start = threading.Barrier(7)

    def refresh() -> None:
        start.wait()
        answers.append(backpack.refresh(refresh_token))

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    start.wait()
    assert _withdraw(site, path, backpack.client_id).status_code == 200
    for thread in threads:
        thread.join()
    assert sum(a.status_code == 200 for a in answers) <= 1
    gained = [a.json() for a in answers if a.status_code == 200]
    for token in [session.token, *gained]:
        answer = requests.get(site.base + "/ims/ob/v3p0/credentials", timeout=30,
                              headers={"Authorization": f"Bearer {token['access_token']}"})
        _unauthorized(answer)
        assert backpack.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    assert "No app or badge platform has access" in _page(site, JANE)[1]


def test_withdrawing_spends_a_code_not_yet_exchanged(site):
    """The learner allowed the host a moment ago and withdraws before it exchanged the code: the code is
    spent, so no new access appears behind the learner's back."""
    backpack = Host(site)
    backpack.connect(JANE)  # an earlier grant, so the host is on the page
    session = OAuth2Session(backpack.client_id, backpack.registration["client_secret"], scope=ALL_SCOPES,
                            redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(site.base + "/ob/oauth/authorize", code_verifier=verifier)
    location = Browser(site, JANE).authorize(url)
    assert _withdraw(site, _page(site, JANE)[0], backpack.client_id).status_code == 200
    refused = requests.post(site.base + "/ob/oauth/token", auth=(backpack.client_id,
                                                                  backpack.registration["client_secret"]),
                            data={"grant_type": "authorization_code", "redirect_uri": REDIRECT,
                                  "code": requests.utils.urlparse(location).query.split("code=")[1].split("&")[0],
                                  "code_verifier": verifier}, timeout=30)
    assert refused.json()["error"] == "invalid_grant"
    assert "No app or badge platform has access" in _page(site, JANE)[1]


def test_a_token_saved_just_after_the_withdrawal_does_not_work(site):
    """The window the race above can only hit by luck, made certain: the host's refresh spends its refresh
    token, the learner withdraws, then the refresh saves its new token. That token is refused, because a
    token is good only while its grant is."""
    from issuer.records.connected_apps import withdraw_app
    from issuer.records.hosted import learner_key

    backpack = Host(site)
    session = backpack.connect(JANE)
    server = site.app.extensions["badgesmith.ob_oauth"]
    save_token = server.save_token

    def withdrawn_first(token, request):
        withdraw_app(site.issuer, learner_key(site.issuer, JANE), backpack.client_id, server.now())
        save_token(token, request)

    server.save_token = withdrawn_first
    try:
        answer = backpack.refresh(session.token["refresh_token"])
    finally:
        del server.save_token
    assert answer.status_code == 200  # the host got a token…
    fresh = answer.json()
    _unauthorized(requests.get(site.base + "/ims/ob/v3p0/credentials", timeout=30,  # …that opens nothing
                               headers={"Authorization": f"Bearer {fresh['access_token']}"}))
    assert backpack.refresh(fresh["refresh_token"]).json()["error"] == "invalid_grant"
    assert "No app or badge platform has access" in _page(site, JANE)[1]


def _instance_on(db_url):
    """A site's builder: an instance on ``db_url`` where Jane holds one credential."""
    from datetime import date

    from issuer.awarding.awards import issue_single
    from issuer.awarding.issuing import IssueRequest, Issuer
    from issuer.instance.folder import init_instance
    from keys.ed25519 import KeyPair
    from keys.keystore import save_key
    from tests.issuer.web.ob_host import ROOT, achievement_id

    def build(home, base_url):
        settings = init_instance(home, name="Lakeshore Library Association", url=base_url, database_url=db_url)
        save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
        issuer = Issuer.open(home)
        try:
            issuer.add_achievement(ROOT / "templates" / "achievements" / "ceu-course.toml")
            issue_single(issuer, achievement_id("ceu-course"), IssueRequest(email=JANE, name="Jane Doe",
                                                                            date=date.today()))
            return {}
        finally:
            issuer.close()

    return build


def _migrate(site, revision: str, *, down: bool) -> None:
    from alembic import command
    from alembic.config import Config

    from issuer.store.registry import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with site.issuer.registry.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_connected_apps_on_each_database_and_grants_made_for_tokens_older_than_them(tmp_path, db_url):
    """The whole round on SQLite and PostgreSQL; then tokens made before migration 0013 (the database taken
    back to 0012 and up again, so the migration makes their grants): listed, and withdrawn like the rest."""
    site = serve_site(tmp_path / "instance", build=_instance_on(db_url))
    try:
        backpack, shelf = Host(site), Host(site, SHELF)
        first, other = backpack.connect(JANE), shelf.connect(JANE)
        sam = backpack.connect(SAM)
        assert backpack.credentials(first).json()["credential"]
        path, page = _page(site, JANE)
        assert "Example Backpack" in page and "Shelf Portfolio" in page
        assert _withdraw(site, path, backpack.client_id).status_code == 200
        _unauthorized(backpack.credentials(first))
        assert backpack.refresh(first.token["refresh_token"]).json()["error"] == "invalid_grant"
        assert "Already" in _withdraw(site, path, backpack.client_id).get_data(as_text=True).title()

        again = backpack.connect(JANE)
        _migrate(site, "0012", down=True)
        _migrate(site, "head", down=False)
        page = _page(site, JANE)[1]
        assert "Example Backpack" in page and "Shelf Portfolio" in page
        assert backpack.credentials(again).status_code == 200 and shelf.credentials(other).status_code == 200
        assert _withdraw(site, path, shelf.client_id).status_code == 200
        _unauthorized(shelf.credentials(other))
        assert backpack.credentials(again).status_code == 200 and backpack.credentials(sam).status_code == 200
        assert "Shelf Portfolio" not in _page(site, JANE)[1]
    finally:
        site.stop()


def test_an_association_members_record_lists_and_withdraws_the_hosts_of_the_association_site(tmp_path):
    """The association's learner record is the same page: a host Jane allowed at the association's site is
    listed there and withdrawn from there."""
    from datetime import date

    from issuer.association.learner_record import create_association_link
    from issuer.association.setup import open_association
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
        backpack = Host(site)
        session = backpack.connect(JANE)
        association = open_association(str(tmp_path / "association"))
        try:
            token, _ = create_association_link(association, JANE)
        finally:
            association.close()
        path = f"/learners/{token}"
        page = site.app.test_client().get(path).get_data(as_text=True)
        assert "Youth Services Division" in page and "Example Backpack" in page
        assert _withdraw(site, path, backpack.client_id).status_code == 200
        _unauthorized(backpack.credentials(session))
        assert "No app or badge platform has access" in site.app.test_client().get(path).get_data(as_text=True)
    finally:
        site.stop()


def test_last_used_is_noted_once_a_minute_and_a_withdrawn_grant_is_forgotten_after_30_days(tmp_path):
    from datetime import datetime, timedelta, timezone

    clock = [datetime.now(timezone.utc)]
    site = serve_site(tmp_path / "instance", NOW=lambda: clock[0])
    database = tmp_path / "instance" / "badgesmith.sqlite3"

    def grants() -> list[tuple]:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT last_used_at, withdrawn_at FROM ob_grants ORDER BY id").fetchall()

    try:
        backpack = Host(site)
        session = backpack.connect(JANE)
        assert grants() == [(None, None)]
        backpack.credentials(session)
        (first, _), = grants()
        clock[0] += timedelta(seconds=30)
        backpack.credentials(session)
        assert grants()[0][0] == first  # not written again within the minute
        clock[0] += timedelta(seconds=31)
        backpack.credentials(session)
        assert grants()[0][0] > first
        path = _page(site, JANE)[0]
        assert _withdraw(site, path, backpack.client_id).status_code == 200
        clock[0] += timedelta(days=31)
        backpack.connect(SAM)  # a new grant prunes: the withdrawn one's tokens went after a day, it after 30
        assert len(grants()) == 1 and grants()[0][1] is None
        assert _withdraw(site, path, backpack.client_id).status_code == 404
    finally:
        site.stop()
