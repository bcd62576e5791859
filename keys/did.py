"""Decentralized identifiers: did:key and did:web documents, and key resolution.

Badgesmith publishes its keys as W3C Multikey (``z6Mk…``) in a did:key, or in
the did:web document the app serves at ``/.well-known/did.json``. To verify,
``resolve_verification_method`` turns a proof's ``verificationMethod`` (or a
JWT's ``kid``) into a ``VerificationMethod``: the key, its controller and the
relationships (``assertionMethod``…) its controller document lists it under.
Network access goes through the injected ``fetch(url) -> bytes``; nothing here
opens a socket.

Resolvable: ``did:key`` (Ed25519, P-256, P-384), ``did:web`` and ``https`` controller
documents (W3C Controlled Identifiers). Anything else fails with a sentence
naming the method (``DID_METHOD_UNSUPPORTED`` for other DID methods,
``KEY_UNRESOLVABLE`` otherwise).

Policy for 1EdTech's ``https://issuer.example/path#z6Mk…`` convention (the
key spelled in the URL's fragment, read without fetching): ``key_from_fragment``
only decodes it. Nothing published by the issuer binds such a key to it, so the
verifier reports ``KEY_UNBOUND`` unless its caller opts in (lead's decision).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import base58

from errors import Code, CredentialError, InputError
from keys.ed25519 import PublicKey
from keys.json_text import find_lone_surrogate
from keys.jwk import EcPublicKey, JwsPublicKey, public_key_from_jwk, public_key_from_multikey
from keys.multikey import decode_multikey, is_multikey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_CONTEXT = "https://w3id.org/security/jwk/v1"
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_URL_CHARS = 2048
RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement",
                 "capabilityInvocation", "capabilityDelegation")
# The did:key method lists its one Ed25519 key under every signing relationship.
_DID_KEY_RELATIONSHIPS = ("authentication", "assertionMethod",
                          "capabilityDelegation", "capabilityInvocation")

Fetch = Callable[[str], bytes]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_WEB_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                       r"(?::[0-9]{1,5})?")
_WEB_SEGMENT = re.compile(r"(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+")


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    """A resolved key: its id, controller, public key, type and listed relationships."""

    id: str
    controller: str
    public_key: JwsPublicKey
    type: str = "Multikey"
    purposes: frozenset[str] = frozenset()


# -- building documents ------------------------------------------------------------

def did_key_verification_method(public_key: PublicKey | EcPublicKey) -> str:
    """The verification method id of a did:key: ``did:key:z6Mk…#z6Mk…``."""
    return f"{public_key.did_key}#{public_key.to_multikey()}"


def did_key_document(public_key: PublicKey) -> dict[str, Any]:
    """The did:key DID document of an Ed25519 key (Multikey, did/v1 + multikey/v1 contexts)."""
    did, vm_id = public_key.did_key, did_key_verification_method(public_key)
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": public_key.to_multikey()}],
    }
    document.update({relationship: [vm_id] for relationship in _DID_KEY_RELATIONSHIPS})
    return document


