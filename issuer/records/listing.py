"""What was issued, as plain rows: ``badgesmith list`` and the CEU totals of ``badgesmith report``
(without ``--by``; the grouped reports are ``issuer.records.reports``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from issuer.awarding.issuing import Issuer
from issuer.badge.recipient import lookup_key, normalise_email


def credential_rows(issuer: Issuer, *, achievement: str | None = None, email: str | None = None) -> list[dict[str, Any]]:
    """Issued credentials as plain rows for ``badgesmith list``."""
    key = lookup_key(normalise_email(email), issuer.settings.lookup_secret) if email else None
    return [{"id": r.id, "achievement": r.achievement, "recipient": r.recipient_name, "credits": r.credits,
             "issued_on": r.issued_on.isoformat(), "valid_until": r.valid_until.isoformat() if r.valid_until else None,
             "status": r.status, "format": r.format, "organization": r.organization,
             "page": issuer.credential_page(r.id)}
            for r in issuer.registry.find_credentials(issuer.issuer_id, achievement=achievement, lookup_key=key)]


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


__all__ = ["credential_rows", "credit_report"]
