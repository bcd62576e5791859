"""The OB API's storage on both databases: one host's whole round (registration, the browser-driven PKCE
flow, getCredentials, upsert then get, refresh, a reused code, revocation) on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from issuer.awarding.awards import issue_single
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.instance.folder import init_instance
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.validate import validate
from tests.issuer.web.ob_host import ALL_SCOPES, BACKPACK, JANE, ROOT, Browser, achievement_id, pkce, serve_site

REDIRECT = BACKPACK["redirect_uris"][0]


def test_a_hosts_whole_round_on_each_database(tmp_path, db_url):
    def build(home, base_url):
        settings = init_instance(home, name="Lakeshore Library Association", url=base_url, database_url=db_url)
        save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
        issuer = Issuer.open(home)
        try:
            issuer.add_achievement(ROOT / "templates" / "achievements" / "ceu-course.toml")
            record = issue_single(issuer, achievement_id("ceu-course"),
                                  IssueRequest(email=JANE, name="Jane Doe", date=date.today())).record
            return {"own": record.id, "text": record.credential}
        finally:
            issuer.close()

    site = serve_site(tmp_path / "instance", build=build)
    try:
        client = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
        verifier, challenge = pkce()
        location = Browser(site).authorize(site.base + "/ob/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
            "scope": ALL_SCOPES, "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}))
        form = {"grant_type": "authorization_code", "code": parse_qs(urlsplit(location).query)["code"][0],
                "redirect_uri": REDIRECT, "code_verifier": verifier}
        auth = (client["client_id"], client["client_secret"])
        token = requests.post(site.base + "/ob/oauth/token", data=form, auth=auth, timeout=30).json()
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        url = site.base + "/ims/ob/v3p0/credentials"
        listing = requests.get(url, headers=bearer, timeout=30)
        assert listing.json()["credential"] == [json.loads(site.ids["text"])]
        # GetOpenBadgeCredentialsResponse: the two arrays, and each credential an OB 3.0 AchievementCredential.
        assert set(listing.json()) == {"credential", "compactJwsString"}
        assert [validate(c) for c in listing.json()["credential"]] == [[]]
        assert listing.headers["X-Total-Count"] == "1"
        # Jane's own badge pushed back: kept once, served once.
        again = requests.post(url, data=site.ids["text"], headers={**bearer, "Content-Type": "application/json"},
                              timeout=60)
        assert again.status_code == 201, again.text
        assert requests.get(url, headers=bearer, timeout=30).headers["X-Total-Count"] == "1"
        fresh = requests.post(site.base + "/ob/oauth/token", auth=auth, timeout=30,
                              data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}).json()
        fresh_bearer = {"Authorization": f"Bearer {fresh['access_token']}"}
        assert requests.get(url, headers=fresh_bearer, timeout=30).status_code == 200
        reused = requests.post(site.base + "/ob/oauth/token", data=form, auth=auth, timeout=30)
        assert reused.json()["error"] == "invalid_grant"
        assert requests.get(url, headers=fresh_bearer, timeout=30).status_code == 401
    finally:
        site.stop()


def test_ended_codes_sign_ins_and_tokens_are_forgotten_after_a_day(tmp_path):
    import sqlite3
    from datetime import datetime, timedelta, timezone

    clock = [datetime.now(timezone.utc)]
    site = serve_site(tmp_path / "instance", NOW=lambda: clock[0])
    database = tmp_path / "instance" / "badgesmith.sqlite3"

    def count(table: str) -> int:
        with sqlite3.connect(database) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def round_trip() -> dict:
        verifier, challenge = pkce()
        location = Browser(site).authorize(site.base + "/ob/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
            "scope": ALL_SCOPES, "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}))
        return requests.post(site.base + "/ob/oauth/token", auth=(client["client_id"], client["client_secret"]),
                             timeout=30, data={"grant_type": "authorization_code", "redirect_uri": REDIRECT,
                                               "code": parse_qs(urlsplit(location).query)["code"][0],
                                               "code_verifier": verifier}).json()

    try:
        client = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
        first = round_trip()
        revoked = round_trip()
        requests.post(site.base + "/ob/oauth/revoke", data={"token": revoked["access_token"]}, timeout=30,
                      auth=(client["client_id"], client["client_secret"]))
        assert (count("ob_codes"), count("ob_sign_ins"), count("ob_tokens")) == (2, 2, 2)
        clock[0] += timedelta(days=2)
        round_trip()
        # The old codes and links are gone, and the revoked token; the first still refreshes (180 days).
        assert (count("ob_codes"), count("ob_sign_ins"), count("ob_tokens")) == (1, 1, 2)
        refreshed = requests.post(site.base + "/ob/oauth/token", timeout=30,
                                  auth=(client["client_id"], client["client_secret"]),
                                  data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
        assert refreshed.status_code == 200
    finally:
        site.stop()
