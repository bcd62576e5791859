"""Keys, DIDs and proof suites: Ed25519 key pairs, Multikey/JWK encodings, did:key and did:web,
RDF canonicalization, eddsa-rdfc-2022, Ed25519Signature2020 and VC-JWT.

The safe front door is ``issuer.sign`` and ``verifier.pipeline``; these are
the parts they are built from.
"""

from keys.data_integrity import create_proof, sign_document, verify_proof
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
