"""VC-JWT: the OB 3.0 JSON Web Token proof format (OB §8.2, RFC 7515 compact JWS).

Signing: header ``{alg, kid, typ}`` with ``alg`` the key's (EdDSA for Ed25519,
RS256 for RSA, ES256 for P-256; ``keys.jws_keys``),
payload = the credential itself plus ``iss`` (issuer id), ``jti`` (credential
id), ``sub`` (subject id, when there is one), ``nbf`` (``validFrom``), ``exp``
(``validUntil``, when set) and optionally ``iat``. Ed25519 and RSA PKCS#1 v1.5
are deterministic, so the same input gives the same token; ECDSA is not.

Verifying is strict where it protects the reader and lenient where issuers
differ harmlessly:

- A token with an empty signature part (an unsecured JWT, ``alg: none``) is
  read but unsigned: ``JWT_UNSIGNED``.
- ``alg`` from an allow-list (EdDSA/"Ed25519", RS256, ES256) and bound to the
  key's type. ``none`` (with a signature) and HMAC (``HS256``…, where a public
  key would serve as the shared secret) are refused with ``JWT_ALG_REFUSED``.
- The key comes from ``kid`` through the injected ``resolve``, or from an
  inline ``jwk``. An inline key proves only that *someone* signed; the result
  says so (``inline_key``) and the verifier applies the KEY_UNBOUND policy.
  For a did:key issuer the inline key must be the DID's key.
- Claims must agree with the credential (``JWT_CLAIMS_MISMATCH``). Claims OB
  requires but the token lacks (``nbf`` in every spec example) are listed in
  ``missing_claims``; the caller decides.
- The VC 1.1 form (credential inside ``vc``) is accepted with a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple

from errors import Code, CredentialError, InputError, InputTooLarge
from keys.did import VerificationMethod, parse_did_key
from keys.json_text import refuse_lone_surrogates
from keys.jwk import JwsPublicKey, RsaPublicKey, algorithms_for, public_key_from_jwk
from keys.jws_keys import SigningKey, jwt_algorithm
from keys.multikey import b64url_decode, b64url_encode

ALGORITHMS = ("EdDSA", "Ed25519", "RS256", "ES256")
MAX_TOKEN_BYTES = 2 * 1024 * 1024  # a credential may carry a data: URI image
JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})
_TYPES = {"jwt", "vc+jwt", "vc+ld+jwt"}  # OB writes JWT; VC-JOSE and its drafts the others

Resolve = Callable[[str], VerificationMethod]


class DecodedJwt(NamedTuple):
    """The parts of a compact JWS, decoded but not verified."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class JwtResult:
    """A VC-JWT whose signature checked out, and the credential it carries.

    ``credential`` has no JWT claims; ``verification_method`` is ``None`` when
    the key came inline (``inline_key``) from the header's ``jwk``.
    """

    credential: dict[str, Any]
    header: dict[str, Any]
    payload: dict[str, Any]
    verification_method: VerificationMethod | None
    key: JwsPublicKey
    warnings: tuple[str, ...] = ()
    inline_key: bool = False
    missing_claims: tuple[str, ...] = ()


def _malformed(message: str) -> CredentialError:
    return CredentialError(Code.JWT_MALFORMED, message)


def _mismatch(message: str) -> CredentialError:
    return CredentialError(Code.JWT_CLAIMS_MISMATCH, message)


# -- signing ---------------------------------------------------------------------

