"""Where a stored badge stands today — active, revoked, suspended, expired or not yet valid — with the
date and the issuer's reason, in the words the badge page, the certificate and the PDF all use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from issuer.awarding.issuing import renewals_of
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
    renewal: CredentialRecord | None = None  # a certification's next cycle, once it was renewed

    @property
    def label(self) -> str:
        return _LABELS[self.state]

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def mark(self) -> str | None:
        """The word stamped across a certificate that is not in force ("REVOKED"); None when active, and when
        its validity starts later (an early renewal): a printed certificate outlives that day, and its dates
        line says when it starts."""
        return None if self.state in ("active", "pending") else self.label.upper()


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
    renewal = _renewal(record, registry)
    if record.valid_until is not None and record.valid_until < now:
        return BadgeState("expired", f"Expired on {long_date(record.valid_until)}.{_next_cycle(renewal)}",
                          record.valid_until, None, renewal)
    if record.valid_from > now:
        if (record.award_key or "").startswith("renews:"):
            return BadgeState("pending", f"Renewed on {long_date(award_date(record))}: this cycle runs from "
                              f"{_cycle(record)}; until then the previous certification is in force.",
                              record.valid_from, None)
        return BadgeState("pending", f"Not valid until {long_date(record.valid_from)}.", record.valid_from, None)
    return BadgeState("active", f"Valid: not revoked or suspended by the issuer.{_next_cycle(renewal)}", None, None,
                      renewal)


def award_date(record: CredentialRecord) -> date:
    """The day the credential was awarded: its award date, and never after the day it was stored (a renewal
    issued before awards and cycles were told apart carries its cycle's future start as its date)."""
    return min(record.issued_on, record.created_at.date())


def _renewal(record: CredentialRecord, registry: Registry | None) -> CredentialRecord | None:
    """The renewal of a certification, if it has one (one query, for certifications only)."""
    if registry is None or record.valid_until is None or record.achievement is None or record.lookup_key is None:
        return None
    held = registry.find_credentials(record.issuer_id, achievement=record.achievement, lookup_key=record.lookup_key)
    return renewals_of(held).get(record.id)


def _cycle(record: CredentialRecord) -> str:
    until = f" to {long_date(record.valid_until)}" if record.valid_until else ""
    return f"{long_date(record.valid_from)}{until}"


def _next_cycle(renewal: CredentialRecord | None) -> str:
    return "" if renewal is None else (f" Renewed on {long_date(award_date(renewal))}: the next cycle runs from "
                                       f"{_cycle(renewal)}.")


__all__ = ["BadgeState", "award_date", "badge_state"]
