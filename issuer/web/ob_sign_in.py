"""The OB API's OAuth endpoints and the learner's sign-in and consent pages (``/ob/oauth/…``, ``/ob/sign-in/…``).

- ``POST /ob/oauth/register``: RFC 7591 registration (rate limited per address:
  ``OB_REGISTER_RATE_LIMIT``, default 20/hour; body at most 16 kB).
- ``GET /ob/oauth/authorize``: the host sends the learner here (code, PKCE S256).
  The page asks for the learner's e-mail address; ``POST`` to the same address
  sends a one-time sign-in link (``SIGN_IN_TTL``) through the instance's SMTP
  relay (``[smtp]``), or, with ``[web] ob_sign_in = "print"`` (a test deployment),
  prints it on the server's console. Sign-in mails are rate limited per address
  (``OB_SIGN_IN_RATE_LIMIT``, default 5/hour) and per client address
  (``OB_SIGN_IN_ADDRESS_RATE_LIMIT``, default 30/hour). The page says the same
  whatever the address, so it tells nobody who holds badges here.
- ``GET /ob/sign-in/<token>``: the consent page (the host's name, logo, site and
  the scopes in words). Opening it spends nothing (mail scanners open links);
  ``POST`` spends the link and sends the browser back to the host with a code
  (or ``access_denied``).
- ``POST /ob/oauth/token`` (authorization_code, refresh_token) and
  ``POST /ob/oauth/revoke`` (RFC 7009), both with client_secret_basic.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import sys
from collections.abc import Callable
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InsecureTransportError, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select, update

from errors import BadgesmithError, Code, ConfigError, InputError, NotFound
from issuer.badge.recipient import normalise_email
from issuer.store.models import ObSignInRow
from issuer.web.oauth_server import SCOPE_WORDS, HostClient, Learner, hash_secret, is_loopback_uri
from issuer.web.ob_api import OAUTH_PREFIX, authorization_server
from verifier.ratelimit import RateLimited, RateLimiter, RateLimitUnavailable, limiter_from_config
from verifier.web import read_json_object

bp = Blueprint("ob_oauth", __name__)

SIGN_IN_TTL = 900  # seconds: long enough to find the mail, short enough to be worthless later
SIGN_IN_PATH = "/ob/sign-in"
MAX_REGISTRATION = 16 * 1024
_PARAMETERS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
               "code_challenge_method")
_LIMITS = {"OB_SIGN_IN_RATE_LIMIT": ("5/hour", "sign-in e-mails to one address"),
           "OB_SIGN_IN_ADDRESS_RATE_LIMIT": ("30/hour", "sign-in e-mails"),
           "OB_REGISTER_RATE_LIMIT": ("20/hour", "client registrations")}
Mailer = Callable[[EmailMessage], None]


def _limiter(name: str) -> RateLimiter | None:
    limiters = current_app.extensions.setdefault("badgesmith.ob_limiters", {})
    if name not in limiters:
        default, what = _LIMITS[name]
        limiters[name] = limiter_from_config(current_app.config.get(name, default), what=what,
                                             storage=current_app.config.get("RATE_LIMIT_STORAGE"))
    return limiters[name]


def _take(name: str, key: str) -> None:
    limiter = _limiter(name)
    if limiter is not None:
        limiter.take(key)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _oauth_json(status: int, error: str, description: str) -> Response:
    return _no_store(Response(json.dumps({"error": error, "error_description": description}), status=status,
                              mimetype="application/json"))


@bp.errorhandler(InsecureTransportError)
def _insecure(error: InsecureTransportError) -> Response:
    """OAuth over plain http (other than to a loopback address) is refused, not served (a proxy that
    terminates TLS must say so: ``[web] proxy_count``)."""
    return _oauth_json(400, "invalid_request", "OAuth requests must use https.")


def _unreadable_basic() -> Response | None:
    """The ``invalid_client`` answer for an ``Authorization`` header Authlib reads unguarded and would raise on: a
    scheme and a space with nothing after, or Basic credentials that are not UTF-8 text; otherwise None."""
    header = request.headers.get("Authorization", "")
    parts = header.split(None, 1)  # as Authlib splits it
    try:
        if " " in header and len(parts) < 2:
            raise ValueError("a scheme, a space, then nothing")
        if parts and parts[0].lower() == "basic":
            base64.b64decode(parts[1]).decode("utf-8")
    except binascii.Error:
        return None  # Authlib refuses unreadable base64 itself (invalid_client)
    except ValueError:  # bytes that are no UTF-8 (UnicodeDecodeError), or no credentials at all
        response = _oauth_json(401, "invalid_client", "The client credentials (HTTP Basic) are missing or not "
                                                      "UTF-8 text.")
        response.headers["WWW-Authenticate"] = 'Basic error="invalid_client"'
        return response
    return None


# Authlib leaves error_description out of some refusals; a host's developer still gets one sentence.
_DESCRIPTIONS = {
    "unsupported_grant_type": "Only the authorization_code and refresh_token grants are supported here.",
    "invalid_grant": "The code or refresh token is unknown, expired, already used, or was issued to another client.",
    "invalid_request": "The request lacks a parameter it needs (a revocation needs token).",
    "unsupported_token_type": "token_type_hint must be access_token or refresh_token.",
    "invalid_client": "The client could not be authenticated with client_secret_basic.",
    "invalid_scope": "The scope asked for is not one this client registered.",
    "unauthorized_client": "This client may not use that grant.",
}


def _described(response: Response) -> Response:
    if response.status_code >= 400 and response.mimetype == "application/json":
        body = json.loads(response.get_data())
        if isinstance(body, dict) and body.get("error") and not body.get("error_description"):
            body["error_description"] = _DESCRIPTIONS.get(body["error"], "The request was refused.")
            response.set_data(json.dumps(body))
    return response


# -- registration, token, revocation ----------------------------------------------------------


@bp.post(OAUTH_PREFIX + "/register")
def register() -> Response:
    """RFC 7591 dynamic client registration, without an initial access token."""
    server = authorization_server()
    try:
        _take("OB_REGISTER_RATE_LIMIT", request.remote_addr or "unknown")
    except (RateLimited, RateLimitUnavailable) as error:
        response = _oauth_json(error.http_status, getattr(error, "oauth_error", "invalid_request"), error.message)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if not request.is_json:
        return _oauth_json(400, "invalid_client_metadata", "Send the registration as application/json.")
    data = request.get_data(cache=True) if (request.content_length or 0) <= MAX_REGISTRATION else b""
    if len(data) > MAX_REGISTRATION or not data:
        return _oauth_json(400, "invalid_client_metadata",
                           f"The registration must be a JSON object of at most {MAX_REGISTRATION:,} bytes.")
    try:
        metadata = read_json_object(data)
    except BadgesmithError as error:
        return _oauth_json(400, "invalid_client_metadata", error.message)
    response = server.create_endpoint_response(
        "client_registration", server.json_request("POST", request.url, request.headers, metadata))
    return _no_store(response)


@bp.post(OAUTH_PREFIX + "/token")
def token() -> Response:
    """The token endpoint: authorization_code (with code_verifier) and refresh_token grants."""
    server = authorization_server()
    if request.mimetype != "application/x-www-form-urlencoded":
        return _oauth_json(400, "invalid_request", "Send the token request as application/x-www-form-urlencoded.")
    if request.args:
        return _oauth_json(400, "invalid_request", "Send the token request's parameters in the body, not the URL.")
    refused = _unreadable_basic()
    return refused if refused is not None else _no_store(_described(server.create_token_response()))


@bp.post(OAUTH_PREFIX + "/revoke")
def revoke() -> Response:
    """RFC 7009 token revocation (an access or a refresh token; both stop)."""
    server = authorization_server()
    if request.mimetype != "application/x-www-form-urlencoded" or request.args:
        return _oauth_json(400, "invalid_request", "Send the revocation as application/x-www-form-urlencoded.")
    refused = _unreadable_basic()
    return refused if refused is not None else _no_store(_described(server.create_endpoint_response("revocation")))


# -- authorization: sign-in and consent ------------------------------------------------------


def _host(client: HostClient) -> dict[str, Any]:
    logo = str(client.metadata.get("logo_uri") or "")
    site = str(client.metadata.get("client_uri") or "")
    return {"name": client.name, "logo": logo if urlsplit(logo).scheme in ("https", "http") else None,
            "site": site or None, "site_host": urlsplit(site).hostname or ""}


def _grant(server: Any, oauth_request: OAuth2Request) -> tuple[Any, Response | None]:
    """The validated authorization grant, or the response that ends the request (a redirect with an error)."""
    try:
        grant = server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return None, server.handle_error_response(oauth_request, error)
        raise InputError(Code.OB_AUTHORIZATION_INVALID, "This authorization request cannot be used "
                         f"({error.description or error.error}); go back to the site that sent you here.") from None
    except ValueError:  # Authlib refuses to build an error that would echo a control character back
        raise InputError(Code.OB_AUTHORIZATION_INVALID, "This authorization request cannot be used (a parameter "
                         "holds control characters); go back to the site that sent you here.") from None
    return grant, None


def _page_policy(response: Response, client: HostClient, redirect_uri: str) -> Response:
    # The consent form's answer redirects to the host, and the page shows the host's logo: the page's own
    # Content-Security-Policy names those two origins, and nothing else is loosened.
    def origin(uri: str) -> str:
        parts = urlsplit(uri)
        if is_loopback_uri(uri):
            return f"http://{parts.hostname if ':' not in (parts.hostname or '') else f'[{parts.hostname}]'}:*"
        return f"{parts.scheme}://{parts.netloc}"

    logo = _host(client)["logo"]
    images = f" {origin(logo)}" if logo else ""
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:{images}; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; base-uri 'none'; form-action 'self' {origin(redirect_uri)}")
    response.headers["Referrer-Policy"] = "no-referrer"  # the sign-in token is in the URL
    return _no_store(response)


@bp.route(OAUTH_PREFIX + "/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    """Ask who the learner is (GET), then e-mail them a one-time sign-in link (POST)."""
    server = authorization_server()
    if len(request.query_string) > 4096:
        raise InputError(Code.OB_AUTHORIZATION_INVALID, "This authorization request is too long.")
    oauth_request = server.create_oauth2_request(None)
    grant, ended = _grant(server, oauth_request)
    if ended is not None:
        return ended
    client = grant.client
    host, minutes = _host(client), SIGN_IN_TTL // 60
    action = request.full_path
    if request.method == "GET":
        return _no_store(Response(render_template("ob/sign_in.html", host=host, action=action, minutes=minutes)))
    typed = request.form.get("email", "")[:320]
    try:
        email = normalise_email(typed)
    except InputError as error:
        page = render_template("ob/sign_in.html", host=host, action=action, minutes=minutes, email=typed,
                               problem=f"{error.message} Type the address your badges were sent to.")
        return _no_store(Response(page, status=400))
    _take("OB_SIGN_IN_ADDRESS_RATE_LIMIT", request.remote_addr or "unknown")
    _take("OB_SIGN_IN_RATE_LIMIT", hash_secret(email))
    issuer = server.issuer
    link_token = secrets.token_urlsafe(32)
    now = server.now()
    params = {name: request.args[name] for name in _PARAMETERS if name in request.args}
    with issuer.registry.session() as s:
        s.add(ObSignInRow(issuer_id=issuer.issuer_id, token_hash=hash_secret(link_token), email=email,
                          request=params, created_at=now, expires_at=now + timedelta(seconds=SIGN_IN_TTL)))
    _send_sign_in(issuer, email, f"{issuer.settings.url}{SIGN_IN_PATH}/{link_token}", host["name"], minutes)
    return _no_store(Response(render_template("ob/check_mail.html", host=host, email=email, minutes=minutes)))


def _sign_in(token: str, *, spend: bool) -> ObSignInRow:
    server = authorization_server()
    issuer, now = server.issuer, server.now()
    gone = NotFound(Code.OB_SIGN_IN_INVALID, "This sign-in link has expired or was already used; go back to the "
                                             "site that sent you and start again.")
    if not 20 <= len(token) <= 100:
        raise gone
    where = (ObSignInRow.token_hash == hash_secret(token), ObSignInRow.issuer_id == issuer.issuer_id,
             ObSignInRow.used_at.is_(None), ObSignInRow.expires_at > now)
    with issuer.registry.session() as s:
        if spend and s.execute(update(ObSignInRow).where(*where).values(used_at=now)).rowcount != 1:
            raise gone
        row = s.scalar(select(ObSignInRow).where(*where[:2]))
        if row is None or (not spend and (row.used_at is not None or row.expires_at <= now)):
            raise gone
        s.expunge(row)
        return row


def _resumed(row: ObSignInRow) -> OAuth2Request:
    """The authorization request the sign-in link was made for, to validate again and answer."""
    stored = {k: v for k, v in dict(row.request).items() if k in _PARAMETERS and isinstance(v, str)}
    oauth_request = OAuth2Request("GET", request.url)
    oauth_request.payload = BasicOAuth2Payload(stored)
    return oauth_request


@bp.route(SIGN_IN_PATH + "/<token>", methods=["GET", "POST"])
def sign_in(token: str) -> Response:
    """The consent page (GET), and the learner's answer (POST): back to the host with a code or a refusal."""
    server = authorization_server()
    row = _sign_in(token, spend=request.method == "POST")
    oauth_request = _resumed(row)
    grant, ended = _grant(server, oauth_request)
    if ended is not None:
        return ended
    client = grant.client
    redirect_uri = row.request.get("redirect_uri") or client.get_default_redirect_uri()
    if request.method == "GET":
        scopes = [SCOPE_WORDS.get(s, s) for s in str(row.request.get("scope", "")).split()]
        page = render_template("ob/consent.html", host=_host(client), email=row.email, scopes=scopes,
                               redirect_host=urlsplit(redirect_uri).netloc, action=request.path)
        return _page_policy(Response(page), client, redirect_uri)
    learner = Learner(row.email) if request.form.get("decision") == "allow" else None
    response = server.create_authorization_response(oauth_request, grant_user=learner, grant=grant)
    return _no_store(response)


