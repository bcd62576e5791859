"""Keys, DIDs and proof suites: Ed25519 key pairs, Multikey/JWK encodings, did:key and did:web,
RDF canonicalization, eddsa-rdfc-2022, Ed25519Signature2020 and VC-JWT.

The safe front door is ``issuer.sign`` and ``verifier.pipeline``; these are
the parts they are built from.
"""

import sys as _sys


def _import_pyld_without_its_network_loaders() -> None:
    # pyld makes a default document loader when imported: requests' (or aiohttp's) whenever that
    # library is installed, which costs a one-shot `badgesmith verify` 0.1 s of imports, and would
    # fetch contexts from the network if a call ever forgot Badgesmith's pinned loader. With both
    # hidden while pyld is imported, it settles on its dummy loader, which loads nothing; they are
    # importable again right after, for whoever really wants them.
    if "pyld.jsonld" in _sys.modules:
        return
    hidden = [name for name in ("requests", "aiohttp") if name not in _sys.modules]
    for name in hidden:
        _sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        import pyld.jsonld  # noqa: F401
    finally:
        for name in hidden:
            if _sys.modules.get(name, False) is None:
                del _sys.modules[name]


_import_pyld_without_its_network_loaders()

from keys.data_integrity import create_proof, sign_document, verify_proof  # noqa: E402
from keys.did import (VerificationMethod, did_key_document, did_web_document, did_web_url,
                      key_from_fragment, resolve_verification_method)
from keys.ed25519 import KeyPair, PublicKey
from keys.keystore import list_keys, load_key, save_key
from keys.rdfc import Limits, canonicalize
from keys.vc_jwt import JwtResult, decode_jwt, sign_jwt, verify_jwt

__all__ = [
    "JwtResult", "KeyPair", "Limits", "PublicKey", "VerificationMethod", "canonicalize", "create_proof",
    "decode_jwt", "did_key_document", "did_web_document", "did_web_url", "key_from_fragment", "list_keys",
    "load_key", "resolve_verification_method", "save_key", "sign_document", "sign_jwt", "verify_jwt",
    "verify_proof",
]
