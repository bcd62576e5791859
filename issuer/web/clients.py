"""OAuth 2.0 client credentials for the VC API: clients, hashed secrets, bearer tokens.

- A client has a random id, a random secret shown once (only a salted scrypt
  hash is stored, compared in constant time) and scopes: ``issue`` and/or
  ``status``. An unknown or revoked client id costs one scrypt of the same
  parameters as a known one (a dummy hash), so timing does not tell which
  client ids exist.
- ``POST /oauth/token`` (client credentials grant) hands out short-lived
  bearer tokens: stateless, HMAC-SHA256-signed with a key derived from the
  instance's secret, carrying client id, scopes, audience and expiry. Any
  gunicorn worker can check them without a database write.
- Every use of a token also reads the client's row, so revoking a client stops
  its tokens at once, not when they expire.

Failures are ``AuthError`` (401) or ``Forbidden`` (403) with the RFC 6750
``WWW-Authenticate`` challenge in ``error.headers``; token-endpoint failures
carry the RFC 6749 error name in ``error.oauth_error``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from errors import AuthError, BadgesmithError, Code, Conflict, Forbidden, InputError, NotFound
from issuer.store.models import ClientRecord, ClientRow
from issuer.store.registry import Registry

SCOPES = ("issue", "status")
TOKEN_TTL = 600  # seconds: long enough for a batch, short enough that a leaked token soon dies
_TOKEN_PREFIX = "bst1"
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}  # ~16 MiB and ~40 ms per check: slow for guessing, fine per token
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,100}$")  # what is worth a database lookup (ids are 32 hex digits)
Kdf = Callable[..., bytes]  # hashlib.scrypt's signature: (password, *, salt, n, r, p, dklen) -> bytes


@dataclass(frozen=True, slots=True)
class NewClient:
    """A created client and its secret: the only time the secret exists outside the caller's hands."""

    record: ClientRecord
    secret: str


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token as the token endpoint returns it."""

    access_token: str
    expires_in: int
    scopes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The RFC 6749 §5.1 response body."""
        return {"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in,
                "scope": " ".join(self.scopes)}


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid bearer token allows: who is calling, with which scopes."""

    client_id: str
    name: str
    scopes: frozenset[str]


def hash_secret(secret: str, *, salt: bytes | None = None, kdf: Kdf = hashlib.scrypt) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``secret`` with a fresh 16-byte salt."""
    salt = salt or secrets.token_bytes(16)
    digest = kdf(secret.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + f"{_b64(salt)}${_b64(digest)}"


def secret_matches(secret: str, stored: str, *, kdf: Kdf = hashlib.scrypt) -> bool:
    """True when ``secret`` hashes to ``stored`` (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        actual = kdf(secret.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return kind == "scrypt" and hmac.compare_digest(actual, expected)


# Checked when the client id is unknown or revoked: the same scrypt cost as a real client's hash, so a
# wrong id takes as long as a wrong secret. No secret hashes to it (its digest is not scrypt output).
_DUMMY_HASH = "scrypt${n}${r}${p}$".format(**_SCRYPT) + "A" * 22 + "$" + "A" * 43  # 16 and 32 zero bytes


def parse_scopes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Scopes from ``issue,status`` / ``issue status`` / a list, checked against ``SCOPES``."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value or ())
    unknown = [s for s in items if s not in SCOPES]
    if unknown:
        raise InputError(Code.USAGE, f"Unknown scope {unknown[0][:40]!r}; use {' and/or '.join(SCOPES)}.")
    return tuple(s for s in SCOPES if s in items)


class Clients:
    """The OAuth clients of one issuer, and the tokens they are given."""

    def __init__(self, registry: Registry, issuer_id: int, *, secret: bytes, audience: str,
                 now: Callable[[], datetime], ttl: int = TOKEN_TTL, kdf: Kdf = hashlib.scrypt) -> None:
        """``secret`` is the instance secret the token key is derived from; ``audience`` the base URL;
        ``kdf`` hashes client secrets (``hashlib.scrypt``; tests count its calls)."""
        self.registry, self.issuer_id, self.audience, self.now, self.ttl = registry, issuer_id, audience, now, ttl
        self.kdf = kdf
        # A key of its own, derived (not the lookup key itself): tokens and recipient lookup never share one.
        self._key = hmac.new(secret, b"badgesmith/oauth-access-token/v1", hashlib.sha256).digest()

    @classmethod
    def for_issuer(cls, issuer: Any, *, now: Callable[[], datetime] | None = None, ttl: int = TOKEN_TTL,
                   kdf: Kdf = hashlib.scrypt) -> Clients:
        """The clients of ``issuer`` (an ``issuer.awarding.issuing.Issuer``): its registry, secret and base URL."""
        return cls(issuer.registry, issuer.issuer_id, secret=issuer.settings.lookup_secret,
                   audience=issuer.settings.url, now=now or issuer.now, ttl=ttl, kdf=kdf)

    # -- clients ------------------------------------------------------------------------

    def add(self, name: str, scopes: str | Iterable[str]) -> NewClient:
        """Create a client; the returned secret is shown once and never stored."""
        name = name.strip()
        if not _NAME.match(name):
            raise InputError(Code.USAGE, "A client name is 1-100 letters, digits, spaces, '.', '_' or '-'.")
        granted = parse_scopes(scopes)
        if not granted:
            raise InputError(Code.USAGE, f"Give the client at least one scope: {', '.join(SCOPES)}.")
        secret = secrets.token_urlsafe(32)
        row = ClientRow(issuer_id=self.issuer_id, client_id=secrets.token_hex(16), name=name,
                        secret_hash=hash_secret(secret, kdf=self.kdf), scopes=" ".join(granted), created_at=self.now())
        with self.registry.session() as s:
            if s.scalar(select(ClientRow.id).where(ClientRow.issuer_id == self.issuer_id, ClientRow.name == name)):
                raise Conflict(Code.CLIENT_EXISTS, f"There is already a client named {name!r}; pick another name.")
            s.add(row)
            s.flush()
            return NewClient(ClientRecord.from_row(row), secret)

    def list(self) -> list[ClientRecord]:
        """Every client of this issuer, revoked ones included, oldest first."""
        query = select(ClientRow).where(ClientRow.issuer_id == self.issuer_id).order_by(ClientRow.id)
        with self.registry.session(write=False) as s:
            return [ClientRecord.from_row(row) for row in s.scalars(query)]

    def revoke(self, name_or_id: str) -> ClientRecord:
        """Revoke a client by name or client id: its tokens stop working at once."""
        with self.registry.session() as s:
            row = s.scalar(select(ClientRow).where(ClientRow.issuer_id == self.issuer_id,
                                                   (ClientRow.client_id == name_or_id) | (ClientRow.name == name_or_id)))
            if row is None:
                raise NotFound(Code.CLIENT_NOT_FOUND, f"There is no client {name_or_id[:100]!r}; "
                                                      "see `badgesmith clients list`.")
            row.revoked_at = row.revoked_at or self.now()
            return ClientRecord.from_row(row)

    def _active(self, client_id: str) -> ClientRecord | None:
        # Read on every request: Core rows, not ORM objects, keep that cheap.
        columns = [getattr(ClientRow, name) for name in ClientRecord.__dataclass_fields__]
        with self.registry.session(write=False) as s:
            row = s.execute(select(*columns).where(ClientRow.client_id == client_id,
                                                   ClientRow.issuer_id == self.issuer_id)).first()
        record = None if row is None else ClientRecord(*row)
        return None if record is None or record.revoked_at is not None else record

    # -- tokens ---------------------------------------------------------------------------

    def token(self, client_id: str, client_secret: str, *, scope: str | None = None,
              audience: str | None = None) -> Token:
        """A bearer token for a client that proves its secret (RFC 6749 §4.4 client credentials).

        Exactly one scrypt runs whether or not the client exists (a dummy hash of
        the same cost stands in), so the answer's timing does not reveal client ids.
        """
        record = self._active(client_id) if isinstance(client_id, str) and _CLIENT_ID.match(client_id) else None
        secret = client_secret if isinstance(client_secret, str) else ""
        if not secret_matches(secret, record.secret_hash if record else _DUMMY_HASH, kdf=self.kdf) or record is None:
            raise _oauth(AuthError(Code.UNAUTHORIZED, "The client id or secret is wrong, or the client was revoked."),
                         "invalid_client", {"WWW-Authenticate": 'Basic realm="badgesmith"'})
        allowed = record.scopes.split()
        wanted = parse_scopes(scope) if scope else tuple(allowed)
        if not set(wanted) <= set(allowed):
            raise _oauth(InputError(Code.FORBIDDEN, f"This client may not ask for {' '.join(wanted)}; "
                                                    f"it has {record.scopes}."), "invalid_scope")
        if audience and audience.rstrip("/") != self.audience:
            raise _oauth(InputError(Code.USAGE, f"Tokens here are for {self.audience}, not {audience[:100]}."),
                         "invalid_request")
        now = int(self.now().timestamp())
        payload = {"sub": record.client_id, "scope": " ".join(wanted), "aud": self.audience, "iat": now,
                   "exp": now + self.ttl, "jti": secrets.token_hex(8)}
        body = f"{_TOKEN_PREFIX}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
        return Token(f"{body}.{_b64(self._sign(body))}", self.ttl, wanted)

    def authorize(self, authorization: str | None, scope: str) -> Grant:
        """The grant of the request's ``Authorization: Bearer …`` header, if it allows ``scope``."""
        kind, _, token = (authorization or "").strip().partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise bearer_challenge(AuthError(Code.UNAUTHORIZED, "This endpoint needs an OAuth 2.0 bearer token: get one "
                                                          "from POST /oauth/token with client credentials."), None)
        payload = self._payload(token.strip())
        if payload.get("aud") != self.audience:
            raise bearer_challenge(AuthError(Code.UNAUTHORIZED, "The bearer token was issued for another server."),
                             "invalid_token")
        if not isinstance(payload.get("exp"), int) or payload["exp"] <= self.now().timestamp():
            raise bearer_challenge(AuthError(Code.TOKEN_EXPIRED, "The bearer token has expired; ask /oauth/token for "
                                                           "a new one."), "invalid_token")
        record = self._active(str(payload.get("sub")))
        if record is None:
            raise bearer_challenge(AuthError(Code.UNAUTHORIZED, "The client of this token was revoked."), "invalid_token")
        scopes = frozenset(str(payload.get("scope", "")).split()) & frozenset(record.scopes.split())
        if scope not in scopes:
            raise bearer_challenge(Forbidden(Code.FORBIDDEN, f"This token does not allow {scope!r}; the client needs "
                                                       f"the {scope} scope."), "insufficient_scope", scope)
        return Grant(record.client_id, record.name, scopes)

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()

    def _payload(self, token: str) -> dict[str, Any]:
        invalid = bearer_challenge(AuthError(Code.UNAUTHORIZED, "The bearer token is not one this server issued."),
                             "invalid_token")
        prefix, _, rest = token.partition(".")
        body, _, signature = rest.partition(".")
        try:
            if prefix != _TOKEN_PREFIX or not hmac.compare_digest(_unb64(signature),
                                                                  self._sign(f"{prefix}.{body}")):
                raise invalid
            payload = json.loads(_unb64(body))
        except (ValueError, UnicodeError):
            raise invalid from None
        if not isinstance(payload, dict):
            raise invalid
        return payload


def bearer_challenge(error: BadgesmithError, oauth_error: str | None, scope: str | None = None) -> BadgesmithError:
    """``error`` with the RFC 6750 ``WWW-Authenticate: Bearer`` challenge in ``error.headers``."""
    # RFC 6750 §3: the challenge says what went wrong without repeating the message.
    parts = ['Bearer realm="badgesmith"'] + ([f'error="{oauth_error}"'] if oauth_error else [])
    if scope:
        parts.append(f'scope="{scope}"')
    error.headers = {"WWW-Authenticate": ", ".join(parts)}  # type: ignore[attr-defined]
    return error


def _oauth(error: BadgesmithError, oauth_error: str, headers: dict[str, str] | None = None) -> BadgesmithError:
    error.oauth_error = oauth_error  # type: ignore[attr-defined]
    if headers:
        error.headers = headers  # type: ignore[attr-defined]
    return error


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


__all__ = ["Clients", "Grant", "NewClient", "SCOPES", "TOKEN_TTL", "Token", "bearer_challenge", "hash_secret",
           "parse_scopes", "secret_matches"]