def did_web_document(did: str, keys: list[tuple[str, JwsPublicKey]], *,
                     controller: str | None = None) -> dict[str, Any]:
    """The did:web DID document of an issuer with one or more keys.

    ``keys`` pairs a fragment (``"key-1"``) with a public key: Ed25519 keys are
    published as ``Multikey``, RSA and P-256 keys (RS256/ES256 VC-JWTs) as
    ``JsonWebKey`` with a ``publicKeyJwk``. Every key is
    listed under ``verificationMethod`` and ``assertionMethod``: after a
    rotation the retired keys stay listed so that credentials they signed keep
    verifying; remove a key only to repudiate what it signed.
    """
    did_web_url(did)  # validates the DID
    if not keys:
        raise InputError(Code.DID_INVALID, "A DID document needs at least one key.")
    methods, seen = [], set()
    for fragment, public_key in keys:
        fragment = fragment.removeprefix("#") if isinstance(fragment, str) else fragment
        if not isinstance(fragment, str) or not _WEB_SEGMENT.fullmatch(fragment):
            raise InputError(Code.DID_INVALID,
                             f"The key id {str(fragment)[:40]!r} is not a plain fragment like 'key-1'.")
        if fragment in seen:
            raise InputError(Code.DID_INVALID, f"The key id {fragment!r} is listed twice.")
        seen.add(fragment)
        if isinstance(public_key, PublicKey):
            methods.append({"id": f"{did}#{fragment}", "type": "Multikey", "controller": did,
                            "publicKeyMultibase": public_key.to_multikey()})
        else:
            methods.append({"id": f"{did}#{fragment}", "type": "JsonWebKey", "controller": did,
                            "publicKeyJwk": public_key.to_jwk()})
    contexts = [DID_CONTEXT, MULTIKEY_CONTEXT] + (
        [JWK_CONTEXT] if any(m["type"] == "JsonWebKey" for m in methods) else [])
    document: dict[str, Any] = {"@context": contexts, "id": did}
    if controller is not None:
        document["controller"] = controller
    document["verificationMethod"] = methods
    document["assertionMethod"] = [method["id"] for method in methods]
    return document


def did_web_url(did: str) -> str:
    """Where a did:web document lives (did:web spec §3.2, "Read").

    ``did:web:host`` → ``https://host/.well-known/did.json``;
    ``did:web:host:path:seg`` → ``https://host/path/seg/did.json``; a port is
    written percent-encoded (``did:web:host%3A8443``).
    """
    if not isinstance(did, str) or not did.startswith("did:web:") or len(did) > MAX_URL_CHARS:
        raise CredentialError(Code.DID_INVALID, "The DID is not a did:web DID.")
    host, *path = did[len("did:web:"):].split(":")
    host = host.replace("%3A", ":").replace("%3a", ":")
    if not _WEB_HOST.fullmatch(host) or not all(_WEB_SEGMENT.fullmatch(s) for s in path):
        raise CredentialError(Code.DID_INVALID,
                              f"The DID {did[:120]} is not a valid did:web (host, optional "
                              "%3A port, then ':'-separated path segments).")
    if any(segment in (".", "..") for segment in path):
        raise CredentialError(Code.DID_INVALID, f"The DID {did[:120]} has a '.' or '..' path segment.")
    return f"https://{host}/" + ("/".join(path) + "/did.json" if path else ".well-known/did.json")


def parse_did_key(did: str) -> PublicKey | EcPublicKey:
    """The key a ``did:key`` DID names: Ed25519 (``z6Mk…``), P-256 (``zDna…``) or P-384 (``z82L…``)."""
    if not isinstance(did, str) or not did.startswith("did:key:"):
        raise CredentialError(Code.DID_INVALID, "The DID is not a did:key DID.")
    value = did[len("did:key:"):]
    try:
        if value.startswith(("zDn", "z82")):
            return EcPublicKey.from_multikey(value)
        return PublicKey(decode_multikey(value))
    except InputError as exc:
        if value.startswith("z") and not value.startswith(("z6Mk", "zDn", "z82")) and _is_base58(value[1:]):
            raise CredentialError(
                Code.KEY_UNRESOLVABLE,
                f"The did:key {did[:60]}… holds a key type other than Ed25519, P-256 or P-384, which "
                "Badgesmith does not verify.") from exc
        raise CredentialError(Code.DID_INVALID, f"The did:key {did[:60]} is malformed.") from exc


# -- resolving -----------------------------------------------------------------------

def key_from_fragment(vm_url: Any) -> PublicKey | None:
    """The Ed25519 key in an ``https://…#z6Mk…`` URL's fragment, or ``None``.

    1EdTech's examples name keys this way and its validator reads the key
    without fetching. The caller decides whether to trust it: nothing
    published at the URL binds the key to the issuer.
    """
    if not isinstance(vm_url, str) or not vm_url.startswith("https://") or "#" not in vm_url:
        return None
    fragment = vm_url.split("#", 1)[1]
    return PublicKey.from_multikey(fragment) if is_multikey(fragment) else None


