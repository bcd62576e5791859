"""Pushing a badge into a learner's host: the Open Badges 3.0 API as Service Consumer (Write).

``push_credential(issuer, credential_id, host)`` does the whole exchange:

1. reads the host's Service Description Document (``/ims/ob/v3p0/discovery``);
2. registers this instance there by RFC 7591, once per host: the registration
   (client id and secret) is remembered in the instance database, sealed with
   AES-GCM under a key derived from the instance secret;
3. has the learner authorize: the authorization link (PKCE S256, a random
   ``state``) goes to ``on_link`` (the CLI prints it) and the host sends the
   learner's browser back to a loopback address this process listens on
   (``http://127.0.0.1:<port>/callback``, RFC 8252 §7.3), for up to ``wait``
   seconds; a refresh token the host gave for the same learner is remembered
   (sealed) and used first, so pushing again does not ask again;
4. upserts the credential (JSON, or a VC-JWT as ``text/plain``). The host keys
   credentials by issuer and id, so pushing again replaces instead of adding.

HTTP goes through ``send`` (injected; ``http_send`` by default: https, or
http to a loopback address only, a time limit and a size limit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import secrets
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from errors import AuthError, BadgesmithError, Code, InputError, InputTooLarge, NotFound, UpstreamError
from issuer.awarding.issuing import Issuer
from issuer.store.models import ObHostRow
from verifier.web import read_json_object

UPSERT_SCOPE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
API_PATH = "/ims/ob/v3p0"
REDIRECT_PATH = "/callback"
SOFTWARE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://badgesmith.example/ob-api-client"))
MAX_ANSWER = 5 * 1024 * 1024
TIMEOUT = 20.0
WAIT = 600.0  # seconds the learner has to authorize


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, headers (lower-case names), body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


Send = Callable[[str, str, Mapping[str, str], bytes | None], Answer]  # send(method, url, headers, body)


@dataclass(frozen=True, slots=True)
class Pushed:
    """What a push did: the host's answer to the upsert, and whether the learner had to authorize."""

    host: str
    credential_id: str
    status: int  # 201 created, 200 replaced, 304 the host holds a newer one
    registered: bool  # this push registered with the host (first push there)
    authorized: bool  # the learner authorized in this push (no remembered refresh token worked)

    @property
    def outcome(self) -> str:
        return {201: "created", 200: "replaced", 304: "unchanged"}.get(self.status, str(self.status))

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "credential": self.credential_id, "outcome": self.outcome,
                "status": self.status, "registered": self.registered, "authorized": self.authorized}


def _is_loopback(host: str | None) -> bool:
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return host == "localhost"


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.hostname) and (parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)))


def http_send(method: str, url: str, headers: Mapping[str, str], body: bytes | None = None, *,
              timeout: float = TIMEOUT, max_bytes: int = MAX_ANSWER) -> Answer:
    """One HTTP exchange with a learner's host: https (or http on a loopback address), no redirects followed."""
    parts = urlsplit(url)
    if not _allowed(url):
        raise UpstreamError(Code.FETCH_REFUSED, f"{url[:200]} is not an https address; a host is reached over TLS.")
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=dict(headers))
        response = connection.getresponse()
        data = response.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputTooLarge(Code.INPUT_TOO_LARGE, f"{parts.hostname} answered more than {max_bytes:,} bytes.")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except (OSError, http.client.HTTPException) as error:
        raise UpstreamError(Code.FETCH_FAILED, f"{parts.hostname} could not be reached ({error}).") from None
    finally:
        connection.close()


# -- remembering registrations and refresh tokens, sealed ---------------------------------------


def _key(issuer: Issuer) -> bytes:
    return hmac.new(issuer.settings.lookup_secret, b"badgesmith/ob-push-seal/v1", hashlib.sha256).digest()


