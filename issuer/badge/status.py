"""Bitstring Status List, issuing side: entries for credentials and the list credential.

The bit order and the ``encodedList`` codec belong to ``verifier.status`` (the
reader owns the format); this module only builds the JSON the issuer
publishes. Index allocation and bit flipping are transactional, so they live
in ``issuer.store.registry``. Signing is always injected by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from errors import Code, InputError
from verifier.status import MIN_LIST_SIZE, encode_status_list

Purpose = Literal["revocation", "suspension"]
PURPOSES: tuple[Purpose, ...] = ("revocation", "suspension")

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One allocated slot in a status list, handed to the signing callback."""

    list_url: str
    index: int
    purpose: Purpose

    def to_dict(self) -> dict[str, str]:
        """The ``BitstringStatusListEntry`` to put in ``credentialStatus``."""
        return status_entry(self.list_url, self.index, self.purpose)


def status_entry(list_url: str, index: int, purpose: Purpose) -> dict[str, str]:
    """A ``BitstringStatusListEntry`` for slot ``index`` of the list at ``list_url``.

    ``id`` is ``<list url>#<index>`` (the strict OB schema requires an id on
    ``credentialStatus``, and the spec forbids it being the list URL itself);
    ``statusListIndex`` is a base-10 string as the spec requires.
    """
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InputError(Code.STATUS_ENTRY_INVALID, f"Status list index {index!r} is not a non-negative integer.")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def new_bitstring(size: int = MIN_LIST_SIZE) -> bytes:
    """An all-zero list of ``size`` entries (at least the spec minimum, whole bytes)."""
    if size < MIN_LIST_SIZE or size % 8:
        raise InputError(
            Code.STATUS_LIST_INVALID,
            f"A status list needs a multiple of 8 entries and at least {MIN_LIST_SIZE}; got {size}.",
        )
    return bytes(size // 8)


def build_status_list_credential(
    list_url: str,
    issuer: str | dict[str, Any],
    purpose: Purpose,
    bits: bytes,
    valid_from: datetime,
    *,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` publishing ``bits`` at ``list_url``.

    ``issuer`` is the issuer's id or Profile object; sign the result with the
    same mechanism as the credentials that point at it.
    """
    _check_purpose(purpose)
    if len(bits) * 8 < MIN_LIST_SIZE:
        raise InputError(
            Code.STATUS_LIST_INVALID,
            f"A status list must hold at least {MIN_LIST_SIZE} entries; this one holds {len(bits) * 8}.",
        )
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": _timestamp(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(bits),
        },
    }
    if valid_until is not None:
        credential["validUntil"] = _timestamp(valid_until)
    return credential


def _timestamp(moment: datetime) -> str:
    # A naive datetime is ambiguous; VC 2.0 wants a time zone, so insist on one.
    if moment.tzinfo is None:
        raise InputError(Code.DATE_INVALID, "Status list dates need a time zone (use an aware datetime).")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InputError(
            Code.STATUS_ENTRY_INVALID,
            f"Status purpose {purpose!r} is not supported; use 'revocation' or 'suspension'.",
        )


__all__ = [
    "PURPOSES",
    "Purpose",
    "StatusEntry",
    "build_status_list_credential",
    "new_bitstring",
    "status_entry",
]