def resolve_verification_method(vm_url: Any, *, fetch: Fetch,
                                purpose: str = "assertionMethod") -> VerificationMethod:
    """The key that ``vm_url`` names, checked to be listed under ``purpose``.

    did:key resolves offline (a bare ``did:key:z6Mk…`` means its single key;
    a ``#fragment`` must repeat the key). did:web and https URLs are fetched
    with ``fetch`` (which may raise ``UpstreamError``); the method must be in
    its controller document, listed under ``purpose`` (by reference or
    embedded), and its ``controller`` must be that document's id.
    """
    if not isinstance(vm_url, str) or not vm_url.strip():
        raise CredentialError(Code.KEY_UNRESOLVABLE, "No verification method is named.")
    if len(vm_url) > MAX_URL_CHARS:
        raise CredentialError(Code.KEY_UNRESOLVABLE, "The verification method URL is too long.")
    shown = vm_url[:120]
    scheme = _SCHEME.match(vm_url)
    if scheme is None:
        raise CredentialError(
            Code.KEY_UNRESOLVABLE,
            f"The verification method {shown!r} is neither a URL nor a DID, so its key cannot "
            "be found.", verification_method=shown)
    if scheme.group(1) == "did":
        method = vm_url.split(":", 2)[1] if vm_url.count(":") >= 2 else ""
        if not re.fullmatch(r"[a-z0-9]+", method):
            raise CredentialError(Code.DID_INVALID, f"The DID {shown!r} is malformed.",
                                  verification_method=shown)
        if method == "key":
            return _resolve_did_key(vm_url, purpose)
        if method == "web":
            return _resolve_did_web(vm_url, fetch, purpose)
        raise CredentialError(
            Code.DID_METHOD_UNSUPPORTED,
            f"The key is named with the DID method did:{method[:30]}, which Badgesmith cannot "
            "resolve (it resolves did:key and did:web).", verification_method=shown)
    if scheme.group(1).lower() == "https":
        return _resolve_https(vm_url, fetch, purpose)
    raise CredentialError(
        Code.KEY_UNRESOLVABLE,
        f"The verification method uses the URL scheme {scheme.group(1)[:20]!r}; Badgesmith "
        "resolves only did:key, did:web and https keys.", verification_method=shown)


def is_key_of_issuer(vm: VerificationMethod, issuer_id: Any) -> bool:
    """True when ``vm`` belongs to the issuer: its controller (the DID or controller
    document that lists it under ``assertionMethod``) is the issuer's id."""
    return (isinstance(issuer_id, str) and bool(issuer_id) and vm.controller == issuer_id
            and "assertionMethod" in vm.purposes)


def require_key_of_issuer(vm: VerificationMethod, issuer_id: Any) -> None:
    """Raise ``CredentialError(KEY_NOT_ISSUERS)`` unless ``is_key_of_issuer(vm, issuer_id)``."""
    if not is_key_of_issuer(vm, issuer_id):
        raise CredentialError(
            Code.KEY_NOT_ISSUERS,
            f"The credential was signed with a key of {vm.controller[:120]}, which its issuer "
            f"{str(issuer_id or '(none)')[:120]} does not list as its own.",
            verification_method=vm.id[:200])


@lru_cache(maxsize=256)
def _resolve_did_key(vm_url: str, purpose: str) -> VerificationMethod:
    # Remembered: a did:key resolves offline to the same frozen value every time, and a server
    # sees the same few issuers' keys over and over (base58 decoding and re-encoding them was a
    # noticeable share of a verification). Failures are not remembered; they raise again.
    did, _, fragment = vm_url.partition("#")
    public_key = parse_did_key(did)
    if fragment and fragment != public_key.to_multikey():
        raise CredentialError(Code.KEY_UNRESOLVABLE,
                              f"The did:key URL's fragment does not name its key ({vm_url[:120]}).")
    if purpose not in _DID_KEY_RELATIONSHIPS:
        raise CredentialError(Code.PROOF_PURPOSE_INVALID,
                              f"A did:key signing key is not listed under {purpose[:40]}.")
    return VerificationMethod(id=did_key_verification_method(public_key), controller=did,
                              public_key=public_key, type="Multikey",
                              purposes=frozenset(_DID_KEY_RELATIONSHIPS))