def sign_jwt(credential: dict[str, Any], key: SigningKey, *, verification_method: str,
             typ: str = "JWT", now: datetime | None = None) -> str:
    """The credential as a compact JWS signed with ``key``'s algorithm (OB §8.2.4):
    EdDSA (Ed25519), RS256 (RSA) or ES256 (P-256).

    ``now``, when given, becomes the ``iat`` claim. The credential needs an
    ``id``, an issuer id and a ``validFrom`` with a time zone (the required
    ``jti``, ``iss`` and ``nbf`` claims).
    """
    if not isinstance(credential, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "A credential must be a JSON object.")
    issuer, credential_id = _issuer_id(credential), credential.get("id")
    if not issuer or not isinstance(credential_id, str) or not credential_id:
        raise InputError(Code.SCHEMA_INVALID,
                         "A VC-JWT needs the credential's id and issuer id (its jti and iss claims).")
    if verification_method.startswith("did:key:"):
        if isinstance(key.public_key, RsaPublicKey):
            raise InputError(Code.KEY_INVALID, "did:key cannot carry an RSA key: an RS256 VC-JWT needs a "
                                               "did:web (or https) verification method that publishes it.")
        if parse_did_key(verification_method.split("#", 1)[0]) != key.public_key:
            raise InputError(Code.KEY_INVALID, "The verification method names another key than "
                                               "the one signing.")
    payload = dict(credential)
    payload.update({"iss": issuer, "jti": credential_id})
    subject_id = _subject_ids(credential)
    if len(subject_id) == 1:
        payload["sub"] = subject_id[0]
    payload["nbf"] = _numeric_date(credential.get("validFrom"), "validFrom", strict=True)
    if "validUntil" in credential:
        payload["exp"] = _numeric_date(credential["validUntil"], "validUntil", strict=True)
    if now is not None:
        payload["iat"] = int(now.timestamp())
    header = {"alg": jwt_algorithm(key), "kid": verification_method, "typ": typ}
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"


def _segment(value: dict[str, Any]) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(Code.JSON_MALFORMED, "The credential is not plain JSON.") from exc
    return b64url_encode(text.encode("utf-8"))


# -- decoding ----------------------------------------------------------------------

def decode_jwt(token: str | bytes, *, max_bytes: int = MAX_TOKEN_BYTES) -> DecodedJwt:
    """Split and decode a compact JWS without checking its signature.

    Exactly three unpadded base64url parts (the signature may be empty, so that
    ``alg: none`` can be refused by name), a JSON object header and payload
    without duplicate members; ``JWT_MALFORMED`` otherwise (``JSON_MALFORMED`` for
    an unpaired surrogate, as in any JSON), ``INPUT_TOO_LARGE`` beyond ``max_bytes``.
    """
    if len(token) > max_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE,
                            f"The JWT is larger than {max_bytes // 1024} KiB.")
    if isinstance(token, (bytes, bytearray)):
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError as exc:
            raise _malformed("The JWT contains bytes that are not ASCII.") from exc
    if not isinstance(token, str) or not token.isascii():
        raise _malformed("The JWT is not ASCII text.")
    parts = token.strip().split(".")
    if len(parts) != 3:
        hint = " (five parts is an encrypted JWE, which Badgesmith does not read)" if len(parts) == 5 else ""
        raise _malformed(f"A compact JWT has three parts separated by dots; this has {len(parts)}{hint}.")
    header = _json_part(parts[0], "header")
    payload = _json_part(parts[1], "payload")
    try:
        signature = b64url_decode(parts[2])
    except InputError as exc:
        raise _malformed("The JWT signature is not unpadded base64url.") from exc
    return DecodedJwt(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _json_part(segment: str, name: str) -> dict[str, Any]:
    if not segment:
        raise _malformed(f"The JWT {name} is empty.")
    try:
        text = b64url_decode(segment).decode("utf-8")
    except (InputError, UnicodeDecodeError) as exc:
        raise _malformed(f"The JWT {name} is not unpadded base64url of UTF-8 text.") from exc
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _malformed(f"The JWT {name} is not valid JSON ({exc!s:.80}).") from exc
    refuse_lone_surrogates(text, value, what=f"The JWT {name}")
    if not isinstance(value, dict):
        raise _malformed(f"The JWT {name} is not a JSON object.")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 7515 §5.2: duplicate member names are ambiguous; two readers of one
    # token could see different claims. Refuse them.
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name[:40]!r}")
        result[name] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# -- verifying -------------------------------------------------------------------

