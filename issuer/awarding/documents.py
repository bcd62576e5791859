"""The instance's own published documents, by URL: signed status lists, the DID document, the profile.

The web app serves them over HTTP, and its verifier reads them straight from
here (``instance_documents``) instead of fetching its own URLs — a server
never needs to reach itself, and a laptop demo on ``http://127.0.0.1`` works
although the verifier's network policy refuses plain http and loopback.
"""

from __future__ import annotations

import json
import re
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

from issuer.awarding.issuing import Issuer
from issuer.instance.settings import MAX_SETTINGS_BYTES, SETTINGS_FILE
from issuer.store.models import StatusListRecord
from keys.did import did_web_url
from verifier import safe_toml
from verifier.fetch import DocumentNotListed

_STATUS_PATH = re.compile(r"/status/(revocation|suspension)/(\d{1,9})")


@lru_cache(maxsize=128)
def _signed(record: StatusListRecord, issuer: Issuer) -> str:
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
    text = None if record is None else _signed(record, issuer)
    with _recent_lock:
        if len(_recent) > 1024:
            _recent.clear()
        _recent[key] = (now + STATUS_TTL, text)
    return text


def forget_status_lists() -> None:
    """Drop the short-lived cache (after a status change in the same process)."""
    with _recent_lock:
        _recent.clear()


def published_document(issuer: Issuer, url: str) -> str | None:
    """The JSON text this instance publishes at ``url``, or None when it publishes nothing there."""
    base = issuer.settings.url
    if url.startswith(base + "/status/"):
        match = _STATUS_PATH.fullmatch(url[len(base):])
        return signed_status_list(issuer, match.group(1), int(match.group(2))) if match else None
    document = issuer.did_document()
    if document is not None and url == did_web_url(issuer.did):
        return json.dumps(document)
    return None


def instance_documents(issuer: Issuer) -> Callable[[str], bytes]:
    """A fetch that serves this instance's documents and misses (``DocumentNotListed``) on anything else."""

    def fetch(url: str) -> bytes:
        text = published_document(issuer, url.split("#", 1)[0])
        if text is None:
            raise DocumentNotListed(url[:200], "this instance's published documents")
        return text.encode("utf-8")

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


__all__ = ["STATUS_TTL", "forget_status_lists", "holds_issuer", "instance_documents", "published_document",
           "signed_status_list"]