def _resolve_did_web(vm_url: str, fetch: Fetch, purpose: str) -> VerificationMethod:
    did, _, fragment = vm_url.partition("#")
    url = did_web_url(did)
    if not fragment:
        raise CredentialError(Code.KEY_UNRESOLVABLE,
                              f"The verification method {vm_url[:120]} names a DID but no key in it "
                              "(#fragment).", verification_method=vm_url[:120])
    return _method_in_document(_did_web_document(did, url, fetch), did, vm_url, purpose, url)


def _did_web_document(did: str, url: str, fetch: Fetch) -> dict[str, Any]:
    document = _fetch_document(url, fetch)
    if document.get("id") != did:
        raise CredentialError(Code.KEY_UNRESOLVABLE,
                              f"The DID document at {url} is for {str(document.get('id'))[:120]}, "
                              f"not {did[:120]}.", url=url)
    return document


def find_listed_key(did: str, public_key: JwsPublicKey, *, fetch: Fetch,
                    purpose: str = "assertionMethod") -> VerificationMethod | None:
    """The method of a did:web DID document listed under ``purpose`` whose key is ``public_key``.

    ``None`` when the document lists no such key. A JWT that carries its key inline (``jwk``)
    names no method; this is how the key is found to be the issuer's all the same.
    """
    url = did_web_url(did)
    document = _did_web_document(did, url, fetch)
    for entry in _as_list(document.get(purpose)):
        vm_id = _absolute(entry.get("id") if isinstance(entry, dict) else entry, did)
        if not isinstance(vm_id, str):
            continue
        try:
            method = _method_in_document(document, did, vm_id, purpose, url)
        except (CredentialError, InputError):
            continue  # a listed key that does not resolve (unsupported type…) confirms nothing
        if method.public_key == public_key:
            return method
    return None


def _resolve_https(vm_url: str, fetch: Fetch, purpose: str) -> VerificationMethod:
    base = vm_url.split("#", 1)[0]
    document = _fetch_document(base, fetch)
    if document.get("id") == base and "#" in vm_url:
        return _method_in_document(document, base, vm_url, purpose, base)
    if document.get("id") == vm_url and isinstance(document.get("controller"), str):
        # A method published on its own: its controller document must list it.
        controller = document["controller"]
        if not controller.startswith("https://") or len(controller) > MAX_URL_CHARS:
            raise CredentialError(Code.KEY_UNRESOLVABLE,
                                  f"The key at {base[:120]} names a controller that is not an https URL.")
        controller_document = _fetch_document(controller.split("#", 1)[0], fetch)
        if controller_document.get("id") != controller:
            raise CredentialError(Code.KEY_UNRESOLVABLE,
                                  f"The controller document at {controller[:120]} has another id.")
        return _method_in_document(controller_document, controller, vm_url, purpose, controller)
    raise CredentialError(Code.KEY_UNRESOLVABLE,
                          f"The document at {base[:120]} is neither the key {vm_url[:120]} nor a "
                          "controller document that lists it.", url=base[:200])


def _fetch_document(url: str, fetch: Fetch) -> dict[str, Any]:
    data = fetch(url)  # UpstreamError propagates: the caller knows it as a fetch failure
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise CredentialError(Code.KEY_UNRESOLVABLE, f"Nothing usable was fetched from {url}.", url=url)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CredentialError(Code.KEY_UNRESOLVABLE,
                              f"The document at {url} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.",
                              url=url)
    try:
        document = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CredentialError(Code.KEY_UNRESOLVABLE, f"The document at {url} is not valid JSON.",
                              url=url) from exc
    if not isinstance(document, dict):
        raise CredentialError(Code.KEY_UNRESOLVABLE, f"The document at {url} is not a JSON object.",
                              url=url)
    if find_lone_surrogate(document) is not None:
        raise CredentialError(Code.KEY_UNRESOLVABLE, f"The document at {url} holds an unpaired surrogate: "
                              "it is not valid Unicode text.", url=url)
    return document