def verify_jwt(token: str | bytes, *, resolve: Resolve,
               max_bytes: int = MAX_TOKEN_BYTES) -> JwtResult:
    """Check a VC-JWT's signature and claims; return the credential it carries.

    ``resolve(kid) -> VerificationMethod`` finds the key a ``kid`` names (it may
    raise ``BadgesmithError``). Raises ``JWT_MALFORMED``, ``JWT_UNSIGNED`` (an
    empty signature part, as an ``alg: none`` token has), ``JWT_ALG_REFUSED``,
    ``KEY_UNRESOLVABLE``/``KEY_NOT_ISSUERS``, ``PROOF_INVALID`` (signature) or
    ``JWT_CLAIMS_MISMATCH``.
    """
    header, payload, signing_input, signature = decode_jwt(token, max_bytes=max_bytes)
    if not signature:
        raise CredentialError(Code.JWT_UNSIGNED,
                              f"The JWT is unsigned (its signature part is empty, alg {str(header.get('alg'))[:20]}), "
                              "so anyone could have written it.")
    alg = _check_header(header)
    credential, warnings = extract_credential(payload)
    key, vm, inline = _key_for(header, credential, payload, resolve, warnings)
    if alg not in algorithms_for(key):
        raise CredentialError(Code.JWT_ALG_REFUSED,
                              f"The JWT says alg {alg}, but its key is for {algorithms_for(key)[0]}; "
                              "a key is only ever used with its own algorithm.")
    if not key.verify(signature, signing_input):
        raise CredentialError(Code.PROOF_INVALID,
                              "The JWT signature does not match: the token was changed after "
                              "signing, or signed with another key.")
    missing = _check_claims(payload, credential, warnings)
    return JwtResult(credential=credential, header=header, payload=payload,
                     verification_method=vm, key=key, warnings=tuple(warnings),
                     inline_key=inline, missing_claims=missing)


def _check_header(header: dict[str, Any]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise _malformed("The JWT header has no alg.")
    if alg.lower() == "none":
        raise CredentialError(Code.JWT_ALG_REFUSED,
                              "The JWT is unsigned (alg none); anyone could have written it.")
    if alg.upper().startswith("HS"):
        raise CredentialError(Code.JWT_ALG_REFUSED,
                              f"The JWT uses {alg[:10]}, a shared-secret (HMAC) algorithm; a "
                              "credential must be signed with the issuer's private key.")
    if alg not in ALGORITHMS:
        raise CredentialError(Code.JWT_ALG_REFUSED,
                              f"The JWT algorithm {alg[:20]!r} is not accepted (EdDSA, RS256 or ES256).")
    if "crit" in header:
        raise _malformed("The JWT header lists critical extensions (crit) Badgesmith does not know.")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str)
                            or typ.lower().removeprefix("application/") not in _TYPES):
        raise _malformed(f"The JWT type {str(typ)[:30]!r} is not a credential (typ must be JWT).")
    return alg


def _key_for(header: dict[str, Any], credential: dict[str, Any], payload: dict[str, Any],
             resolve: Resolve, warnings: list[str]) -> tuple[JwsPublicKey, VerificationMethod | None, bool]:
    kid, jwk = header.get("kid"), header.get("jwk")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise _malformed("The JWT header's kid is not a string.")
    if jwk is not None and not isinstance(jwk, dict):
        raise _malformed("The JWT header's jwk is not a JSON object.")
    issuer = _issuer_id(credential) or (payload.get("iss") if isinstance(payload.get("iss"), str) else None)
    if kid:
        if kid.startswith("#") and issuer and issuer.startswith("did:"):
            kid = issuer + kid  # a key id relative to the issuer's DID
        vm = resolve(kid)
        if jwk is not None:
            if public_key_from_jwk(jwk) != vm.public_key:
                raise _malformed("The JWT header's kid and jwk name different keys.")
            warnings.append("The JWT header names its key twice (kid and jwk); OB 3.0 expects one.")
        return vm.public_key, vm, False
    if jwk is not None:
        key = public_key_from_jwk(jwk)
        if isinstance(jwk.get("alg"), str) and jwk["alg"] != header["alg"]:
            raise CredentialError(Code.JWT_ALG_REFUSED,
                                  f"The inline jwk is for {jwk['alg'][:20]}, not {header['alg']}.")
        if issuer and issuer.startswith("did:key:") and key != parse_did_key(issuer.split("#", 1)[0]):
            raise CredentialError(Code.KEY_NOT_ISSUERS,
                                  "The JWT's inline jwk is not the key of its did:key issuer.")
        return key, None, True
    if issuer and issuer.startswith("did:key:"):
        warnings.append("The JWT header names no key; the key of the issuer's did:key was used.")
        vm = resolve(issuer.split("#", 1)[0])
        return vm.public_key, vm, False
    raise CredentialError(Code.KEY_UNRESOLVABLE,
                          "The JWT header names no key (neither kid nor jwk), so its signature "
                          "cannot be checked.")


# -- the credential and its claims --------------------------------------------

