"""Integrity of related resources (VC Data Model 2.0 §5.3): does each digest match the resource?

A credential may pin other documents — an image, a context, a syllabus — by
listing them in ``relatedResource`` with a ``digestSRI`` (Subresource
Integrity: ``sha384-<base64>``) and/or a ``digestMultibase`` (a multibase
multihash; a bare 32/48/64-byte digest is read as SHA-256/384/512 because
suite fixtures and some issuers write it that way). The spec says a verifier
MUST produce an error when a digest does not match the retrieved resource.

Resources are retrieved through the injected fetch, so the documents folder,
the offline switch and the network guard (https only, no private addresses,
size caps) all apply. A resource that cannot be retrieved is not a failure —
the credential's own signature is intact — but it is reported as unchecked.
At most ``MAX_CHECKED`` resources are fetched per credential, at once, and
the verification waits for them at most ``FETCH_BUDGET_S`` seconds in all, so
a hostile credential can neither make one verification fetch hundreds of URLs
nor hold it (and a web worker) for minutes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Container

import base58

from errors import BadgesmithError, Code
from verifier.data_model import InvalidCredential, as_list
from verifier.turns import waiting

MAX_CHECKED = 5
FETCH_BUDGET_S = 10.0  # all related resources of one credential, fetched at once
_SRI_ALGORITHMS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_SRI_STRENGTH = {"sha256": 1, "sha384": 2, "sha512": 3}
# Multihash codes (multiformats table) with their digest lengths.
_MULTIHASH = {0x12: ("sha256", 32), 0x20: ("sha384", 48), 0x13: ("sha512", 64)}
_RAW_LENGTH = {32: "sha256", 48: "sha384", 64: "sha512"}
_SRI_EXPRESSION = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})(\?.*)?$")
_B58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")


@dataclass(frozen=True, slots=True)
class RelatedResourceReport:
    """What comparing a credential's related resources found."""

    checked: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = field(default=())  # "url: why"

    def notes(self) -> list[str]:
        """Warning sentences for resources whose digests could not be compared."""
        return [f"The related resource {note} — its digest was not checked." for note in self.unchecked]


def _b64_any(text: str) -> bytes | None:
    # SRI is standard base64; fixtures in the wild use the url-safe alphabet.
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _sri_digests(value: str) -> list[tuple[str, bytes]]:
    """The strongest-algorithm (algorithm, digest) pairs of one SRI metadata string (SRI §3.3.3)."""
    pairs = []
    for expression in value.split():
        match = _SRI_EXPRESSION.match(expression)
        digest = _b64_any(match.group(2)) if match else None
        if match and digest is not None:
            pairs.append((match.group(1), digest))
    if not pairs:
        return []
    strongest = max(_SRI_STRENGTH[algorithm] for algorithm, _ in pairs)
    return [pair for pair in pairs if _SRI_STRENGTH[pair[0]] == strongest]


def _multibase_digest(value: str) -> tuple[str, bytes] | None:
    """(algorithm, digest) of a ``u``/``z`` multibase multihash, or of a bare digest of a known length."""
    if not 2 <= len(value) <= 200:  # a digest is at most 66 bytes; base58 decoding is quadratic
        return None
    body = value[1:]
    if value[0] == "u":
        data = _b64_any(body) if "+" not in body and "/" not in body else None
    elif value[0] == "z" and _B58.match(body):
        data = base58.b58decode(body)
    else:
        data = None
    if data is None:
        return None
    if len(data) >= 2 and data[0] in _MULTIHASH:
        algorithm, length = _MULTIHASH[data[0]]
        if data[1] == length and len(data) == length + 2:
            return algorithm, data[2:]
    algorithm = _RAW_LENGTH.get(len(data))
    return (algorithm, data) if algorithm else None


def digests_match(data: bytes, *, sri: Any = None, multibase: Any = None) -> bool:
    """True when every digest given (one or a list of each kind) matches ``data``; unreadable ones do not."""
    computed: dict[str, bytes] = {}

    def matches(algorithm: str, digest: bytes) -> bool:
        if algorithm not in computed:
            computed[algorithm] = _SRI_ALGORITHMS[algorithm](data).digest()
        return computed[algorithm] == digest

    for value in as_list(sri):
        pairs = _sri_digests(value) if isinstance(value, str) else []
        if not any(matches(algorithm, digest) for algorithm, digest in pairs):
            return False
    for value in as_list(multibase):
        parsed = _multibase_digest(value) if isinstance(value, str) else None
        if parsed is None or not matches(*parsed):
            return False
    return True


