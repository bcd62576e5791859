"""The ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa): Badgesmith's default proof.

A ``DataIntegrityProof`` with ``cryptosuite: eddsa-rdfc-2022``, proof purpose
``assertionMethod``; the maths is shared with Ed25519Signature2020 in
``data_integrity.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from keys.data_integrity import EDDSA_RDFC_2022, create_proof, sign_document
from keys.ed25519 import KeyPair


def create(document: dict[str, Any], key: KeyPair, *, verification_method: str,
           loader: Callable[..., Any], created: datetime, **options: Any) -> dict[str, Any]:
    """The eddsa-rdfc-2022 proof over ``document``."""
    return create_proof(document, key, suite=EDDSA_RDFC_2022,
                        verification_method=verification_method, loader=loader,
                        created=created, **options)


def sign(document: dict[str, Any], key: KeyPair, *, verification_method: str,
         loader: Callable[..., Any], created: datetime, **options: Any) -> dict[str, Any]:
    """``document`` with an eddsa-rdfc-2022 proof appended to its ``proof`` array."""
    return sign_document(document, key, suite=EDDSA_RDFC_2022,
                         verification_method=verification_method, loader=loader,
                         created=created, **options)


__all__ = ["create", "sign"]
