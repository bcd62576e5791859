"""The Open Badges 3.0 API as Service Provider (Read and Write), under ``/ims/ob/v3p0``.

- ``GET /discovery``: the Service Description Document (OpenAPI 3.0) with the
  terms of service, privacy policy, image and the ``OAuth2ACG`` scheme
  (registration, authorization, token and refresh URLs, the four scopes).
- ``GET /credentials`` (``credential.readonly``): the learner's credentials,
  ``limit`` (1-``MAX_LIMIT``), ``offset`` (0-``MAX_OFFSET``), ``since`` (an ISO
  date-time), with ``X-Total-Count`` and a ``Link`` header (first, prev, next,
  last).
- ``POST /credentials`` (``credential.upsert``): a credential as JSON or as a
  compact JWS in ``text/plain``, verified by the site's verifier (which must
  also find it awarded to the signed-in learner) and kept; 201 when new, 200
  when it replaced one, 304 when the stored one is newer.
- ``GET /profile`` (``profile.readonly``) and ``PUT /profile``
  (``profile.update``), checked against the OB 3.0 Profile schema.

Every error under the prefix is an ``Imsx_StatusInfo`` (``imsx_error``), with
our stable code as ``imsx_codeMinorFieldName``. The OAuth side lives in
``issuer.web.oauth_server`` (Authlib) and ``issuer.web.ob_sign_in`` (the pages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, request

from errors import AuthError, Code, Forbidden, InputError, InputTooLarge
from issuer.web.clients import bearer_challenge
from issuer.records.hosted import (CREATED, UNCHANGED, held_credentials, learner_profile, store_credential,
                                   store_profile)
from issuer.web.site import site_issuer
from issuer.web.oauth_server import SCOPE_BASE, SCOPES, ObAuthorizationServer, ObTokenValidator, Token
from verifier.web import UnsupportedMediaType, read_json_object

PREFIX = "/ims/ob/v3p0"
OAUTH_PREFIX = "/ob/oauth"
MAX_LIMIT, MAX_OFFSET = 100, 1_000_000
MAX_BODY = 1024 * 1024  # one credential (a baked image is not what this endpoint takes)
MAX_PROFILE = 64 * 1024
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_JSON_TYPES = ("application/json", "application/vc+ld+json", "application/ld+json")
# HTTP status → Imsx_CodeMinorFieldValue
_MINOR = {400: "invalid_data", 401: "unauthorizedrequest", 403: "forbidden", 404: "not_found", 405: "not_allowed",
          406: "not_acceptable", 413: "invalid_data", 415: "invalid_data", 429: "server_busy",
          500: "internal_server_error"}

bp = Blueprint("ob_api", __name__, url_prefix=PREFIX)


def is_ob_api_request() -> bool:
    """Whether the current request is for the OB API (its errors are Imsx_StatusInfo)."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def imsx_error(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """An error as the OB API's ``Imsx_StatusInfo``; ``body`` is our ``{"code", "message"}``."""
    minor = "invalid_query_parameter" if body.get("code") == Code.OB_QUERY_INVALID.value else \
        _MINOR.get(status, "unknown")
    info = {"imsx_codeMajor": "failure", "imsx_severity": "error",
            "imsx_description": str(body.get("message", "")),
            "imsx_codeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": str(body.get("code", "")),
                                                        "imsx_codeMinorFieldValue": minor}]}}
    response = Response(json.dumps(info), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _issuer() -> Any:
    return site_issuer("This server has no issuer instance, so it serves no Open Badges API.")


def authorization_server() -> ObAuthorizationServer:
    """The app's Authlib server (built once per app; ``NOW`` in the config moves its clock in tests)."""
    server = current_app.extensions.get("badgesmith.ob_oauth")
    if server is None:
        issuer = _issuer()
        clock = current_app.config.get("NOW") or issuer.now
        server = ObAuthorizationServer(issuer, now=clock)
        current_app.extensions["badgesmith.ob_oauth"] = server
    return server


def _authorize(scope: str) -> Token:
    """The bearer token of the request, if it is current and allows ``scope``."""
    server = authorization_server()
    kind, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise bearer_challenge(AuthError(Code.UNAUTHORIZED, "This endpoint needs an OAuth 2.0 bearer token from the "
                                                      "authorization code flow (see /ims/ob/v3p0/discovery)."), None)
    validator = ObTokenValidator(server)
    token = validator.authenticate_token(value.strip())
    try:
        validator.validate_token(token, [scope], request)
    except OAuth2Error as error:
        if error.error == "insufficient_scope":
            raise bearer_challenge(Forbidden(Code.FORBIDDEN, f"This token does not allow {scope}; the host must ask "
                                                       "the learner for that scope."), "insufficient_scope",
                             scope) from None
        expired = token is not None and token.is_expired() and not token.is_revoked()
        raise bearer_challenge(AuthError(Code.TOKEN_EXPIRED if expired else Code.UNAUTHORIZED,
                                   "The access token has expired; use the refresh token." if expired else
                                   "The access token is not valid here: unknown, or revoked (by the host, by "
                                   "the learner withdrawing its access, or by the issuer revoking the host)."),
                         "invalid_token") from None
    server.touch(token)  # "last used" on the learner's list of connected apps
    return token


@bp.get("/discovery")
def discovery() -> Response:
    """getServiceDescription: the OpenAPI document a host reads first (no token needed)."""
    issuer = _issuer()
    base, config = issuer.settings.url, current_app.config
    brand = current_app.extensions["badgesmith"].brand
    links = {link.label.lower(): link.url for link in getattr(brand, "footer_links", ())}
    terms = config.get("OB_TERMS_URL") or next((u for k, u in links.items() if "terms" in k), f"{base}/issuer")
    privacy = config.get("OB_PRIVACY_URL") or next((u for k, u in links.items() if "privacy" in k), f"{base}/issuer")
    image = f"{base}/brand/logo" if getattr(brand, "logo", None) else f"{base}/static/ob-api.svg"
    operation = {"responses": {"200": {"description": "OK"}}}

    def secured(scope: str, op_id: str) -> dict[str, Any]:
        return {"operationId": op_id, "security": [{"OAuth2ACG": [SCOPE_BASE + scope]}], **operation}

    document = {
        "openapi": "3.0.1",
        "info": {"title": f"{issuer.settings.public_brand.name}: Open Badges API", "version": "3.0",
                 "description": "The Open Badges 3.0 API of this Badgesmith site.",
                 "termsOfService": terms, "x-imssf-privacyPolicyUrl": privacy, "x-imssf-image": image},
        "servers": [{"url": base + PREFIX}],
        "tags": [{"name": "OpenBadgeCredentials"}, {"name": "Profile"}, {"name": "Discovery"}],
        "paths": {
            "/credentials": {"get": secured("credential.readonly", "getCredentials"),
                             "post": secured("credential.upsert", "upsertCredential")},
            "/profile": {"get": secured("profile.readonly", "getProfile"),
                         "put": secured("profile.update", "putProfile")},
            "/discovery": {"get": {"operationId": "getServiceDescription", **operation}},
        },
        "components": {"securitySchemes": {"OAuth2ACG": {
            "type": "oauth2", "description": "OAuth 2.0 Authorization Code Grant with PKCE (S256).",
            "x-imssf-registrationUrl": f"{base}{OAUTH_PREFIX}/register",
            "flows": {"authorizationCode": {"authorizationUrl": f"{base}{OAUTH_PREFIX}/authorize",
                                            "tokenUrl": f"{base}{OAUTH_PREFIX}/token",
                                            "refreshUrl": f"{base}{OAUTH_PREFIX}/token",
                                            "scopes": dict(SCOPES)}}}}},
    }
    response = Response(json.dumps(document, indent=1), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _query_int(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:  # \d would take "１" and "١"
        raise InputError(Code.OB_QUERY_INVALID, f"{name} must be a whole number from {low} to {high}.")
    return int(text)


def _since() -> datetime | None:
    text = request.args.get("since")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00")) if len(text) <= 40 else None
    except ValueError:
        moment = None
    if moment is None:
        raise InputError(Code.OB_QUERY_INVALID, "since must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z.")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@bp.get("/credentials")
def get_credentials() -> Response:
    """getCredentials: one page of the learner's credentials, with X-Total-Count and Link."""
    token = _authorize(SCOPE_BASE + "credential.readonly")
    limit = _query_int("limit", MAX_LIMIT, 1, MAX_LIMIT)
    offset = _query_int("offset", 0, 0, MAX_OFFSET)
    since = _since()
    held = held_credentials(_issuer(), token.email, since=since)
    page = held[offset:offset + limit]
    body = {"credential": [h.value for h in page if not h.is_jws],
            "compactJwsString": [h.value for h in page if h.is_jws]}
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers["X-Total-Count"] = str(len(held))
    response.headers["Cache-Control"] = "no-store"
    links = _page_links(len(held), limit, offset)
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _page_links(total: int, limit: int, offset: int) -> list[str]:
    base = f"{_issuer().settings.url}{PREFIX}/credentials"
    extra = {"since": request.args["since"]} if "since" in request.args else {}

    def link(at: int, rel: str) -> str:
        return f'<{base}?{urlencode({"limit": limit, "offset": at, **extra})}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = []
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    if total > limit or offset > 0:
        links += [link(0, "first"), link(last, "last")]
    return links


def _body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The body is larger than the {limit:,} bytes this endpoint takes.")
    data = request.get_data(cache=True)
    if len(data) > limit:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The body is larger than the {limit:,} bytes this endpoint takes.")
    return data


@bp.post("/credentials")
def upsert_credential() -> Response:
    """upsertCredential: verify a credential awarded to the learner and keep it."""
    token = _authorize(SCOPE_BASE + "credential.upsert")
    data = _body(MAX_BODY)
    if request.mimetype in _JSON_TYPES:
        read_json_object(data)  # bounded: size, depth, duplicate keys
        fmt, text = "json", data.decode("utf-8")
    elif request.mimetype == "text/plain":
        text = data.decode("utf-8", "replace").strip()
        if not _JWS.match(text):
            raise InputError(Code.OB_CREDENTIAL_REFUSED, "A text/plain body must be one compact JWS (a VC-JWT).")
        fmt = "jws"
    else:
        raise UnsupportedMediaType(Code.UNSUPPORTED_MEDIA_TYPE, "Send the credential as application/json or "
                                                                "as a compact JWS in text/plain.")
    report = current_app.extensions["badgesmith"].verify(text.encode("utf-8"), email=token.email)
    if not report.verified:
        failed = next((c for c in report.checks if c.outcome == "failed"), None)
        why = f" {failed.message}" if failed else ""
        raise InputError(Code.OB_CREDENTIAL_REFUSED, f"The credential was not stored: it does not verify as "
                                                     f"awarded to the signed-in learner.{why}",
                         check=failed.code if failed else None)
    summary = report.credential or {}
    credential_id, credential_issuer = summary.get("id"), (summary.get("issuer") or {}).get("id")
    if not credential_id or not credential_issuer:
        raise InputError(Code.OB_CREDENTIAL_REFUSED, "The credential needs an id and an issuer id to be kept.")
    outcome = store_credential(_issuer(), token.email, text=text, fmt=fmt, credential_issuer=credential_issuer,
                               credential_id=credential_id, valid_from=summary.get("validFrom"))
    if outcome == UNCHANGED:
        return Response(status=304)
    response = Response(text, status=201 if outcome == CREATED else 200,
                        mimetype="application/json" if fmt == "json" else "text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/profile")
def get_profile() -> Response:
    """getProfile: the learner's Profile."""
    token = _authorize(SCOPE_BASE + "profile.readonly")
    response = Response(json.dumps(learner_profile(_issuer(), token.email)), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.put("/profile")
def put_profile() -> Response:
    """putProfile: replace the learner's Profile with a valid OB 3.0 Profile."""
    token = _authorize(SCOPE_BASE + "profile.update")
    if request.mimetype not in _JSON_TYPES:
        raise UnsupportedMediaType(Code.UNSUPPORTED_MEDIA_TYPE, "Send the profile as application/json.")
    profile = read_json_object(_body(MAX_PROFILE))
    from schemas.validate import validate

    problems = validate(profile, kind="profile")
    if problems:
        raise InputError(Code.OB_PROFILE_INVALID, f"The profile is not an OB 3.0 Profile: {problems[0]}.",
                         problems=[str(p) for p in problems[:10]])
    store_profile(_issuer(), token.email, profile)
    response = Response(json.dumps(profile), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["MAX_LIMIT", "MAX_OFFSET", "OAUTH_PREFIX", "PREFIX", "authorization_server", "bp", "imsx_error",
           "is_ob_api_request"]
