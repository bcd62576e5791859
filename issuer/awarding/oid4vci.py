"""OpenID for Verifiable Credential Issuance 1.0 (final, 2025): what this issuer publishes and hands out.

The pre-authorized code flow only (no authorization endpoint): the learner's
offer carries a pre-authorized code (the secret of a ``wallet_offers`` row,
``issuer.awarding.claims``), the wallet trades it, with the transaction code
when the offer has one, for an access token, and spends the token once at the
credential endpoint with a proof of possession (``oid4vci_proof``).

- :func:`issuer_metadata` and :func:`authorization_server_metadata` are the two
  ``/.well-known`` documents; the credential issuer is its own authorization server.
- :func:`credential_offer` is the offer object; :func:`offer_links` the
  ``openid-credential-offer://`` links, by value and by reference.
- :class:`AccessTokens` seals the offer's code (and transaction code) into the
  access token with AES-256-GCM under a key derived from the instance secret:
  nothing about a token is stored, any worker can open it, and it works once,
  because the credential request consumes the offer it names.

Draft wallets are met half way: the token response also carries ``c_nonce``
(drafts 13–14 read it there), the token request accepts draft 11's
``user_pin`` for ``tx_code``, and each credential configuration repeats its
``display`` beside ``credential_metadata`` (draft 15 reads it there).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from errors import AuthError, BadgesmithError, Code, InputError
from issuer.awarding.claims import TX_CODE_DIGITS
from issuer.awarding.oid4vci_proof import PROOF_ALGORITHMS, PROOF_TYPE, refusal
from issuer.instance.brand import Brand
from keys.multikey import b64url_decode, b64url_encode

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
LDP_VC = "OpenBadgeCredential_ldp_vc"
JWT_VC_JSON = "OpenBadgeCredential_jwt_vc_json"
CONFIGURATIONS = {LDP_VC: "ldp_vc", JWT_VC_JSON: "jwt_vc_json"}  # configuration id -> format
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
TOKEN_TTL = 600  # seconds; never beyond the offer's own expiry
BINDING_METHODS = ["did:key", "did:jwk", "jwk"]

# The endpoints, relative to the credential issuer identifier (the instance's base URL).
TOKEN_PATH = "/oid4vci/token"
NONCE_PATH = "/oid4vci/nonce"
CREDENTIAL_PATH = "/oid4vci/credential"
OFFER_PATH = "/oid4vci/offers/"


def issuer_metadata(base_url: str, brand: Brand, *, jwt_alg: str = "EdDSA",
                    logo_url: str | None = None) -> dict[str, Any]:
    """The Credential Issuer Metadata (§12.2.4) served at ``/.well-known/openid-credential-issuer``."""
    proof_types = {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}}
    issuer_display: dict[str, Any] = {"name": brand.name, "locale": "en"}
    badge_display: dict[str, Any] = {"name": f"{brand.name} Open Badge", "locale": "en",
                                     "background_color": brand.primary_color, "text_color": "#FFFFFF"}
    if logo_url:
        issuer_display["logo"] = badge_display["logo"] = {"uri": logo_url, "alt_text": f"{brand.name} logo"}

    def configuration(fmt: str, signing_algs: list[str], definition: dict[str, Any]) -> dict[str, Any]:
        return {"format": fmt,
                "cryptographic_binding_methods_supported": BINDING_METHODS,
                "credential_signing_alg_values_supported": signing_algs,
                "proof_types_supported": proof_types, "credential_definition": definition,
                "credential_metadata": {"display": [badge_display]},
                "display": [badge_display]}

    return {
        "credential_issuer": base_url,
        "credential_endpoint": base_url + CREDENTIAL_PATH,
        "nonce_endpoint": base_url + NONCE_PATH,
        "display": [issuer_display],
        "credential_configurations_supported": {
            LDP_VC: configuration("ldp_vc", ["eddsa-rdfc-2022"],
                                  {"@context": CONTEXTS, "type": CREDENTIAL_TYPES}),
            JWT_VC_JSON: configuration("jwt_vc_json", [jwt_alg], {"type": CREDENTIAL_TYPES}),
        },
    }


def authorization_server_metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 metadata for the pre-authorized code grant, served at ``/.well-known/oauth-authorization-server``."""
    return {
        "issuer": base_url,
        "token_endpoint": base_url + TOKEN_PATH,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],  # no authorization endpoint: only pre-authorized codes
    }