def extract_credential(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The credential a VC-JWT payload carries (claims removed) and warnings.

    VC 2.0 / OB 3.0: the payload is the credential plus claims. VC 1.1: the
    credential is the ``vc`` claim; properties it leaves out are filled from
    the claims (VC 1.1 §6.3.1, "JWT decoding").
    """
    if "vc" not in payload or "@context" in payload:
        return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}, []
    vc = payload["vc"]
    if not isinstance(vc, dict):
        raise _malformed("The JWT's vc claim is not a JSON object.")
    credential = dict(vc)
    warnings = ["The JWT carries the credential in a vc claim (the VC 1.1 JWT form)."]
    if isinstance(payload.get("jti"), str):
        credential.setdefault("id", payload["jti"])
    if isinstance(payload.get("iss"), str):
        credential.setdefault("issuer", payload["iss"])
    modern = "validFrom" in credential
    for claim, name in (("nbf", "validFrom" if modern else "issuanceDate"),
                        ("exp", "validUntil" if modern else "expirationDate")):
        if claim in payload and name not in credential:
            credential[name] = _iso_date(payload[claim], claim)
    subject = credential.get("credentialSubject")
    if isinstance(payload.get("sub"), str) and isinstance(subject, dict) and "id" not in subject:
        credential["credentialSubject"] = {"id": payload["sub"], **subject}
    return credential, warnings


def _check_claims(payload: dict[str, Any], credential: dict[str, Any],
                  warnings: list[str]) -> tuple[str, ...]:
    missing: list[str] = []
    pairs = (("iss", _issuer_id(credential), "issuer id"), ("jti", credential.get("id"), "id"))
    for claim, value, what in pairs:
        if claim not in payload:
            missing.append(claim)
        elif payload[claim] != value:
            raise _mismatch(f"The JWT's {claim} claim ({str(payload[claim])[:80]}) is not the "
                            f"credential's {what} ({str(value)[:80]}).")
    subjects = _subject_ids(credential)
    if "sub" in payload:
        if subjects and payload["sub"] not in subjects:
            raise _mismatch(f"The JWT's sub claim ({str(payload['sub'])[:80]}) is not the "
                            "credential subject's id.")
    elif subjects:
        missing.append("sub")
    for claim, names in (("nbf", ("validFrom", "issuanceDate")),
                         ("exp", ("validUntil", "expirationDate"))):
        name = next((n for n in names if n in credential), None)
        if claim not in payload:
            if claim == "nbf" or name is not None:
                missing.append(claim)
            continue
        claimed = payload[claim]
        if not isinstance(claimed, (int, float)) or isinstance(claimed, bool):
            raise _malformed(f"The JWT's {claim} claim is not a NumericDate.")
        if name is None:
            # OB §8.2.6: the claim sets the date; keep it, or the validity check would miss it.
            name = names[0]
            credential[name] = _iso_date(claimed, claim)
            warnings.append(f"The credential has no {name}; the JWT's {claim} claim supplied it.")
        elif abs(claimed - _numeric_date(credential[name], name, strict=False)) >= 1:
            raise _mismatch(f"The JWT's {claim} claim is not the credential's {name} "
                            f"({str(credential[name])[:40]}).")
    return tuple(missing)


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _subject_ids(credential: dict[str, Any]) -> list[str]:
    subjects = credential.get("credentialSubject")
    subjects = subjects if isinstance(subjects, list) else [subjects]
    return [s["id"] for s in subjects if isinstance(s, dict) and isinstance(s.get("id"), str)]


def _numeric_date(value: Any, name: str, *, strict: bool) -> int | float:
    """Seconds since the epoch of an XSD dateTime; whole seconds when signing."""
    try:
        moment = datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InputError(Code.DATE_INVALID, f"The credential's {name} is not a date-time.") from exc
    if moment.tzinfo is None:
        if strict:
            raise InputError(Code.DATE_INVALID, f"The credential's {name} has no time zone (add Z).")
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) if strict else moment.timestamp()


def _iso_date(value: Any, claim: str) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _malformed(f"The JWT's {claim} claim is not a NumericDate.")
    try:
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise _malformed(f"The JWT's {claim} claim is out of range.") from exc
    if moment.microsecond == 0:
        return moment.isoformat().replace("+00:00", "Z")
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = [
    "ALGORITHMS",
    "DecodedJwt",
    "JwtResult",
    "MAX_TOKEN_BYTES",
    "decode_jwt",
    "extract_credential",
    "sign_jwt",
    "verify_jwt",
]
