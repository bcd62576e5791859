"""Where a stored badge stands today — active, revoked, suspended, expired or not yet valid — with the
date and the issuer's reason, in the words the badge page, the certificate and the PDF all use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from issuer.store.models import CredentialRecord
from issuer.store.registry import Registry
from verifier.wording import long_date

_LABELS = {"active": "Valid", "revoked": "Revoked", "suspended": "Suspended", "expired": "Expired",
           "pending": "Not yet valid"}


@dataclass(frozen=True, slots=True)
class BadgeState:
    state: str                 # "active", "revoked", "suspended", "expired" or "pending"
    sentence: str              # "Revoked by the issuer on 6 December 2026."
    since: datetime | None     # when it changed (revoked, suspended, expired) or starts (pending)
    reason: str | None         # the issuer's reason for a revocation or suspension, if it gave one

    @property
    def label(self) -> str:
        return _LABELS[self.state]

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def mark(self) -> str | None:
        """The word stamped across a certificate that is not in force ("REVOKED"); None when active."""
        return None if self.is_active else self.label.upper()


def badge_state(record: CredentialRecord, now: datetime, registry: Registry | None = None) -> BadgeState:
    """The state of ``record`` at ``now``; the registry's event log gives the date and reason of a change."""
    if record.status in ("revoked", "suspended"):
        event = None
        if registry is not None:
            event = next((e for e in reversed(registry.events(credential_id=record.id))
                          if e.kind == record.status), None)
        when = f" on {long_date(event.at)}" if event is not None else ""
        sentence = (f"Revoked by the issuer{when}." if record.status == "revoked"
                    else f"Suspended by the issuer{when}; it may be reinstated.")
        return BadgeState(record.status, sentence, event.at if event else None, event.reason if event else None)
    if record.valid_until is not None and record.valid_until < now:
        return BadgeState("expired", f"Expired on {long_date(record.valid_until)}.", record.valid_until, None)
    if record.valid_from > now:
        return BadgeState("pending", f"Not valid until {long_date(record.valid_from)}.", record.valid_from, None)
    return BadgeState("active", "Valid: not revoked or suspended by the issuer.", None, None)


__all__ = ["BadgeState", "badge_state"]
