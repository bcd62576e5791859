"""The ids and URLs an instance publishes, built in one place so that the ids in
credentials are the URLs the web app serves (``profile_url``, ``achievement_url``…).
"""

from __future__ import annotations

import re
import uuid

from errors import Code, ConfigError, InputError
from issuer.badge.status import PURPOSES
from issuer.instance.settings import Settings

_MULTIKEY = re.compile(r"^z[1-9A-HJ-NP-Za-km-z]{40,60}$")


def issuer_did(settings: Settings, public_key_multikey: str) -> str:
    """The issuer's DID: ``did:key:<multikey>`` or ``did:web:<host[:path]>``."""
    if settings.did_method == "web":
        return f"did:web:{settings.did_web}"
    if not _MULTIKEY.match(public_key_multikey or ""):
        raise ConfigError(Code.KEY_INVALID, "The public key is not a base58btc Multikey (z6Mk…).")
    return f"did:key:{public_key_multikey}"


def verification_method_id(settings: Settings, public_key_multikey: str) -> str:
    """The key's id inside the issuer DID: ``did:key:z…#z…`` or ``did:web:host#<key id>``."""
    did = issuer_did(settings, public_key_multikey)
    return f"{did}#{settings.key_id}" if settings.did_method == "web" else f"{did}#{public_key_multikey}"


def did_web_document_url(settings: Settings) -> str | None:
    """Where a did:web DID document lives (did:web spec §3.2); None for did:key."""
    if settings.did_method != "web" or not settings.did_web:
        return None
    host, *path = settings.did_web.split(":")
    host = host.replace("%3a", ":").replace("%3A", ":")
    return f"https://{host}/" + ("/".join(path) + "/did.json" if path else ".well-known/did.json")


def profile_url(settings: Settings) -> str:
    """The issuer Profile's URL: ``<base>/issuer``."""
    return f"{settings.url}/issuer"


def achievement_url(settings: Settings, slug: str) -> str:
    """An Achievement's id: ``<base>/achievements/<slug>``."""
    return f"{settings.url}/achievements/{slug}"


def image_url(settings: Settings, slug: str) -> str:
    """An Achievement image's URL: ``<base>/achievements/<slug>/image`` (PNG or SVG, by content type)."""
    return f"{achievement_url(settings, slug)}/image"


def credential_url(settings: Settings, credential_id: str) -> str:
    """A credential's public page: ``<base>/credentials/<uuid>`` for ``urn:uuid:<uuid>`` or a bare uuid."""
    try:
        value = uuid.UUID(credential_id.removeprefix("urn:uuid:"))
    except (AttributeError, ValueError) as exc:
        raise InputError(Code.CREDENTIAL_NOT_FOUND, f"{credential_id!r} is not a credential id "
                         "(urn:uuid:…).") from exc
    return f"{settings.url}/credentials/{value}"


def status_list_url(settings: Settings, purpose: str, number: int) -> str:
    """A status list credential's URL: ``<base>/status/<purpose>/<n>``."""
    if purpose not in PURPOSES or isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ValueError(f"no status list {purpose!r} #{number!r}")
    return f"{settings.url}/status/{purpose}/{number}"


__all__ = ["achievement_url", "credential_url", "did_web_document_url", "image_url", "issuer_did", "profile_url",
           "status_list_url", "verification_method_id"]