def credential_offer(base_url: str, code: str, *, tx_code: bool | str | None = None,
                     configuration_ids: tuple[str, ...] = (LDP_VC, JWT_VC_JSON)) -> dict[str, Any]:
    """The Credential Offer object (§4.1.1) for the pre-authorized ``code``.

    ``tx_code`` is the plain transaction code, or True when one is needed but its
    digits are not at hand (``claims`` makes them ``TX_CODE_DIGITS`` digits long).
    """
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if tx_code:
        description = "The code sent to you separately (by e-mail or by your course office)."
        grant["tx_code"] = {"description": description}
        digits = tx_code if isinstance(tx_code, str) else "0" * TX_CODE_DIGITS
        grant["tx_code"].update({"length": len(digits), "input_mode": "numeric" if digits.isdigit() else "text"})
    return {"credential_issuer": base_url, "credential_configuration_ids": list(configuration_ids),
            "grants": {PRE_AUTHORIZED_GRANT: grant}}


@dataclass(frozen=True, slots=True)
class OfferLinks:
    """The two ``openid-credential-offer://`` links of one offer (either one fits a QR code)."""

    by_value: str
    by_reference: str
    offer_uri: str  # where the offer object is served (the by-reference link names it)


def offer_uri(base_url: str, code: str) -> str:
    """The URL that serves the offer object for ``code`` (its ``credential_offer_uri``)."""
    return base_url + OFFER_PATH + quote(code, safe="")


def offer_links(base_url: str, code: str, *, tx_code: bool | str | None = None) -> OfferLinks:
    """Both offer links for the pre-authorized ``code`` (§4.1): the offer inline, and by reference."""
    offer = json.dumps(credential_offer(base_url, code, tx_code=tx_code), separators=(",", ":"))
    uri = offer_uri(base_url, code)
    return OfferLinks(by_value=OFFER_SCHEME + "?" + urlencode({"credential_offer": offer}),
                      by_reference=OFFER_SCHEME + "?" + urlencode({"credential_offer_uri": uri}),
                      offer_uri=uri)


@dataclass(frozen=True, slots=True)
class Access:
    """What an access token opens: the offer's code and transaction code, until ``expires``."""

    code: str
    tx_code: str | None
    expires: int  # seconds since 1970


class AccessTokens:
    """Bearer tokens that carry their offer sealed inside (AES-256-GCM); nothing is stored."""

    PREFIX = "bsv1."

    def __init__(self, *, secret: bytes, ttl: int = TOKEN_TTL) -> None:
        """``secret`` is the instance secret the sealing key is derived from."""
        self.ttl = ttl
        self._aead = AESGCM(hmac.new(secret, b"badgesmith/oid4vci-access-token/v1", hashlib.sha256).digest())

    def issue(self, code: str, tx_code: str | None, *, offer_expires: datetime, now: datetime) -> tuple[str, int]:
        """A token for the offer with ``code``, and its lifetime in seconds (at most the offer's)."""
        expires = int(min(now.timestamp() + self.ttl, offer_expires.timestamp()))
        sealed_nonce = os.urandom(12)
        plain = json.dumps({"c": code, "t": tx_code, "e": expires}, separators=(",", ":")).encode("utf-8")
        token = self.PREFIX + b64url_encode(sealed_nonce + self._aead.encrypt(sealed_nonce, plain, self.PREFIX.encode()))
        return token, max(0, expires - int(now.timestamp()))

    def open(self, authorization: str | None, now: datetime) -> Access:
        """The ``Access`` an ``Authorization: Bearer`` header grants; ``invalid_token`` (401) otherwise."""
        kind, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if kind.lower() != "bearer" or not token:
            raise _invalid_token("The credential request needs the access token from the token endpoint "
                                 "(Authorization: Bearer …).", Code.UNAUTHORIZED)
        try:
            if not token.startswith(self.PREFIX) or len(token) > 2000:
                raise InputError(Code.UNAUTHORIZED, "not ours")
            raw = b64url_decode(token[len(self.PREFIX):])
            fields = json.loads(self._aead.decrypt(raw[:12], raw[12:], self.PREFIX.encode()))
            access = Access(code=fields["c"], tx_code=fields["t"], expires=int(fields["e"]))
        except (BadgesmithError, InvalidTag, ValueError, KeyError, TypeError) as exc:
            raise _invalid_token("The access token was not issued by this credential issuer.",
                                 Code.UNAUTHORIZED) from exc
        if now.timestamp() >= access.expires:
            raise _invalid_token("The access token has expired; open the offer again.", Code.TOKEN_EXPIRED)
        return access