def compare_related_resources(credential: dict[str, Any], fetch: Callable[[str], bytes], *,
                              contexts: Container[str] = (), budget: float = FETCH_BUDGET_S) -> RelatedResourceReport:
    """Fetch each ``relatedResource`` (at most ``MAX_CHECKED``) and compare it with its digests.

    Entries without an ``id`` string or without any digest are the data model
    check's business and are skipped here. URLs in ``contexts`` (the pinned
    JSON-LD contexts) are never fetched: contexts never come from the network,
    and the pinned copies are JSON-equal, not byte-equal, to what is served.
    """
    checked: list[str] = []
    mismatched: list[str] = []
    unchecked: list[str] = []
    entries = [entry for entry in as_list(credential.get("relatedResource"))
               if isinstance(entry, dict) and isinstance(entry.get("id"), str)
               and (entry.get("digestSRI") is not None or entry.get("digestMultibase") is not None)]
    wanted = []
    for position, entry in enumerate(entries):
        shown = entry["id"][:200]
        if entry["id"] in contexts:
            unchecked.append(f"{shown} is a JSON-LD context, which Badgesmith never fetches")
        elif position >= MAX_CHECKED:
            unchecked.append(f"{shown}: only the first {MAX_CHECKED} related resources are fetched")
        else:
            wanted.append(entry)
    for entry, outcome in zip(wanted, _fetch_all([e["id"] for e in wanted], fetch, budget)):
        shown = entry["id"][:200]
        if outcome is None:
            unchecked.append(f"{shown} did not answer within {budget:g} s")
        elif isinstance(outcome, BadgesmithError):
            unchecked.append(f"{shown} could not be retrieved ({outcome.message.rstrip('.')})")
        else:
            checked.append(entry["id"])
            if not digests_match(outcome, sri=entry.get("digestSRI"), multibase=entry.get("digestMultibase")):
                mismatched.append(entry["id"])
    return RelatedResourceReport(tuple(checked), tuple(mismatched), tuple(unchecked))


def _fetch_all(urls: list[str], fetch: Callable[[str], bytes],
               budget: float) -> list[bytes | BadgesmithError | None]:
    """Fetch ``urls`` at once, waiting at most ``budget`` seconds in all (None: no answer in time).

    A public verifier must answer within a web worker's timeout whatever a
    credential points at; daemon threads let a late fetch end on its own
    deadline without holding up the answer (or the CLI's exit).
    """
    results: list[bytes | BadgesmithError | None] = [None] * len(urls)

    def one(index: int, url: str) -> None:
        try:
            results[index] = fetch(url)
        except BadgesmithError as error:
            results[index] = error

    if len(urls) == 1:  # nothing to overlap: no thread (the fetcher has its own deadline)
        one(0, urls[0])
        return results
    threads = [threading.Thread(target=one, args=(i, url), daemon=True) for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + budget
    with waiting():  # in a threaded server, other verifications take their turn meanwhile (verifier.turns)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    return list(results)


def require_matching_related_resources(credential: dict[str, Any], fetch: Callable[[str], bytes], *,
                                       contexts: Container[str] = ()) -> None:
    """Raise ``RELATED_RESOURCE_MISMATCH`` when a retrievable related resource does not match its digest."""
    report = compare_related_resources(credential, fetch, contexts=contexts)
    if report.mismatched:
        raise InvalidCredential(Code.RELATED_RESOURCE_MISMATCH, mismatch_sentence(report.mismatched[0]),
                                rule="relatedResource", url=report.mismatched[0][:200])


def mismatch_sentence(url: str) -> str:
    """The one readable sentence for a related resource that changed."""
    return (f"The related resource {url[:200]} does not match the digest in the credential: "
            "it changed after the credential was issued, or the digest is wrong.")


__all__ = ["FETCH_BUDGET_S", "MAX_CHECKED", "RelatedResourceReport", "compare_related_resources", "digests_match",
           "mismatch_sentence", "require_matching_related_resources"]
