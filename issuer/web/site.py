"""What the blueprints of an issuing site read from the app: its issuer and its clock.

``create_app`` puts the open ``Issuer`` in ``app.extensions["badgesmith"]`` (None on a
verify-only server) and may inject a clock as ``NOW`` (tests move time with it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from errors import Code, NotFound
from issuer.awarding.issuing import Issuer

VERIFY_ONLY = "This server has no issuer instance; it only verifies."


def site_issuer(missing: str = VERIFY_ONLY) -> Issuer:
    """The app's issuer; NotFound (404, ``missing`` as its sentence) on a server that only verifies."""
    issuer = current_app.extensions["badgesmith"].issuer
    if issuer is None:
        raise NotFound(Code.NOT_FOUND, missing)
    return issuer


def site_now() -> datetime:
    """The app's clock: ``NOW`` from the config when injected, else the time in UTC."""
    clock = current_app.config.get("NOW")
    return clock() if clock else datetime.now(UTC)


__all__ = ["VERIFY_ONLY", "site_issuer", "site_now"]
