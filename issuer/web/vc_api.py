"""The issuing half of the W3C VC API: ``/credentials/issue``, ``/credentials/status``, ``/oauth/token``.

- ``POST /credentials/issue`` signs with eddsa-rdfc-2022;
  ``POST /ed25519-2020/credentials/issue`` with Ed25519Signature2020 for
  verifiers that only know the older suite. 201 ``{verifiableCredential}``.
- ``POST /credentials/status`` revokes, suspends or reinstates by credential id.
- Both need a bearer token (scope ``issue`` / ``status``) from
  ``POST /oauth/token`` (OAuth 2.0 client credentials, ``issuer.web.clients``),
  rate limited per remote address (``TOKEN_RATE_LIMIT``, default 30/minute)
  and per client id (``TOKEN_CLIENT_RATE_LIMIT``, default 10/minute): every
  attempt costs a scrypt. Its parameters are single strings, or the answer is
  RFC 6749's 400 ``invalid_request``.

Bearer tokens travel in a header, never in cookies, so cross-site requests
cannot borrow them: no CSRF tokens are needed. The verifying half lives in
``verifier.vc_api``.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote_plus

from flask import Blueprint, Response, current_app, jsonify, request

from errors import AuthError, BadgesmithError, Code, InputError, public_message
from issuer.awarding.issuing import Issuer
from issuer.web.clients import TOKEN_TTL, Clients, Grant
from issuer.web.site import site_issuer
from issuer.web.vc_issuing import issue_document, status_purpose_option, update_status
from verifier.ratelimit import RateLimited, RateLimiter, limiter_from_config
from verifier.web import json_object_body, read_json_object

bp = Blueprint("vc_api", __name__)

# VC API status values (and the Bitstring purposes the status suite sends) → registry actions.
_ACTIONS = {"revoked": "revoke", "revocation": "revoke", "suspended": "suspend", "suspension": "suspend",
            "active": "reinstate", "reinstated": "reinstate", "unsuspended": "reinstate"}
_STATUS_TYPES = {"BitstringStatusListEntry", "BitstringStatusListCredential"}
# A client needs a token every ten minutes; a scrypt (~40 ms, 16 MiB) per attempt makes more a cost to refuse.
TOKEN_RATE_LIMIT = "30/minute"         # per remote address
TOKEN_CLIENT_RATE_LIMIT = "10/minute"  # per client id, known or not
_TOKEN_PARAMETERS = ("grant_type", "client_id", "client_secret", "scope", "audience")


def clients_for(issuer: Issuer) -> Clients:
    """The app's ``Clients`` (built once per app; ``NOW`` in the config moves its clock in tests)."""
    clients = current_app.extensions.get("badgesmith.clients")
    if clients is None:
        clients = Clients.for_issuer(issuer, now=current_app.config.get("NOW"),
                                     ttl=int(current_app.config.get("OAUTH_TOKEN_TTL") or TOKEN_TTL))
        current_app.extensions["badgesmith.clients"] = clients
    return clients


def _token_limiters() -> tuple[RateLimiter | None, RateLimiter | None]:
    """The token endpoint's limiters (by address, by client id), built once per app from its config."""
    limiters = current_app.extensions.get("badgesmith.token_limiters")
    if limiters is None:
        config = current_app.config
        limiters = tuple(limiter_from_config(config.get(key, default), what="token requests",
                                             storage=config.get("RATE_LIMIT_STORAGE"))
                         for key, default in (("TOKEN_RATE_LIMIT", TOKEN_RATE_LIMIT),
                                              ("TOKEN_CLIENT_RATE_LIMIT", TOKEN_CLIENT_RATE_LIMIT)))
        current_app.extensions["badgesmith.token_limiters"] = limiters
    return limiters


def _authorize(scope: str) -> tuple[Issuer, Grant]:
    issuer = site_issuer()
    return issuer, clients_for(issuer).authorize(request.headers.get("Authorization"), scope)


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "options must be a JSON object.")
    return options


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/credentials/issue")
def issue() -> Response:
    """Sign a credential with eddsa-rdfc-2022 (the default); 201 ``{verifiableCredential}``."""
    return _issue("di")


@bp.post("/ed25519-2020/credentials/issue")
def issue_ed25519_2020() -> Response:
    """Sign a credential with Ed25519Signature2020, for verifiers that only know the older suite."""
    return _issue("ed25519-2020")


def _issue(fmt: str) -> Response:
    # Authorisation first: an unauthorised caller learns nothing about its input.
    issuer, grant = _authorize("issue")
    body = json_object_body()
    if "credential" not in body:
        raise InputError(Code.NO_CREDENTIAL, "The request needs a credential to issue: {\"credential\": {...}}.")
    options = _options(body)
    purpose = status_purpose_option(options.get("credentialStatus"))
    if "format" in options:  # not a VC API option: Badgesmith's own, for VC-JWTs (README)
        if fmt != "di" or options["format"] != "jwt":
            raise InputError(Code.USAGE, "options.format may only be \"jwt\" (a VC-JWT, enveloped), and only on "
                                         "/credentials/issue; leave it out for a Data Integrity proof.")
        fmt = "jwt"
    signed, _ = issue_document(issuer, body["credential"], fmt=fmt, status_purpose=purpose,
                               actor=f"vc-api:{grant.name}", fetch=current_app.extensions["badgesmith"].fetch)
    response = jsonify({"verifiableCredential": signed})
    response.status_code = 201
    return _no_store(response)