# -- the sign-in e-mail ----------------------------------------------------------------------------


def _send_sign_in(issuer: Any, email: str, link: str, host_name: str, minutes: int) -> None:
    """E-mail the link through the instance's relay, print it (``ob_sign_in = "print"``), or hand it to an
    injected ``OB_SIGN_IN_MAILER`` (tests)."""
    brand = issuer.settings.public_brand
    message = EmailMessage()
    sender = issuer.settings.email
    mode = str(current_app.config.get("OB_SIGN_IN") or "smtp").lower()
    mailer: Mailer | None = current_app.config.get("OB_SIGN_IN_MAILER")
    if mode == "print" and mailer is None:
        # A test deployment: the operator reads the link on the console that runs `badgesmith serve`.
        print(f"[badgesmith] sign-in link for {email} (valid {minutes} minutes): {link}", file=sys.stderr,
              flush=True)
        return
    if not sender:
        raise ConfigError(Code.CONFIG_INVALID, "Learners sign in by e-mail: set email under [issuer] in "
                          "badgesmith.toml (the sender), or ob_sign_in = \"print\" under [web] for a test site.")
    message["From"] = Address(brand.name, addr_spec=sender)
    message["To"] = email
    message["Subject"] = f"Sign in to connect {host_name[:80]} to your badges"
    message.set_content(
        f"Hello,\n\n{host_name} asks to connect to the badges {brand.name} keeps for you.\n\n"
        f"To decide what it may do, open this link within {minutes} minutes:\n\n{link}\n\n"
        "If you did not ask for this, ignore this message: nothing happens without you.\n\n"
        f"{brand.name}\n")
    if mailer is not None:
        mailer(message)
        return
    from issuer.records.notices import send_message, smtp_relay

    if not issuer.settings.smtp.host:
        raise ConfigError(Code.CONFIG_INVALID, "Learners sign in by e-mail, and badgesmith.toml has no [smtp] host: "
                          "add the relay, or set ob_sign_in = \"print\" under [web] for a test site.")
    send_message(smtp_relay(issuer.settings.smtp), message)


__all__ = ["SIGN_IN_TTL", "bp"]
