"""The instance's own published documents, by URL: signed status lists, the DID document, the profile.

The web app serves them over HTTP, and its verifier reads them straight from
here (``instance_documents``) instead of fetching its own URLs — a server
never needs to reach itself, and a laptop demo on ``http://127.0.0.1`` works
although the verifier's network policy refuses plain http and loopback.

In an association (README "verify inside an instance"), the association and
its divisions share one database, so each of them also answers for the others
what that database holds: their status lists as their own issuer signed them
(kept by ``issuer.awarding.status_changes.publish_status_lists``, served only
while current), their did:web documents (public keys only) and their stored
signed credentials at badge URLs. Nothing is signed here for another issuer.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Callable

from errors import Code, UpstreamError
from issuer.awarding.issuing import Issuer
from issuer.instance.settings import MAX_SETTINGS_BYTES, SETTINGS_FILE
from issuer.store.models import IssuerRecord, StatusListRecord
from keys.did import did_web_document, did_web_url
from keys.ed25519 import PublicKey
from verifier import safe_toml
from verifier.fetch import DocumentNotListed

_STATUS_PATH = re.compile(r"/status/(revocation|suspension)/(\d{1,9})")


@lru_cache(maxsize=128)
def signed_status_list_text(record: StatusListRecord, issuer: Issuer) -> str:
    """The list ``record`` signed by ``issuer`` (its own), as served: JSON text."""
    # Keyed by the whole record (bits and version included): re-signed only when the list changes.
    return json.dumps(issuer.status_list_credential(record), indent=2)


# Reading the list row costs a database round trip, more than the rest of a
# verification; the app's own verifier and the HTTP route reuse it for a moment.
# A revocation therefore shows within STATUS_TTL seconds (served lists carry
# max-age=60 anyway).
STATUS_TTL = 2.0
_recent: dict[tuple[int, int, str, int], tuple[float, str | None]] = {}
_recent_lock = threading.Lock()


def signed_status_list(issuer: Issuer, purpose: str, seq: int) -> str | None:
    """The signed BitstringStatusListCredential JSON for list ``purpose``/``seq``, or None."""
    key = (id(issuer), issuer.issuer_id, purpose, seq)
    now = time.monotonic()
    with _recent_lock:
        hit = _recent.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    record = issuer.registry.get_status_list(issuer.issuer_id, purpose, seq)
    text = None if record is None else signed_status_list_text(record, issuer)
    with _recent_lock:
        if len(_recent) > 1024:
            _recent.clear()
        _recent[key] = (now + STATUS_TTL, text)
    return text


def forget_status_lists() -> None:
    """Drop the short-lived cache (after a status change in the same process)."""
    with _recent_lock:
        _recent.clear()
        _members.clear()


def published_document(issuer: Issuer, url: str) -> str | None:
    """The JSON text (or compact VC-JWT) this instance, or a member of its association, publishes at ``url``,
    or None when none of them publishes anything there."""
    base = issuer.settings.url
    if url.startswith(base + "/status/"):
        match = _STATUS_PATH.fullmatch(url[len(base):])
        return signed_status_list(issuer, match.group(1), int(match.group(2))) if match else None
    document = issuer.did_document()
    if document is not None and url == did_web_url(issuer.did):
        return json.dumps(document)
    if url.startswith(base + "/credentials/"):
        return _stored_credential(issuer, issuer.issuer_id, url[len(base):])
    for member in _other_members(issuer):
        if url.startswith(member.url + "/status/"):
            return issuer.registry.current_signed_status_list(url, [member.id])
        if url.startswith(member.url + "/credentials/"):
            return _stored_credential(issuer, member.id, url[len(member.url):])
    return None


def member_did_document(issuer: Issuer, url: str) -> str | None:
    """Another member's did:web document as the shared database knows it (its Ed25519 keys), or None.

    Only a fallback (``instance_documents``): the database does not hold a division's RS256/ES256
    VC-JWT keys, which live in its own folder, so the live document comes first when it can be had.
    """
    for member in _other_members(issuer):
        if member.did.startswith("did:web:") and url == did_web_url(member.did):
            keys = [(k.key_id, PublicKey.from_multikey(k.public_multikey))
                    for k in issuer.registry.list_keys(member.id)]
            return json.dumps(did_web_document(member.did, keys)) if keys else None
    return None


# The badge page, its JSON spelling and the wallet download (issuer/web/pages.py); the baked PNG is not
# served: it is a rendering, and the JSON is the credential it carries.
_BADGE_PATH = re.compile(r"/credentials/([0-9A-Fa-f-]{32,36})(?:\.json|/credential\.json)?")


def _stored_credential(issuer: Issuer, issuer_id: int, path: str) -> str | None:
    match = _BADGE_PATH.fullmatch(path)
    if match is None:
        return None
    try:
        credential_id = f"urn:uuid:{uuid.UUID(match.group(1))}"
    except ValueError:
        return None
    record = issuer.registry.get_credential(credential_id, issuer_id=issuer_id)
    return None if record is None else record.credential  # the signed text as stored, never re-serialised


# Divisions join rarely; the members are read again after this many seconds.
MEMBERS_TTL = 30.0
_members: dict[tuple[int, int], tuple[float, tuple[IssuerRecord, ...]]] = {}


def _other_members(issuer: Issuer) -> tuple[IssuerRecord, ...]:
    """The other issuers of this instance's association (none for an instance outside one)."""
    if issuer.settings.association is None:
        return ()
    key, now = (id(issuer), issuer.issuer_id), time.monotonic()
    with _recent_lock:
        hit = _members.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    others = tuple(m for m in issuer.registry.association_members(issuer.issuer_id) if m.id != issuer.issuer_id)
    with _recent_lock:
        if len(_members) > 64:
            _members.clear()
        _members[key] = (now + MEMBERS_TTL, others)
    return others


def instance_documents(issuer: Issuer, then: Callable[[str], bytes] | None = None) -> Callable[[str], bytes]:
    """A fetch that serves this instance's documents, then asks ``then`` (the verifier's own fetch).

    Without ``then`` it misses (``DocumentNotListed``) on anything else, for ``verifier.fetch.layered``.
    With it, another member's did:web document comes from the network first and from the shared
    database only when the network cannot give it (offline, not yet live): the database lacks a
    division's VC-JWT keys, and a document without them would fail that division's valid JWTs.
    """

    def fetch(url: str) -> bytes:
        bare = url.split("#", 1)[0]
        text = published_document(issuer, bare)
        if text is not None:
            return text.encode("utf-8")
        if then is None:
            raise DocumentNotListed(url[:200], "this instance's published documents (nor its association's)")
        fallback = member_did_document(issuer, bare)
        if fallback is None:
            return then(url)
        try:
            return then(url)
        except UpstreamError as error:
            if error.code not in (Code.FETCH_FAILED, Code.OFFLINE):
                raise  # a refusal (blocked address, budget spent) stands
            return fallback.encode("utf-8")

    return fetch


def holds_issuer(home: Path) -> bool:
    """True when ``home``'s badgesmith.toml describes an issuer (a verifier-only site keeps just [web])."""
    path = home / SETTINGS_FILE
    if not path.is_file():
        return False
    try:
        return "issuer" in safe_toml.loads(safe_toml.read_limited(path, MAX_SETTINGS_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, safe_toml.TOMLDecodeError):
        return True  # opening the instance says what is wrong with it, in its own words


__all__ = ["MEMBERS_TTL", "STATUS_TTL", "forget_status_lists", "holds_issuer", "instance_documents", "member_did_document",
           "published_document", "signed_status_list", "signed_status_list_text"]
