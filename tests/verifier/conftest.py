"""Fixtures for verifier tests that need a real credential: an issuer key and an unsigned Open Badge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.recipient import identity_object
from keys.ed25519 import KeyPair

ISSUED = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def issuer_key() -> KeyPair:
    """The issuer's Ed25519 key (did:key), the same every run."""
    return KeyPair.from_seed(bytes(range(32)))


@pytest.fixture
def storytime(issuer_key: KeyPair) -> Callable[..., dict[str, Any]]:
    """``storytime(email=…)``: an unsigned OB 3.0 credential for the "Storytime" course, issued on 1 March 2026."""

    def build(email: str = "ana@example.org") -> dict[str, Any]:
        achievement = {"id": "https://badges.example.org/achievements/storytime", "type": ["Achievement"],
                       "name": "Storytime", "description": "A webinar.", "criteria": {"narrative": "Attend."},
                       "achievementType": "Course"}
        return build_credential(
            issuer={"id": issuer_key.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
            achievement=achievement, award=Award(credits_earned=1.5), now=ISSUED,
            recipient=Recipient(identity=identity_object(email, salt="0" * 32)))

    return build
