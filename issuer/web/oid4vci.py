"""OpenID for Verifiable Credential Issuance 1.0: the endpoints a wallet talks to (pre-authorized code flow).

==========================================  =====================================================
``GET /.well-known/openid-credential-issuer``  Credential Issuer Metadata
``GET /.well-known/oauth-authorization-server``  the token endpoint and the pre-authorized grant
``GET /oid4vci/offers/<code>``              the offer object a ``credential_offer_uri`` names
``GET /oid4vci/offers/<code>/qr.png|svg``   the by-reference offer link as a QR code
``POST /oid4vci/token``                     pre-authorized code (+ ``tx_code``) → access token
``POST /oid4vci/nonce``                     a fresh ``c_nonce``
``POST /oid4vci/credential``                access token + proof of possession → the credential
==========================================  =====================================================

Every refusal is the specification's JSON error (``{"error", "error_description"}``,
plus our stable ``code``), never an HTML page: ``invalid_grant`` / ``invalid_request``
at the token endpoint, ``invalid_token`` (401), ``invalid_proof``, ``invalid_nonce``,
``unknown_credential_configuration``, ``unsupported_credential_format``,
``credential_request_denied`` (the award was revoked meanwhile) or
``invalid_credential_request`` at the credential endpoint. Bodies are capped at
``MAX_BODY`` bytes; each endpoint that does work is rate limited per client
address (``[web] claim_rate_limit``, default 60/minute, shared with the VC-API claims).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from errors import AuthError, BadgesmithError, Code, InputError, InputTooLarge, NotFound, public_message
from issuer.awarding import claims
from issuer.awarding.issuing import Issuer
from issuer.awarding.oid4vci import (CONFIGURATIONS, CREDENTIAL_PATH, NONCE_PATH, OFFER_PATH, PRE_AUTHORIZED_GRANT,
                                     TOKEN_PATH, AccessTokens, authorization_server_metadata, credential_offer,
                                     issuer_metadata, offer_links, requested_format)
from issuer.awarding.oid4vci_proof import NONCE_TTL, Nonces, check_proof, refusal
from issuer.badge.qr import qr_png, qr_svg
from issuer.web.site import site_issuer, site_now
from issuer.web.wallet_exchange import spend_claim_budget
from verifier.ratelimit import RateLimited
from verifier.web import read_json_object

bp = Blueprint("oid4vci", __name__)

MAX_BODY = 64 * 1024  # a credential request is a configuration id and one proof JWT: a few kB
_TOKEN_PARAMETERS = ("grant_type", "pre-authorized_code", "tx_code", "user_pin", "client_id")
# Offer refusals at the token endpoint (§6.3): a missing transaction code is a malformed request,
# everything else about the code or the PIN a bad grant.
_GRANT_ERRORS = {Code.TX_CODE_REQUIRED.value: "invalid_request"}


# -- collaborators, built once per app --------------------------------------------------------


def _state(issuer: Issuer) -> tuple[AccessTokens, Nonces]:
    """The app's token sealer and nonces, built once (keys derived from the instance secret)."""
    state = current_app.extensions.get("badgesmith.oid4vci")
    if state is None:
        secret = issuer.settings.lookup_secret
        state = (AccessTokens(secret=secret), Nonces(issuer.registry, secret=secret))
        current_app.extensions["badgesmith.oid4vci"] = state
    return state


def _base_url(issuer: Issuer) -> str:
    return issuer.settings.url


# -- responses -----------------------------------------------------------------------------

def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _oauth_error(error: BadgesmithError, default: str) -> Response:
    """The specification's error body for ``error`` (RFC 6749 §5.2, OID4VCI §6.3 and §8.3.1)."""
    name = getattr(error, "oauth_error", None)
    if name is None:
        name = ("slow_down" if isinstance(error, RateLimited) else
                "invalid_token" if isinstance(error, AuthError) else
                "server_error" if error.http_status >= 500 else default)
    response = jsonify({"error": name, "error_description": public_message(error), "code": error.code.value})
    response.status_code = error.http_status
    response.headers.update(getattr(error, "headers", None) or {})
    if getattr(error, "retry_after", None) is not None:  # over the limit, or its counter unavailable
        response.headers["Retry-After"] = str(error.retry_after)
    return _no_store(response)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    # A body over MAX_CONTENT_LENGTH or an unreadable form, inside these endpoints: still the spec's JSON.
    # (An unhandled error is the app's 500 handler's: it is registered for the code, which Flask tries first.)
    status = error.code or 500
    code = Code.INPUT_TOO_LARGE if status == 413 else Code.INPUT_UNREADABLE
    refused = InputTooLarge(code, "The request is too large.") if status == 413 else \
        InputError(code, "The request could not be read.")
    refused.http_status = status  # type: ignore[misc]
    return _oauth_error(refused, "invalid_request")