def _invalid_token(message: str, code: Code) -> BadgesmithError:
    error = AuthError(code, message)
    error.oauth_error = "invalid_token"  # type: ignore[attr-defined]
    error.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}  # type: ignore[attr-defined]
    return error


def requested_format(body: dict[str, Any]) -> str:
    """The configuration id a credential request asks for: by id (1.0, draft 15) or by format (drafts 13–14).

    ``CREDENTIAL_CONFIGURATION_UNKNOWN`` (``unknown_credential_configuration``, or
    ``unsupported_credential_format`` for a draft request by format) otherwise.
    """
    wanted = body.get("credential_configuration_id")
    if wanted is not None:
        if isinstance(wanted, str) and wanted in CONFIGURATIONS:
            return wanted
        raise refusal(Code.CREDENTIAL_CONFIGURATION_UNKNOWN,
                      f"This issuer offers no credential configuration {str(wanted)[:60]!r}; it offers "
                      f"{' and '.join(CONFIGURATIONS)}.", "unknown_credential_configuration")
    if "credential_identifier" in body:
        raise refusal(Code.CREDENTIAL_CONFIGURATION_UNKNOWN,
                      "This issuer hands out no credential identifiers; ask by credential_configuration_id.",
                      "unknown_credential_identifier")
    fmt = body.get("format")
    definition = body.get("credential_definition")
    types = definition.get("type") if isinstance(definition, dict) else None
    for configuration, configured in CONFIGURATIONS.items():
        if fmt == configured and (types is None or (isinstance(types, list) and "OpenBadgeCredential" in types)):
            return configuration
    if fmt is None:
        raise refusal(Code.CREDENTIAL_CONFIGURATION_UNKNOWN,
                      f"The credential request names no credential_configuration_id ({' or '.join(CONFIGURATIONS)}).",
                      "invalid_credential_request")
    if fmt in CONFIGURATIONS.values():
        raise refusal(Code.CREDENTIAL_CONFIGURATION_UNKNOWN,
                      f"This issuer issues OpenBadgeCredentials only; credential_definition.type "
                      f"({str(types)[:60]}) must be a list that names OpenBadgeCredential.",
                      "unsupported_credential_format")
    raise refusal(Code.CREDENTIAL_CONFIGURATION_UNKNOWN,
                  f"This issuer does not issue {str(fmt)[:40]!r} credentials; it issues ldp_vc and "
                  "jwt_vc_json OpenBadgeCredentials.", "unsupported_credential_format")


__all__ = ["Access", "AccessTokens", "CONFIGURATIONS", "CREDENTIAL_PATH", "JWT_VC_JSON", "LDP_VC", "NONCE_PATH",
           "OFFER_PATH", "OFFER_SCHEME", "OfferLinks", "PRE_AUTHORIZED_GRANT", "PROOF_TYPE", "TOKEN_PATH",
           "authorization_server_metadata", "credential_offer", "issuer_metadata", "offer_links", "offer_uri",
           "requested_format"]