def _seal(issuer: Issuer, where: str, value: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(issuer)).encrypt(nonce, json.dumps(value).encode(), where.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def _unseal(issuer: Issuer, where: str, text: str) -> dict[str, Any] | None:
    try:
        raw = base64.b64decode(text)
        return json.loads(AESGCM(_key(issuer)).decrypt(raw[:12], raw[12:], where.encode()))
    except (ValueError, InvalidTag):
        return None  # sealed under another instance secret: as if never remembered


def _recall(issuer: Issuer, base: str, learner: str) -> dict[str, Any] | None:
    with issuer.registry.session(write=False) as s:
        text = s.scalar(select(ObHostRow.sealed).where(ObHostRow.issuer_id == issuer.issuer_id,
                                                       ObHostRow.base_url == base, ObHostRow.lookup_key == learner))
    return None if text is None else _unseal(issuer, f"{base}|{learner}", text)


def _remember(issuer: Issuer, base: str, learner: str, value: dict[str, Any] | None) -> None:
    with issuer.registry.session() as s:
        row = s.scalar(select(ObHostRow).where(ObHostRow.issuer_id == issuer.issuer_id, ObHostRow.base_url == base,
                                               ObHostRow.lookup_key == learner))
        if value is None:
            if row is not None:
                s.delete(row)
            return
        sealed = _seal(issuer, f"{base}|{learner}", value)
        if row is None:
            s.add(ObHostRow(issuer_id=issuer.issuer_id, base_url=base, lookup_key=learner, sealed=sealed,
                            updated_at=issuer.now()))
        else:
            row.sealed, row.updated_at = sealed, issuer.now()


# -- the exchange -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Discovery:
    """What a push needs from the host's Service Description Document."""

    api: str  # base of the API (servers[0].url)
    registration: str
    authorization: str
    token: str


def _json(answer: Answer, what: str, host: str) -> dict[str, Any]:
    try:
        return read_json_object(answer.body)
    except BadgesmithError:
        raise UpstreamError(Code.OB_HOST_INVALID, f"{host} answered the {what} with something that is not a JSON "
                            f"object (HTTP {answer.status}).") from None


def read_discovery(base: str, send: Send) -> Discovery:
    """The host's registration, authorization and token URLs, and its API base (https, or loopback http)."""
    answer = send("GET", base + API_PATH + "/discovery", {"Accept": "application/json"}, None)
    if answer.status != 200:
        raise UpstreamError(Code.OB_HOST_INVALID, f"{base} has no Open Badges 3.0 discovery document "
                            f"(GET {API_PATH}/discovery answered {answer.status}).")
    document = _json(answer, "discovery request", base)
    try:
        scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
        flow = scheme["flows"]["authorizationCode"]
        servers = document.get("servers") or [{"url": base + API_PATH}]
        found = Discovery(str(servers[0]["url"]).rstrip("/"), str(scheme["x-imssf-registrationUrl"]),
                          str(flow["authorizationUrl"]), str(flow["tokenUrl"]))
        scopes = flow.get("scopes") or {}
    except (KeyError, TypeError, IndexError, AttributeError):
        raise UpstreamError(Code.OB_HOST_INVALID, f"{base}'s discovery document has no OAuth2ACG scheme with "
                            "x-imssf-registrationUrl, authorizationUrl and tokenUrl.") from None
    unusable = [url for url in (found.api, found.registration, found.authorization, found.token) if not _allowed(url)]
    if unusable:
        raise UpstreamError(Code.OB_HOST_INVALID, f"{base}'s discovery document names {unusable[0][:200]}, "
                            "which is not an https address.")
    if UPSERT_SCOPE not in scopes:
        raise UpstreamError(Code.OB_HOST_INVALID, f"{base} does not offer the credential.upsert scope.")
    return found


def _client_metadata(issuer: Issuer) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    url, brand = issuer.settings.url, issuer.settings.public_brand
    links = {link.label.lower(): link.url for link in brand.footer_links}
    try:
        software_version = version("badgesmith")
    except PackageNotFoundError:
        software_version = "0"
    return {
        "client_name": brand.name, "client_uri": url,
        "logo_uri": f"{url}/brand/logo" if brand.logo else f"{url}/static/ob-api.svg",
        "tos_uri": next((u for k, u in links.items() if "terms" in k), f"{url}/issuer"),
        "policy_uri": next((u for k, u in links.items() if "privacy" in k), f"{url}/issuer"),
        "software_id": SOFTWARE_ID, "software_version": software_version,
        "redirect_uris": [f"http://127.0.0.1{REDIRECT_PATH}"], "scope": UPSERT_SCOPE,
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }


def _refused(host: str, what: str, answer: Answer) -> UpstreamError:
    try:
        body = json.loads(answer.body)
        said = body.get("error_description") or body.get("imsx_description") or body.get("error") or ""
    except (ValueError, AttributeError):
        said = ""
    said = f": {str(said)[:300]}" if said else ""
    return UpstreamError(Code.OB_HOST_REFUSED, f"{host} refused the {what} (HTTP {answer.status}){said}.",
                         status=answer.status)


def _register(issuer: Issuer, base: str, found: Discovery, send: Send) -> dict[str, Any]:
    answer = send("POST", found.registration, {"Content-Type": "application/json", "Accept": "application/json"},
                  json.dumps(_client_metadata(issuer)).encode())
    if answer.status not in (200, 201):
        raise _refused(base, "registration", answer)
    body = _json(answer, "registration", base)
    if not isinstance(body.get("client_id"), str) or not isinstance(body.get("client_secret"), str):
        raise UpstreamError(Code.OB_HOST_INVALID, f"{base}'s registration answer has no client_id and client_secret.")
    registration = {"client_id": body["client_id"], "client_secret": body["client_secret"]}
    _remember(issuer, base, "", registration)
    return registration


def _basic(registration: Mapping[str, str]) -> str:
    pair = f"{quote(registration['client_id'], safe='')}:{quote(registration['client_secret'], safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _token(base: str, found: Discovery, registration: Mapping[str, str], form: dict[str, str],
           send: Send) -> Answer:
    return send("POST", found.token, {"Content-Type": "application/x-www-form-urlencoded",
                                      "Accept": "application/json", "Authorization": _basic(registration)},
                urlencode(form).encode())