def _absolute(value: Any, base: str) -> Any:
    # Controller documents may write ids relative to themselves ("#key-1").
    return base + value if isinstance(value, str) and value.startswith("#") else value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _method_in_document(document: dict[str, Any], document_id: str, vm_url: str, purpose: str,
                        url: str) -> VerificationMethod:
    found: dict[str, Any] | None = None
    purposes = set()
    candidates = _as_list(document.get("verificationMethod"))
    for relationship in RELATIONSHIPS:
        for entry in _as_list(document.get(relationship)):
            entry_id = _absolute(entry.get("id") if isinstance(entry, dict) else entry, document_id)
            if entry_id == vm_url:
                purposes.add(relationship)
                if isinstance(entry, dict):
                    candidates.append(entry)
    for entry in candidates:
        if isinstance(entry, dict) and _absolute(entry.get("id"), document_id) == vm_url:
            found = entry
            break
    if found is None:
        raise CredentialError(Code.KEY_UNRESOLVABLE,
                              f"The document at {url[:120]} does not contain the key {vm_url[:120]}.",
                              url=url[:200], verification_method=vm_url[:200])
    if purpose not in purposes:
        raise CredentialError(Code.PROOF_PURPOSE_INVALID,
                              f"The key {vm_url[:120]} is not listed under {purpose[:40]} in its "
                              "controller document, so it may not be used for this.",
                              verification_method=vm_url[:200])
    controller = _absolute(found.get("controller"), document_id)
    if controller != document_id:
        raise CredentialError(Code.KEY_UNRESOLVABLE,
                              f"The key {vm_url[:120]} names the controller {str(controller)[:120]}, "
                              f"not {document_id[:120]} whose document lists it.",
                              verification_method=vm_url[:200])
    return VerificationMethod(id=vm_url, controller=document_id, public_key=_method_key(found),
                              type=str(found.get("type")), purposes=frozenset(purposes))


def _method_key(method: dict[str, Any]) -> JwsPublicKey:
    kind = method.get("type")
    if kind == "Multikey" and "publicKeyMultibase" in method:
        return public_key_from_multikey(method["publicKeyMultibase"])
    if kind == "Ed25519VerificationKey2020" and "publicKeyMultibase" in method:
        return PublicKey.from_multikey(method["publicKeyMultibase"])
    if kind == "Ed25519VerificationKey2018" and isinstance(method.get("publicKeyBase58"), str):
        raw = method["publicKeyBase58"]
        if not _is_base58(raw):
            raise InputError(Code.KEY_INVALID, "The publicKeyBase58 value is not base58.")
        return PublicKey(base58.b58decode(raw))
    if kind in ("JsonWebKey2020", "JsonWebKey") and "publicKeyJwk" in method:
        return public_key_from_jwk(method["publicKeyJwk"])
    raise CredentialError(Code.KEY_UNRESOLVABLE,
                          f"The key type {str(kind)[:40]!r} is not supported (Multikey: Ed25519, P-256 "
                          "or P-384; Ed25519VerificationKey2020 or JsonWebKey).")


def _is_base58(value: str) -> bool:
    return bool(re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{1,200}", value))


__all__ = [
    "DID_CONTEXT",
    "JWK_CONTEXT",
    "MULTIKEY_CONTEXT",
    "VerificationMethod",
    "did_key_document",
    "did_key_verification_method",
    "did_web_document",
    "did_web_url",
    "find_listed_key",
    "is_key_of_issuer",
    "key_from_fragment",
    "parse_did_key",
    "require_key_of_issuer",
    "resolve_verification_method",
]
