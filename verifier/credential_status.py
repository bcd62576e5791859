"""The ``status`` check: is the credential revoked or suspended, per its ``credentialStatus``?

Supported entries: ``BitstringStatusListEntry`` (W3C), ``StatusList2021Entry``
(its predecessor) and ``1EdTechRevocationList`` (named by OB 3.0 itself).

A list is a ``BitstringStatusListCredential`` (or its StatusList2021
predecessor) as JSON with an embedded proof, or as a VC-JWT (Bitstring Status
List §3.1 allows any securing mechanism): a body that is a compact JWS —
whatever the ``Content-Type`` said, ``application/vc+jwt`` or
``application/jwt`` — is verified like any VC-JWT credential (the issuer's
key, ``nbf``/``exp``, the algorithm allow-list) and its bits then used.

Policy (README): the status list must itself verify — its proof, its validity
period — and must be issued by the credential's own issuer (the Bitstring
Status List spec allows another issuer; Badgesmith does not, since otherwise
anyone could "un-revoke" a credential by pointing at their own list). A list
that cannot be fetched is ``STATUS_UNREACHABLE``: a failure, or a warning
when the caller allows unreachable status.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from errors import BadgesmithError, Code, CredentialError, UpstreamError
from keys.json_text import find_lone_surrogate
from keys.vc_jwt import decode_jwt, extract_credential
from verifier.proofs import check_data_integrity, check_jwt, issuer_id
from verifier.sources import sniff
from verifier.status import MIN_LIST_SIZE, bit_is_set, decode_status_list
from verifier.validity import check_window

_BITSTRING = ("BitstringStatusListEntry", "BitstringStatusListCredential", "BitstringStatusList")
_SL2021 = ("StatusList2021Entry", "StatusList2021Credential", "StatusList2021")
_MAX_LIST_DOCUMENT = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StatusResult:
    """One status entry's outcome."""

    outcome: str  # passed / failed / warning
    code: str
    message: str


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class _ListCache:
    """Status lists whose proof already verified, by content hash (a list is shared by thousands
    of credentials; re-verifying its signature for each would double the cost of verification).
    The issuer and the validity window are still checked on every use."""

    def __init__(self, size: int = 64, ttl: float = 300.0) -> None:
        self._items: OrderedDict[Any, tuple[float, dict[str, Any]]] = OrderedDict()
        self._size, self._ttl, self._lock = size, ttl, threading.Lock()

    def get(self, key: Any) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Any, value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_VERIFIED_LISTS = _ListCache()


def _fetch_json(url: str, fetch: Callable[[str], bytes]) -> dict[str, Any]:
    return _parse_json(fetch(url), url)


def _parse_json(data: bytes, url: str) -> dict[str, Any]:
    if len(data) > _MAX_LIST_DOCUMENT:
        raise CredentialError(Code.STATUS_LIST_INVALID, f"The status list at {url} is too large.")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CredentialError(Code.STATUS_LIST_INVALID,
                              f"The status list at {url} is not JSON.") from exc
    if not isinstance(document, dict):
        raise CredentialError(Code.STATUS_LIST_INVALID, f"The status list at {url} is not a JSON object.")
    if find_lone_surrogate(document) is not None:
        raise CredentialError(Code.STATUS_LIST_INVALID,
                              f"The status list at {url} holds an unpaired surrogate: it is not valid Unicode text.")
    return document


def _is_compact_jws(data: bytes) -> bool:
    try:
        return sniff(data) == "jwt"
    except BadgesmithError:
        return False


MIRROR_NAME_MIN = 8


def _other_list(list_id: Any, url: str) -> tuple[bool, str] | None:
    """None when the list says it is the one at ``url``; else (a copy of it?, a sentence).

    A list that says it is another list cannot vouch that this credential is not revoked:
    another genuine list of the same issuer (one where this bit is clear), served for this
    URL by a mirror, a documents folder or a redirect, would pass for it. A copy keeps its
    list's name (the last path segment, long enough to be the issuer's random list name:
    DCC publishes copies of its lists that way); the issuer is checked apart. ``url`` is
    the URL the credential names, which a documents folder's index entry matches.
    """
    if list_id == url:
        return None
    name = url.rstrip("/").rsplit("/", 1)[-1]
    if (isinstance(list_id, str) and list_id.startswith("https://") and len(name) >= MIRROR_NAME_MIN
            and list_id.rstrip("/").rsplit("/", 1)[-1] == name):
        return True, f"The list at {url[:200]} is a copy of {list_id[:200]}, the list of the same name it says it is."
    return False, (f"The status list fetched from {url[:200]} says it is {str(list_id)[:200]}, not {url[:200]}, "
                   "so it cannot vouch for this credential.")