@bp.post("/credentials/status")
def update_credential_status() -> Response:
    """Revoke, suspend or reinstate a credential by id (the event log names the client)."""
    issuer, grant = _authorize("status")
    body = json_object_body()
    credential_id = body.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id.strip():
        raise InputError(Code.USAGE, "credentialId must be the id of a credential this server issued.")
    changes = body.get("credentialStatus")
    items = changes if isinstance(changes, list) else [changes]
    if not items or not all(isinstance(item, dict) and isinstance(item.get("type"), str)
                            and item["type"] in _STATUS_TYPES for item in items):
        raise InputError(Code.STATUS_CHANGE_INVALID,
                         "credentialStatus must be [{\"type\": \"BitstringStatusListEntry\", \"status\": "
                         "\"revoked\" | \"suspended\" | \"active\"}].")
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    record = None
    for item in items:
        wanted = item.get("status", item.get("statusPurpose"))
        action = _ACTIONS.get(wanted) if isinstance(wanted, str) else None
        if action is None:
            raise InputError(Code.STATUS_CHANGE_INVALID,
                             f"Unknown status {str(wanted)[:40]!r}; use revoked, suspended or active.")
        record = update_status(issuer, credential_id, action, actor=f"vc-api:{grant.name}",
                               reason=(reason or "")[:1000] or None)
    return _no_store(jsonify({"credentialId": record.id, "status": record.status}))


@bp.post("/oauth/token")
def token() -> Response:
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4): a short-lived bearer token."""
    try:
        issuer = site_issuer()
        by_address, by_client = _token_limiters()
        if by_address is not None:
            by_address.take(request.remote_addr or "unknown")
        params = _token_parameters()
        if params.get("grant_type") != "client_credentials":
            error = InputError(Code.USAGE, "Only grant_type=client_credentials is supported.")
            error.oauth_error = "unsupported_grant_type"  # type: ignore[attr-defined]
            raise error
        client_id, client_secret = _client_credentials(params)
        if by_client is not None:
            by_client.take(client_id[:64])
        granted = clients_for(issuer).token(client_id, client_secret, scope=params.get("scope"),
                                            audience=params.get("audience"))
    except BadgesmithError as error:
        # RFC 6749 §5.2 fixes this endpoint's error body; clients parse "error", not our shape.
        oauth_error = getattr(error, "oauth_error", None) or (
            "invalid_client" if isinstance(error, AuthError) else
            "slow_down" if isinstance(error, RateLimited) else "invalid_request")
        response = jsonify({"error": oauth_error, "error_description": public_message(error), "code": error.code.value})
        response.status_code = error.http_status
        response.headers.update(getattr(error, "headers", {}))
        if getattr(error, "retry_after", None) is not None:  # over the limit, or its counter unavailable
            response.headers["Retry-After"] = str(error.retry_after)
        response.headers["Pragma"] = "no-cache"
        return _no_store(response)
    response = jsonify(granted.to_dict())
    response.headers["Pragma"] = "no-cache"
    return _no_store(response)


def _token_parameters() -> dict[str, str]:
    """The token request's parameters, each one string (a form, RFC 6749 §4.4.2; JSON is read too)."""
    if request.mimetype == "application/x-www-form-urlencoded":
        form = request.form
        repeated = [name for name in _TOKEN_PARAMETERS if len(form.getlist(name)) > 1]
        if repeated:
            raise InputError(Code.USAGE, f"{repeated[0]} is given more than once; send each parameter once.")
        return {name: form[name] for name in _TOKEN_PARAMETERS if name in form}
    if request.is_json:
        body = read_json_object(request.get_data(cache=True))
        wrong = [name for name in _TOKEN_PARAMETERS if body.get(name) is not None and not isinstance(body[name], str)]
        if wrong:
            raise InputError(Code.USAGE, f"{wrong[0]} must be a string.")
        return {name: body[name] for name in _TOKEN_PARAMETERS if body.get(name) is not None}
    raise InputError(Code.USAGE, "Send the token request as a form (application/x-www-form-urlencoded).")


def _client_credentials(params: dict[str, str]) -> tuple[str, str]:
    """client_secret_basic (Authorization: Basic, RFC 6749 §2.3.1) or client_secret_post; never both."""
    kind, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if kind.lower() != "basic":
        return params.get("client_id", ""), params.get("client_secret", "")
    try:
        decoded = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except ValueError:  # not ASCII, not base64, not UTF-8 (binascii.Error and UnicodeError are ValueErrors)
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InputError(Code.USAGE, "The Authorization: Basic header must be the base64 of client_id:client_secret.")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if "client_secret" in params or params.get("client_id", client_id) != client_id:
        raise InputError(Code.USAGE, "Authenticate the client one way: Authorization: Basic or client_id and "
                                     "client_secret parameters, not both.")
    return client_id, secret


__all__ = ["bp", "clients_for"]
