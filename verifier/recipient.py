"""Recipient identity: the OB 3.0 IdentityHash format and matching an e-mail to it.

The reader owns the format (STYLE.md): ``issuer.recipient`` hashes with
``identity_hash`` from here, so what the issuer writes and what the verifier
compares can never drift apart.

IdentityHash (OB B.7): ``"sha256$" + hex(SHA-256(UTF-8(identifier + salt)))``,
also ``md5$…``; hex in either case. With ``hashed: false`` the identifier is
stored in plain text in ``identityHash`` (OB §9.3).

E-mail addresses are compared in one normal form, ``normalise_email``
(stripped, Unicode NFC, lower-cased), which is also what the issuer hashes:
an address typed in NFD (macOS pastes ``jose\u0301@…``) or in capitals still
matches, and so does a ``mailto:`` subject id.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

_ALGORITHMS = {"sha256": hashlib.sha256, "md5": hashlib.md5}


def normalise_email(text: str) -> str:
    """The normal form of an e-mail address: stripped of whitespace, Unicode NFC, lower-cased.

    The one normalisation both sides use: ``issuer.recipient`` hashes this form
    (after checking the address is usable), the verifier compares it. Only
    ``str.lower`` (not ``casefold``): credentials already issued were hashed so.
    """
    return unicodedata.normalize("NFC", text.strip()).lower()


def identity_hash(identifier: str, salt: str | None = None, *, algorithm: str = "sha256") -> str:
    """``"<algorithm>$" + hex digest of identifier + salt`` (the salt is appended, as in OB B.7).

    ``identifier`` is hashed exactly as given: normalising it (lower-casing an
    e-mail address) is the caller's decision, made the same way on both sides.
    """
    digest = _ALGORITHMS[algorithm]((identifier + (salt or "")).encode("utf-8")).hexdigest()
    return f"{algorithm}${digest}"


def _candidates(email: str) -> list[str]:
    # Badgesmith hashes the normal form; other issuers may hash the address as
    # the learner typed it (NFC or not). Trying each keeps matching exact per
    # candidate (the spec's rule) while tolerating case and Unicode form.
    stripped = email.strip()
    return list(dict.fromkeys([normalise_email(email), stripped, unicodedata.normalize("NFC", stripped)]))


def matches_identity(identity: dict[str, Any], email: str) -> bool:
    """Whether an IdentityObject names ``email`` (OB §9.3).

    Only ``identityType: "emailAddress"`` objects can match. Hashed objects are
    compared by re-hashing each candidate spelling of ``email`` with the
    object's ``salt`` (absent salt = unsalted), for ``sha256$`` and ``md5$``
    hashes, hex case-insensitively; ``hashed: false`` objects compare the plain
    address in its normal form. Anything malformed simply does not match.
    """
    if not isinstance(identity, dict) or identity.get("identityType") != "emailAddress":
        return False
    value, hashed = identity.get("identityHash"), identity.get("hashed")
    if not isinstance(value, str) or not isinstance(email, str) or not email.strip():
        return False
    if hashed is False:
        return _same_address(value, email)
    if hashed is not True:
        return False
    algorithm, sep, expected = value.partition("$")
    algorithm = algorithm.lower()
    if not sep or algorithm not in _ALGORITHMS:
        return False
    salt = identity.get("salt")
    if salt is not None and not isinstance(salt, str):
        return False
    expected = expected.strip().lower()
    return any(
        hmac.compare_digest(identity_hash(candidate, salt, algorithm=algorithm).partition("$")[2].encode(),
                            expected.encode())
        for candidate in _candidates(email)
    )


def _same_address(value: str, email: str) -> bool:
    return hmac.compare_digest(normalise_email(value).encode("utf-8", "replace"),
                               normalise_email(email).encode("utf-8", "replace"))


def matches_subject(subject: dict[str, Any], email: str) -> bool:
    """Whether a credentialSubject names ``email``: a ``mailto:`` id, or an IdentityObject in ``identifier``.

    Accepts ``identifier`` as a list or, as compacted JSON-LD writes it, a single object.
    """
    if not isinstance(subject, dict) or not isinstance(email, str) or not email.strip():
        return False
    subject_id = subject.get("id")
    if isinstance(subject_id, str) and subject_id[:7].lower() == "mailto:":
        if _same_address(unquote(subject_id[7:].split("?", 1)[0]), email):
            return True
    identifiers: Any = subject.get("identifier")
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    if not isinstance(identifiers, Iterable) or isinstance(identifiers, (str, bytes)):
        return False
    return any(matches_identity(item, email) for item in identifiers)


__all__ = ["identity_hash", "matches_identity", "matches_subject", "normalise_email"]