class StatusChecker:
    """Checks ``credentialStatus`` entries with the injected fetch, loader and clock."""

    def __init__(self, *, fetch: Callable[[str], bytes], loader: Any, now: datetime,
                 limits: Any, accept_unbound_keys: bool = False) -> None:
        self._fetch = fetch
        self._loader = loader
        self._now = now
        self._limits = limits
        self._accept_unbound = accept_unbound_keys

    def check(self, credential: dict[str, Any]) -> list[StatusResult]:
        """One result per status entry (an empty list when there is none)."""
        entries = credential.get("credentialStatus")
        if entries is None:
            return []
        entries = entries if isinstance(entries, list) else [entries]
        results = []
        for entry in entries:
            try:
                results.append(self._check_entry(entry, credential))
            except UpstreamError as error:
                results.append(StatusResult("failed", Code.STATUS_UNREACHABLE.value,
                                            f"The status list could not be fetched ({error.message.rstrip('.')}), "
                                            "so revocation cannot be ruled out."))
            except BadgesmithError as error:
                results.append(StatusResult("failed", error.code.value, error.message))
        return results

    def _check_entry(self, entry: Any, credential: dict[str, Any]) -> StatusResult:
        if not isinstance(entry, dict):
            raise CredentialError(Code.STATUS_ENTRY_INVALID, "A credentialStatus entry is not an object.")
        kind = entry.get("type")
        if kind in (_BITSTRING[0], _SL2021[0]):
            return self._check_bitstring(entry, credential, _BITSTRING if kind == _BITSTRING[0] else _SL2021)
        if kind == "1EdTechRevocationList":
            return self._check_revocation_list(entry, credential)
        raise CredentialError(Code.STATUS_TYPE_UNSUPPORTED,
                              f"The status type {kind!s:.60} is not supported, so status is unknown.")

    def _check_bitstring(self, entry: dict[str, Any], credential: dict[str, Any],
                         names: tuple[str, str, str]) -> StatusResult:
        purpose = entry.get("statusPurpose")
        url = entry.get("statusListCredential")
        raw_index = entry.get("statusListIndex")
        if not isinstance(url, str) or not isinstance(purpose, str) or not purpose:
            raise CredentialError(Code.STATUS_ENTRY_INVALID,
                                  "The status entry lacks a statusListCredential URL or a statusPurpose.")
        if purpose not in ("revocation", "suspension"):
            # Bitstring Status List also defines refresh and message (and allows others): none of them
            # says whether the credential is revoked or suspended, so the list is not fetched.
            return StatusResult("warning", Code.STATUS_PURPOSE_OTHER.value,
                                f"A status entry has the purpose {purpose[:40]!r}, which says nothing about "
                                "revocation or suspension, so it was not read.")
        # The spec wants a base-10 string; widely used issuers write a number.
        if isinstance(raw_index, bool) or not isinstance(raw_index, (str, int)) or not str(raw_index).isdigit():
            raise CredentialError(Code.STATUS_ENTRY_INVALID,
                                  f"The statusListIndex {raw_index!s:.20} is not a non-negative integer.")
        index = int(raw_index)
        data = self._fetch(url)
        cache_key = (hashlib.sha256(data).digest(), self._accept_unbound, id(self._loader))
        cached = _VERIFIED_LISTS.get(cache_key)
        if cached is None:
            status_list = self._read_list(data, url, names)
        else:
            status_list = cached
        self._check_list_credential(status_list, credential, url, names)
        other = _other_list(status_list.get("id"), url)
        if cached is None:
            _VERIFIED_LISTS.put(cache_key, status_list)
        subject = status_list.get("credentialSubject")
        if not isinstance(subject, dict) or names[2] not in _types(subject.get("type")):
            raise CredentialError(Code.STATUS_LIST_INVALID, f"The document at {url} is not a {names[2]}.")
        if subject.get("statusPurpose") != purpose:
            raise CredentialError(Code.STATUS_LIST_INVALID,
                                  f"The status list at {url} is for {subject.get('statusPurpose')!s:.20}, "
                                  f"not {purpose}.")
        encoded = subject.get("encodedList")
        if not isinstance(encoded, str):
            raise CredentialError(Code.STATUS_LIST_INVALID, f"The status list at {url} has no encodedList.")
        bits = decode_status_list(encoded)
        # The spec calls a list under 131,072 entries an error (weak herd privacy),
        # but widely used issuers (DCC: 100,000) publish them: read it, and say so.
        short = len(bits) * 8 < MIN_LIST_SIZE
        if index >= len(bits) * 8:
            raise CredentialError(Code.STATUS_ENTRY_INVALID,
                                  f"The statusListIndex {index} is outside the list ({len(bits) * 8} entries).")
        if bit_is_set(bits, index):
            if purpose == "revocation":
                return StatusResult("failed", Code.REVOKED.value, "The issuer has revoked this credential.")
            return StatusResult("failed", Code.SUSPENDED.value,
                                "The issuer has suspended this credential (it may be reinstated).")
        if other is not None and not other[0]:  # a set bit is still reported; a clear one proves nothing
            raise CredentialError(Code.STATUS_LIST_INVALID, other[1])
        sentence = "Not revoked." if purpose == "revocation" else "Not suspended."
        code = Code.STATUS_OK if purpose == "revocation" else Code.NOT_SUSPENDED
        if other is not None:
            return StatusResult("warning", code, f"{sentence} ({other[1]})")
        if short:
            return StatusResult("warning", code, f"{sentence} (The list has only {len(bits) * 8} entries, "
                                f"fewer than the {MIN_LIST_SIZE} the spec asks for, which weakens privacy.)")
        return StatusResult("passed", code, sentence)

    def _read_list(self, data: bytes, url: str, names: tuple[str, str, str]) -> dict[str, Any]:
        """The list credential in ``data`` (JSON with a proof, or a VC-JWT) once its proof verified."""
        if len(data) > _MAX_LIST_DOCUMENT:
            raise CredentialError(Code.STATUS_LIST_INVALID, f"The status list at {url} is too large.")
        if not _is_compact_jws(data):
            status_list = _parse_json(data, url)
            self._require_type(status_list, url, names)
            outcome = check_data_integrity(status_list, loader=self._loader, fetch=self._fetch,
                                           accept_unbound_keys=self._accept_unbound, limits=self._limits)
        else:
            token = data.decode("ascii").strip()
            try:
                status_list = extract_credential(decode_jwt(token, max_bytes=_MAX_LIST_DOCUMENT).payload)[0]
            except BadgesmithError as error:
                raise CredentialError(Code.STATUS_LIST_INVALID,
                                      f"The status list at {url} is not a readable VC-JWT: {error.message}") from error
            self._require_type(status_list, url, names)
            outcome = check_jwt(token, status_list, fetch=self._fetch, accept_unbound_keys=self._accept_unbound,
                                require_nbf=False)
            status_list = outcome.credential or status_list  # with nbf/exp folded into validFrom/validUntil
        if outcome.errors:
            raise CredentialError(Code.STATUS_LIST_INVALID,
                                  f"The status list at {url} does not verify: {outcome.errors[0].message}")
        return status_list

    @staticmethod
    def _require_type(status_list: dict[str, Any], url: str, names: tuple[str, str, str]) -> None:
        if names[1] not in _types(status_list.get("type")):
            raise CredentialError(Code.STATUS_LIST_INVALID,
                                  f"The document at {url} is not a {names[1]}, so status cannot be established.")

    def _check_list_credential(self, status_list: dict[str, Any], credential: dict[str, Any],
                               url: str, names: tuple[str, str, str]) -> None:
        if issuer_id(status_list) != issuer_id(credential):
            raise CredentialError(
                Code.STATUS_LIST_INVALID,
                f"The status list at {url} was issued by {issuer_id(status_list)!s:.100}, "
                "not by the credential's issuer, so it cannot speak for it.")
        window = check_window(status_list, self._now)
        if window is not None:
            raise CredentialError(Code.STATUS_LIST_INVALID,
                                  f"The status list at {url} is not current: {window.message}")

    def _check_revocation_list(self, entry: dict[str, Any], credential: dict[str, Any]) -> StatusResult:
        url = entry.get("id")
        if not isinstance(url, str):
            raise CredentialError(Code.STATUS_ENTRY_INVALID, "The 1EdTechRevocationList entry has no id URL.")
        document = _fetch_json(url, self._fetch)
        revoked = document.get("revokedCredential", [])
        for item in revoked if isinstance(revoked, list) else []:
            if isinstance(item, dict) and item.get("id") == credential.get("id") and item.get("revoked", True):
                return StatusResult("failed", Code.REVOKED.value, "The issuer has revoked this credential.")
        return StatusResult("passed", Code.STATUS_OK, "Not on the issuer's revocation list.")


__all__ = ["StatusChecker", "StatusResult"]
