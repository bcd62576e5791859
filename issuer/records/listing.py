"""What was issued, as plain rows: ``badgesmith list`` and the CEU totals of ``badgesmith report``
(without ``--by``; the grouped reports are ``issuer.records.reports``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from errors import Code, InputError
from issuer.awarding.issuing import Issuer
from issuer.badge.recipient import lookup_key, normalise_email
from issuer.store.models import CredentialRecord


# What a credential is now, for people: its stored status, or "expired" for an active one past its validUntil.
CREDENTIAL_STATES = ("active", "revoked", "suspended", "expired")
# The columns of ``badgesmith list``'s table: (header, row key).
LIST_COLUMNS = (("ISSUED", "issued_on"), ("STATE", "state"), ("ACHIEVEMENT", "achievement"),
                ("RECIPIENT", "recipient"), ("ID", "id"))


def _state(record: CredentialRecord, now: datetime) -> str:
    if record.status == "active" and record.valid_until is not None and record.valid_until <= now:
        return "expired"
    return record.status


def credential_rows(issuer: Issuer, *, achievement: str | None = None, email: str | None = None,
                    state: str | None = None, since: date | None = None,
                    limit: int | None = None) -> list[dict[str, Any]]:
    """Issued credentials as plain rows for ``badgesmith list``, oldest first: only ``state`` (one of
    ``CREDENTIAL_STATES``), only those issued on or after ``since``, and of those the ``limit`` newest."""
    if state is not None and state not in CREDENTIAL_STATES:
        raise InputError(Code.USAGE, f"--status {state!r} is not one of {', '.join(CREDENTIAL_STATES)}.")
    if limit is not None and limit < 0:
        raise InputError(Code.USAGE, f"--limit {limit} is negative: give how many credentials to show.")
    key = lookup_key(normalise_email(email), issuer.settings.lookup_secret) if email else None
    now = issuer.now()
    records = [(r, _state(r, now)) for r in issuer.registry.find_credentials(
        issuer.issuer_id, achievement=achievement, lookup_key=key, since=since,
        status="active" if state == "expired" else state)]
    records = [(r, s) for r, s in records if state is None or s == state]
    if limit is not None:
        records = records[len(records) - limit:] if limit else []
    return [{"id": r.id, "achievement": r.achievement, "recipient": r.recipient_name, "credits": r.credits,
             "issued_on": r.issued_on.isoformat(), "valid_until": r.valid_until.isoformat() if r.valid_until else None,
             "status": r.status, "state": s, "format": r.format, "organization": r.organization,
             "page": issuer.credential_page(r.id)}
            for r, s in records]


def instance_status(issuer: Issuer) -> dict[str, Any]:
    """``badgesmith status``: the instance's name, issuer and URL, its keys, achievements and credentials
    counted by state (``CREDENTIAL_STATES``)."""
    now = issuer.now()
    counts = dict.fromkeys(CREDENTIAL_STATES, 0)
    for record in issuer.registry.find_credentials(issuer.issuer_id):
        counts[_state(record, now)] += 1
    settings = issuer.settings
    return {"name": settings.name, "home": str(settings.home), "issuer": issuer.did, "url": settings.url,
            "keys": len(issuer.registry.list_keys(issuer.issuer_id)) + len(settings.jwt_keys),
            "current_key": settings.key_id, "achievements": len(issuer.registry.list_achievements(issuer.issuer_id)),
            "credentials": {"total": sum(counts.values()), **counts}}


def credit_report(issuer: Issuer, *, since: date | None, until: date | None) -> dict[str, Any]:
    """CEUs awarded per achievement and per learner between ``since`` and ``until``."""
    data = issuer.registry.report(issuer.issuer_id, since=since, until=until)
    names = {r.slug: r.definition["ob"]["name"] for r in issuer.registry.list_achievements(issuer.issuer_id)}
    return {
        "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "by_achievement": [{"achievement": a.achievement, "name": names.get(a.achievement, a.achievement),
                            "credentials": a.credentials, "ceus": a.credits} for a in data.by_achievement],
        "by_learner": [{"lookup_key": t.lookup_key, "email": t.recipient_email, "name": t.recipient_name,
                        "credentials": t.credentials, "ceus": t.credits} for t in data.by_learner],
    }


__all__ = ["CREDENTIAL_STATES", "LIST_COLUMNS", "credential_rows", "credit_report", "instance_status"]
