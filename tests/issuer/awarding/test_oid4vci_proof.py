"""OID4VCI c_nonces on the registry (SQLite and PostgreSQL): issued statelessly, spent once, then forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from errors import Code, InputError
from issuer.awarding.oid4vci_proof import NONCE_TTL, Nonces
from issuer.store.models import Oid4vciNonceRow


def _refused(spend) -> InputError:
    with pytest.raises(InputError) as caught:
        spend()
    assert caught.value.code is Code.NONCE_INVALID and caught.value.oauth_error == "invalid_nonce"
    return caught.value


def test_a_nonce_is_spent_once(issuer, now):
    nonces = Nonces(issuer.registry, secret=issuer.settings.lookup_secret)
    nonce = nonces.issue(now)
    nonces.spend(nonce, now)
    assert "used before" in _refused(lambda: nonces.spend(nonce, now + timedelta(seconds=1))).message
    # Another app over the same database (another worker) knows it was spent.
    again = Nonces(issuer.registry, secret=issuer.settings.lookup_secret)
    _refused(lambda: again.spend(nonce, now))


def test_a_nonce_expires_and_only_this_issuer_makes_them(issuer, now):
    nonces = Nonces(issuer.registry, secret=issuer.settings.lookup_secret)
    nonce = nonces.issue(now)
    assert "expired" in _refused(lambda: nonces.spend(nonce, now + timedelta(seconds=NONCE_TTL))).message
    stranger = Nonces(issuer.registry, secret=b"\x01" * 32).issue(now)
    assert "not issued" in _refused(lambda: nonces.spend(stranger, now)).message
    body, _, mac = nonces.issue(now).rpartition(".")
    later = f"{int(body.split('.')[0], 16) + 3600:x}.{body.split('.', 1)[1]}"
    _refused(lambda: nonces.spend(f"{later}.{mac}", now))  # a stretched expiry breaks the MAC
    for junk in (None, "", 42, "x" * 200, "no-dots-at-all"):
        _refused(lambda: nonces.spend(junk, now))


def test_spent_nonces_are_forgotten_once_they_expire(issuer, now):
    nonces = Nonces(issuer.registry, secret=issuer.settings.lookup_secret)
    for _ in range(3):
        nonces.spend(nonces.issue(now), now)
    later = now + timedelta(seconds=NONCE_TTL + 1)
    nonces.spend(nonces.issue(later), later)
    with issuer.registry.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Oid4vciNonceRow)) == 1