def _body_bytes() -> bytes:
    if (request.content_length or 0) > MAX_BODY:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The request body is larger than {MAX_BODY // 1024} KiB.")
    data = request.stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The request body is larger than {MAX_BODY // 1024} KiB.")
    return data


# -- metadata and offers -------------------------------------------------------------------

@bp.get("/.well-known/openid-credential-issuer")
def credential_issuer_metadata() -> Response:
    """Credential Issuer Metadata (OID4VCI 1.0 §12.2): endpoints, the two configurations, the brand."""
    issuer = site_issuer()
    settings = issuer.settings
    brand = settings.public_brand
    logo = f"{settings.url}/brand/logo" if brand.logo is not None else None
    response = jsonify(issuer_metadata(_base_url(issuer), brand, jwt_alg=settings.jwt_alg, logo_url=logo))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/.well-known/oauth-authorization-server")
def oauth_authorization_server_metadata() -> Response:
    """RFC 8414 Authorization Server Metadata: the token endpoint and the pre-authorized code grant."""
    response = jsonify(authorization_server_metadata(_base_url(site_issuer())))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _find_oid4vci_offer(issuer: Issuer, code: str, now: datetime) -> claims.Offer:
    """The open OID4VCI offer ``code`` names, before its PIN is checked; OFFER_UNKNOWN for another kind
    (a VC-API exchange or a claim page, whose PIN must not be tried here)."""
    offer = claims.find_offer(issuer, code, now=now)
    if offer.protocol != "oid4vci":
        claims.refuse_unknown_offer()
    return offer


def _open_offer_object(issuer: Issuer, code: str) -> dict[str, Any]:
    """The offer object for ``code`` while the offer is open (a PIN-protected one says it needs its PIN)."""
    offer = _find_oid4vci_offer(issuer, code, site_now())
    return credential_offer(_base_url(issuer), code, tx_code=offer.tx_code_required)


@bp.get(OFFER_PATH + "<code>")
def offer_object(code: str) -> Response:
    """The Credential Offer a ``credential_offer_uri`` names (§4.1.3), while the offer is open."""
    try:
        issuer = site_issuer()
        spend_claim_budget()
        body = _open_offer_object(issuer, code)
    except BadgesmithError as error:
        return _oauth_error(error, "invalid_request")
    return _no_store(jsonify(body))


@bp.get(OFFER_PATH + "<code>/qr.<kind>")
def offer_qr(code: str, kind: str) -> Response:
    """The by-reference offer link as a QR code (PNG or SVG), for a wallet's camera."""
    if kind not in ("png", "svg"):
        raise NotFound(Code.NOT_FOUND, "QR codes come as .png or .svg.")
    issuer = site_issuer()
    spend_claim_budget()
    _open_offer_object(issuer, code)  # a used or expired offer has no QR code
    link = offer_links(_base_url(issuer), code).by_reference
    data, mimetype = (qr_png(link), "image/png") if kind == "png" else (qr_svg(link), "image/svg+xml")
    return _no_store(Response(data, mimetype=mimetype))


# -- the token, nonce and credential endpoints ------------------------------------------------

@bp.post(TOKEN_PATH)
def token() -> Response:
    """Trade a pre-authorized code (and its transaction code) for an access token (§6)."""
    try:
        issuer = site_issuer()
        tokens, nonces = _state(issuer)
        spend_claim_budget()
        params = _token_parameters()
        if params.get("grant_type") != PRE_AUTHORIZED_GRANT:
            raise refusal(Code.USAGE, f"Only grant_type={PRE_AUTHORIZED_GRANT} is supported here.",
                          "unsupported_grant_type")
        code = params.get("pre-authorized_code")
        if not code:
            raise refusal(Code.USAGE, "The token request needs the offer's pre-authorized_code.", "invalid_request")
        # Draft 11 called it user_pin (some clients send both); an empty one is none at all.
        tx_code = params.get("tx_code") or params.get("user_pin") or None
        now = site_now()
        offer = _open_granted_offer(issuer, code, tx_code, now)
        access_token, expires_in = tokens.issue(code, tx_code, offer_expires=offer.expires_at, now=now)
    except BadgesmithError as error:
        return _oauth_error(error, "invalid_request")
    return _no_store(jsonify({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in,
                              # 1.0 hands nonces out at the nonce endpoint; drafts 13-14 read them here
                              "c_nonce": nonces.issue(now), "c_nonce_expires_in": NONCE_TTL}))


def _open_granted_offer(issuer: Issuer, code: str, tx_code: str | None, now: datetime) -> claims.Offer:
    try:
        _find_oid4vci_offer(issuer, code, now)
        offer = claims.open_offer(issuer, code, tx_code=tx_code, now=now)
    except BadgesmithError as error:
        if error.code.value.startswith(("OFFER_", "TX_CODE_")):
            error.oauth_error = _GRANT_ERRORS.get(error.code.value, "invalid_grant")  # type: ignore[attr-defined]
            error.http_status = 400  # type: ignore[misc]
        raise
    if tx_code is not None and not offer.tx_code_required:
        raise refusal(Code.USAGE, "This offer has no transaction code; send the token request without tx_code.",
                      "invalid_request")
    return offer


def _token_parameters() -> dict[str, str]:
    """The token request's form parameters (RFC 6749 §4.1.3), each a single string; JSON is read too."""
    data = _body_bytes()
    if request.mimetype == "application/json":
        body = read_json_object(data)
        wrong = [name for name in _TOKEN_PARAMETERS if body.get(name) is not None and not isinstance(body[name], str)]
        if wrong:
            raise InputError(Code.USAGE, f"{wrong[0]} must be a string.")
        return {name: body[name] for name in _TOKEN_PARAMETERS if body.get(name) is not None}
    if request.mimetype != "application/x-www-form-urlencoded":
        raise InputError(Code.USAGE, "Send the token request as a form (application/x-www-form-urlencoded).")
    try:
        form = parse_qs(data.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(Code.INPUT_UNREADABLE, "The token request form could not be read.") from exc
    repeated = [name for name in _TOKEN_PARAMETERS if len(form.get(name, ())) > 1]
    if repeated:
        raise InputError(Code.USAGE, f"{repeated[0]} is given more than once; send each parameter once.")
    return {name: form[name][0] for name in _TOKEN_PARAMETERS if name in form}


@bp.post(NONCE_PATH)
def nonce() -> Response:
    """A fresh ``c_nonce`` for the next proof of possession (§7)."""
    try:
        issuer = site_issuer()
        _tokens, nonces = _state(issuer)
        spend_claim_budget()
        value = nonces.issue(site_now())
    except BadgesmithError as error:
        return _oauth_error(error, "invalid_request")
    return _no_store(jsonify({"c_nonce": value, "c_nonce_expires_in": NONCE_TTL}))


@bp.post(CREDENTIAL_PATH)
def credential() -> Response:
    """Issue the offered credential to the key the wallet proves it holds (§8)."""
    try:
        issuer = site_issuer()
        tokens, nonces = _state(issuer)
        spend_claim_budget()
        now = site_now()
        access = tokens.open(request.headers.get("Authorization"), now)  # 401 before reading anything else
        if request.mimetype != "application/json":
            raise refusal(Code.UNSUPPORTED_MEDIA_TYPE, "Send the credential request as application/json.",
                          "invalid_credential_request")
        body = read_json_object(_body_bytes())
        configuration = requested_format(body)
        proof_jwt, single = _proof_jwt(body)
        holder = check_proof(proof_jwt, audience=_base_url(issuer), now=now, nonces=nonces)
        issued = _claim(issuer, access, holder, CONFIGURATIONS[configuration], now)
    except BadgesmithError as error:
        return _oauth_error(error, "invalid_credential_request")
    answer: dict[str, Any] = {"credentials": [{"credential": issued}]}
    if single:  # a draft wallet (one proof) may read the draft-14 shape
        answer["credential"] = issued
    return _no_store(jsonify(answer))


def _proof_jwt(body: dict[str, Any]) -> tuple[Any, bool]:
    """The one proof JWT: from ``proofs.jwt`` (1.0) or ``proof`` (draft 15 and before); and whether it was ``proof``."""
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise refusal(Code.WALLET_PROOF_INVALID, "The request carries both proof and proofs; send one.",
                      "invalid_credential_request")
    if proofs is not None:
        if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
            raise refusal(Code.WALLET_PROOF_INVALID, "proofs must be {\"jwt\": [one proof JWT]}: this issuer "
                                                     "accepts jwt proofs only.", "invalid_proof")
        jwts = proofs["jwt"]
        if not isinstance(jwts, list) or len(jwts) != 1:
            raise refusal(Code.WALLET_PROOF_INVALID, "proofs.jwt must hold exactly one proof: this issuer issues "
                                                     "one credential per request.", "invalid_proof")
        return jwts[0], False
    if isinstance(proof, dict):
        if proof.get("proof_type") != "jwt":
            raise refusal(Code.WALLET_PROOF_INVALID, f"The proof type {str(proof.get('proof_type'))[:20]!r} is not "
                                                     "supported; send a jwt proof.", "invalid_proof")
        return proof.get("jwt"), True
    raise refusal(Code.WALLET_PROOF_INVALID, "The credential request has no proof of possession (proofs.jwt).",
                  "invalid_proof")


def _claim(issuer: Issuer, access: Any, holder: str, fmt: str, now: datetime) -> Any:
    try:
        return claims.claim(issuer, access.code, holder, format=fmt, tx_code=access.tx_code, now=now)
    except BadgesmithError as error:
        if error.code.value.startswith(("OFFER_", "TX_CODE_")):
            # The token's offer was claimed or has expired meanwhile: the token no longer grants anything.
            error.oauth_error = "invalid_token"  # type: ignore[attr-defined]
            error.http_status = 401  # type: ignore[misc]
            error.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}  # type: ignore[attr-defined]
        elif error.code in (Code.AWARD_NOT_CLAIMABLE, Code.CREDENTIAL_NOT_FOUND):
            # Revoked, suspended or superseded since the offer was made (1.0 §8.3.1.2).
            error.oauth_error = "credential_request_denied"  # type: ignore[attr-defined]
            error.http_status = 400  # type: ignore[misc]
        elif error.code is Code.HOLDER_INVALID:
            error.oauth_error = "invalid_proof"  # type: ignore[attr-defined]
        raise


__all__ = ["MAX_BODY", "bp"]
