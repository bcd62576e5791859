"""The legacy ``Ed25519Signature2020`` suite: verified for older issuers, signed on request.

The document must carry ``https://w3id.org/security/suites/ed25519-2020/v1``;
``sign`` adds it when missing. Hashing and verification are shared with
eddsa-rdfc-2022 (``data_integrity.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from keys.data_integrity import ED25519_2020_CONTEXT, ED25519_SIGNATURE_2020, sign_document
from keys.ed25519 import KeyPair


def with_suite_context(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the Ed25519Signature2020 context appended if it lacks it."""
    context = document.get("@context", [])
    context = list(context) if isinstance(context, list) else [context]
    if ED25519_2020_CONTEXT in context:
        return document
    return {**document, "@context": context + [ED25519_2020_CONTEXT]}


def sign(document: dict[str, Any], key: KeyPair, *, verification_method: str,
         loader: Callable[..., Any], created: datetime, **options: Any) -> dict[str, Any]:
    """``document`` (with the suite context) plus an Ed25519Signature2020 proof."""
    return sign_document(with_suite_context(document), key, suite=ED25519_SIGNATURE_2020,
                         verification_method=verification_method, loader=loader,
                         created=created, **options)


__all__ = ["sign", "with_suite_context"]
