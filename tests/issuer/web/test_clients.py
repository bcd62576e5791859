"""OAuth 2.0 clients: hashed secrets, stateless tokens checked against the client row, the CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import main
from errors import AuthError, Conflict, Forbidden, InputError, NotFound
from issuer.web.clients import Clients, hash_secret, parse_scopes, secret_matches
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import Issuer
from issuer.store.models import ClientRow
from keys.ed25519 import KeyPair
from keys.keystore import save_key

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://badges.example.org"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = init_instance(tmp_path / "inst", name="Lakeshore", url=BASE, email=None, did_web=None,
                             database_url=None)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    return settings.home


@pytest.fixture
def issuer(home):
    issuer = Issuer.open(home)
    yield issuer
    issuer.close()


@pytest.fixture
def clock():
    return {"now": NOW}


@pytest.fixture
def clients(issuer, clock) -> Clients:
    return Clients.for_issuer(issuer, now=lambda: clock["now"])


def _bearer(clients: Clients, scopes: str = "issue,status", name: str = "lms") -> tuple[str, str]:
    created = clients.add(name, scopes)
    return created.record.client_id, f"Bearer {clients.token(created.record.client_id, created.secret).access_token}"


def test_secret_is_stored_only_as_a_salted_scrypt_hash(clients, issuer):
    created = clients.add("lms", "issue")
    with issuer.registry.session(write=False) as s:
        stored = s.scalar(select(ClientRow.secret_hash).where(ClientRow.client_id == created.record.client_id))
    assert created.secret not in stored and stored.startswith("scrypt$16384$8$1$")
    assert secret_matches(created.secret, stored) and not secret_matches(created.secret + "x", stored)
    assert hash_secret("same") != hash_secret("same")  # a fresh salt each time


def test_a_valid_token_grants_its_scopes(clients):
    client_id, bearer = _bearer(clients)
    grant = clients.authorize(bearer, "issue")
    assert grant.client_id == client_id and grant.scopes == {"issue", "status"}


def test_a_narrower_scope_can_be_asked_for(clients):
    created = clients.add("lms", "issue,status")
    token = clients.token(created.record.client_id, created.secret, scope="status")
    assert token.scopes == ("status",)
    with pytest.raises(Forbidden):
        clients.authorize(f"Bearer {token.access_token}", "issue")


def test_tokens_expire_after_ten_minutes(clients, clock):
    _, bearer = _bearer(clients)
    clock["now"] = NOW + timedelta(minutes=9, seconds=59)
    clients.authorize(bearer, "issue")
    clock["now"] = NOW + timedelta(minutes=10)
    with pytest.raises(AuthError) as caught:
        clients.authorize(bearer, "issue")
    assert caught.value.code.value == "TOKEN_EXPIRED" and caught.value.http_status == 401


def test_revoking_a_client_stops_its_tokens_at_once(clients):
    client_id, bearer = _bearer(clients)
    assert clients.revoke("lms").revoked_at == NOW
    with pytest.raises(AuthError) as caught:
        clients.authorize(bearer, "issue")
    assert caught.value.http_status == 401
    with pytest.raises(AuthError):
        clients.token(client_id, "anything")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer bst1.e30.AAAA", "Bearer junk"])
def test_missing_or_forged_tokens_are_401(clients, header):
    with pytest.raises(AuthError) as caught:
        clients.authorize(header, "issue")
    assert caught.value.http_status == 401 and "Bearer" in caught.value.headers["WWW-Authenticate"]


def test_a_token_from_another_instance_secret_is_refused(clients, issuer):
    created = clients.add("lms", "issue")
    other = Clients(issuer.registry, issuer.issuer_id, secret=b"another secret" * 3, audience=BASE,
                    now=lambda: NOW)
    token = other.token(created.record.client_id, created.secret).access_token
    with pytest.raises(AuthError):
        clients.authorize(f"Bearer {token}", "issue")


def test_a_wrong_secret_gets_no_token(clients):
    created = clients.add("lms", "issue")
    with pytest.raises(AuthError) as caught:
        clients.token(created.record.client_id, "guess")
    assert caught.value.oauth_error == "invalid_client"


class CountingScrypt:
    """The real ``hashlib.scrypt``, counting its calls and the cost each was asked for."""

    def __init__(self) -> None:
        self.costs: list[tuple[int, int, int, int]] = []

    def __call__(self, password: bytes, *, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        self.costs.append((n, r, p, dklen))
        return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen)


def test_an_unknown_client_costs_the_same_scrypt_as_a_known_one(issuer):
    """One scrypt of the same n, r, p and length whether the client exists, was revoked, or never did."""
    kdf = CountingScrypt()
    clients = Clients.for_issuer(issuer, now=lambda: NOW, kdf=kdf)
    known = clients.add("lms", "issue")
    revoked = clients.add("leaver", "issue")
    clients.revoke("leaver")
    kdf.costs.clear()
    costs = {}
    for case, client_id in [("known, wrong secret", known.record.client_id), ("revoked", revoked.record.client_id),
                            ("unknown", "0" * 32), ("empty", ""), ("junk", "\x00" * 5000)]:
        with pytest.raises(AuthError):
            clients.token(client_id, "a guess")
        costs[case], kdf.costs[:] = list(kdf.costs), []
    assert costs["known, wrong secret"] == [(2 ** 14, 8, 1, 32)]
    assert all(cost == costs["known, wrong secret"] for cost in costs.values()), costs
    clients.token(known.record.client_id, known.secret)
    assert kdf.costs == [(2 ** 14, 8, 1, 32)]


def test_client_names_are_unique_and_scopes_checked(clients):
    clients.add("lms", "issue")
    with pytest.raises(Conflict):
        clients.add("lms", "status")
    with pytest.raises(InputError):
        clients.add("other", "admin")
    with pytest.raises(InputError):
        clients.add("", "issue")
    with pytest.raises(NotFound):
        clients.revoke("nobody")
    assert parse_scopes("status, issue") == ("issue", "status")


def test_cli_adds_lists_and_revokes_clients(home):
    runner = CliRunner()
    added = runner.invoke(main, ["--home", str(home), "clients", "add", "registrar", "--scopes", "issue",
                                 "--json"], obj={}, catch_exceptions=False)
    assert added.exit_code == 0, added.output
    created = json.loads(added.output)
    assert created["scopes"] == ["issue"] and len(created["client_secret"]) >= 40
    listed = runner.invoke(main, ["--home", str(home), "clients", "list"], obj={}, catch_exceptions=False)
    assert created["client_id"] in listed.output and "active" in listed.output
    assert created["client_secret"] not in listed.output
    revoked = runner.invoke(main, ["--home", str(home), "clients", "revoke", "registrar"], obj={},
                            catch_exceptions=False)
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    again = runner.invoke(main, ["--home", str(home), "clients", "list", "--json"], obj={}, catch_exceptions=False)
    assert json.loads(again.output)[0]["revoked_at"]
    missing = runner.invoke(main, ["--home", str(home), "clients", "revoke", "nobody"], obj={},
                            catch_exceptions=False)
    assert missing.exit_code == 2 and "CLIENT_NOT_FOUND" in missing.output