class LoopbackReceiver:
    """Listens on 127.0.0.1 for the one redirect that brings the learner's browser back with a code."""

    def __init__(self) -> None:
        self._got: dict[str, str] | None = None
        self._arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                if parts.path != REDIRECT_PATH or receiver._arrived.is_set():
                    self.send_error(404)
                    return
                receiver._got = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
                receiver._arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"Badgesmith received the answer; you can close this window.\n")

            def log_message(self, *args: Any) -> None:
                pass  # the query holds the code: it is not logged

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}{REDIRECT_PATH}"

    def __enter__(self) -> LoopbackReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, seconds: float) -> dict[str, str] | None:
        """The redirect's query parameters, or None when the learner did not come back in time."""
        return self._got if self._arrived.wait(seconds) else None


def _authorize(base: str, found: Discovery, registration: Mapping[str, str], send: Send,
               on_link: Callable[[str], None], wait: float) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    with LoopbackReceiver() as receiver:
        link = found.authorization + ("&" if "?" in found.authorization else "?") + urlencode({
            "response_type": "code", "client_id": registration["client_id"], "redirect_uri": receiver.redirect_uri,
            "scope": UPSERT_SCOPE, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})
        on_link(link)
        answer = receiver.wait(wait)
    if answer is None:
        raise AuthError(Code.OB_AUTHORIZATION_DENIED, f"The learner did not authorize within {wait:g} seconds; "
                        "run the push again and open the new link.")
    if not hmac.compare_digest(answer.get("state", ""), state):
        raise AuthError(Code.OB_AUTHORIZATION_DENIED, "The answer that came back does not carry this push's state; "
                        "it was not used.")
    if "code" not in answer:
        why = ": ".join(filter(None, (answer.get("error"), answer.get("error_description")))) or "no code"
        raise AuthError(Code.OB_AUTHORIZATION_DENIED, f"The host did not authorize the push ({why[:200]}).")
    got = _token(base, found, registration, {"grant_type": "authorization_code", "code": answer["code"],
                                             "redirect_uri": receiver.redirect_uri, "code_verifier": verifier}, send)
    if got.status != 200:
        raise _refused(base, "authorization code", got)
    return _json(got, "token request", base)


def _refresh(base: str, found: Discovery, registration: Mapping[str, str], remembered: Mapping[str, Any],
             send: Send) -> dict[str, Any] | None:
    got = _token(base, found, registration, {"grant_type": "refresh_token",
                                             "refresh_token": str(remembered.get("refresh_token"))}, send)
    return _json(got, "refresh", base) if got.status == 200 else None


def push_credential(issuer: Issuer, credential_id: str, host: str, *, send: Send = http_send,
                    on_link: Callable[[str], None], wait: float = WAIT) -> Pushed:
    """Push one of this instance's credentials into the learner's host at ``host`` (its base URL)."""
    base = host.strip().rstrip("/")
    if not _allowed(base) or urlsplit(base).query or urlsplit(base).fragment:
        raise InputError(Code.USAGE, f"--to {host[:200]!r} must be the host's https base URL, e.g. "
                                     "https://backpack.example.")
    wanted = credential_id if credential_id.startswith("urn:uuid:") else f"urn:uuid:{credential_id}"
    record = issuer.registry.get_credential(wanted.strip(), issuer_id=issuer.issuer_id)
    if record is None:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"This instance issued no credential {credential_id[:100]!r}; "
                                                  "see `badgesmith list`.")
    learner = record.lookup_key or hashlib.sha256(record.id.encode()).hexdigest()
    found = read_discovery(base, send)
    registration = _recall(issuer, base, "")
    registered = registration is None
    if registration is None:
        registration = _register(issuer, base, found, send)
    remembered = _recall(issuer, base, learner)
    tokens = _refresh(base, found, registration, remembered, send) if remembered else None
    authorized = tokens is None
    if tokens is None:
        tokens = _authorize(base, found, registration, send, on_link, wait)
    if not isinstance(tokens.get("access_token"), str):
        raise UpstreamError(Code.OB_HOST_INVALID, f"{base}'s token answer has no access_token.")
    _remember(issuer, base, learner, {"refresh_token": tokens["refresh_token"]}
              if isinstance(tokens.get("refresh_token"), str) else None)
    kind = "text/plain" if record.format == "jwt" else "application/json"
    answer = send("POST", found.api + "/credentials", {"Content-Type": kind, "Accept": "application/json",
                                                       "Authorization": f"Bearer {tokens['access_token']}"},
                  record.credential.encode("utf-8"))
    if answer.status not in (200, 201, 304):
        raise _refused(base, "credential", answer)
    return Pushed(base, record.id, answer.status, registered, authorized)


__all__ = ["Answer", "Discovery", "LoopbackReceiver", "Pushed", "Send", "http_send", "push_credential",
           "read_discovery"]
