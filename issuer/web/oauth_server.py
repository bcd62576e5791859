"""The Open Badges 3.0 API's OAuth 2.0 authorization server, on Authlib.

What 1EdTech's OB 3.0 §7 asks for, and nothing looser:

- Dynamic Client Registration (RFC 7591) without an initial access token,
  and the registered host as Authlib asks about it: ``issuer.web.ob_registration``
  (its names are re-exported here); the four OB scopes (and ``offline_access``).
- The authorization code grant with PKCE, ``S256`` only and always; codes are
  single use (claimed by one UPDATE) and live ``CODE_TTL`` seconds.
- Bearer access tokens (``ACCESS_TTL``), rotating refresh tokens
  (``REFRESH_TTL``; a used one stops working), revocation (RFC 7009).
- Each consent is a grant (``ob_grants``) that every token made from it names,
  through refreshes; a token works only while its grant does, so a learner who
  withdraws a host's access on their page (``issuer.records.connected_apps``)
  stops all of it at once.

Every secret handed out (client secrets, codes, tokens, sign-in links) is kept
as its SHA-256 only: they are 256-bit random strings, so a slow hash would add
nothing. Learners are people with an e-mail address (``Learner``); who they
are is settled by ``issuer.web.ob_sign_in`` before a code is made.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (AuthorizationCodeMixin, ClientMixin, InvalidGrantError, InvalidRequestError,
                                    OAuth2Request, TokenMixin)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import and_, delete, or_, select, update

from issuer.records.hosted import learner_key
from issuer.store.models import ObClientRow, ObCodeRow, ObGrantRow, ObSignInRow, ObTokenRow
from issuer.web.ob_registration import (AUTH_METHOD, GRANT_TYPES, REQUIRED_METADATA, HostClient, JsonBody,
                                        Registration, hash_secret, is_loopback_uri)

SCOPE_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
SCOPES = {
    SCOPE_BASE + "credential.readonly": "Permission to read AchievementCredentials for the authenticated entity.",
    SCOPE_BASE + "credential.upsert": "Permission to create or update AchievementCredentials for the "
                                      "authenticated entity.",
    SCOPE_BASE + "profile.readonly": "Permission to read the profile for the authenticated entity.",
    SCOPE_BASE + "profile.update": "Permission to update the profile for the authenticated entity.",
}
# What a learner reads on the consent page, per scope.
SCOPE_WORDS = {
    SCOPE_BASE + "credential.readonly": "read the badges and credentials you hold here",
    SCOPE_BASE + "credential.upsert": "add badges and credentials to your record here, or replace them",
    SCOPE_BASE + "profile.readonly": "read your profile here (your e-mail address and name)",
    SCOPE_BASE + "profile.update": "change your profile here",
    "offline_access": "keep this access without asking you again, until you or they revoke it",
}
OFFLINE_ACCESS = "offline_access"  # not an OB scope, but what some hosts send to ask for a refresh token
CODE_TTL = 600          # seconds (OB 3.0 §7: about ten minutes)
ACCESS_TTL = 3600       # seconds (the spec's recommendation)
REFRESH_TTL = 180 * 86400
KEEP_ENDED = timedelta(days=1)  # an ended code still tells a reuse from a stranger's guess for a while
# A withdrawn grant is remembered this long after its last token is gone, so withdrawing again says "already".
KEEP_GRANTS = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=1)  # "last used" is written at most this often per grant, not on every call


@dataclass(frozen=True, slots=True)
class Learner:
    """The person who signed in with their e-mail address and consented."""

    email: str

    def get_user_id(self) -> str:
        return self.email


@dataclass(frozen=True, slots=True)
class Code(AuthorizationCodeMixin):
    """A claimed authorization code."""

    client_id: str
    email: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    code_hash: str = ""

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True, slots=True)
class Token(TokenMixin):
    """An access (and refresh) token as stored; ``now`` is the server's clock."""

    id: int
    client_id: str
    email: str
    scope: str
    expires_at: datetime
    refresh_expires_at: datetime | None
    revoked_at: datetime | None
    now: datetime = field(compare=False)
    code_hash: str | None = None  # the authorization code the grant began with
    grant_id: int | None = None  # the learner's consent (ob_grants); withdrawing it revokes this token
    grant_used_at: datetime | None = None  # when the host last used that grant, as read with the token

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - self.now).total_seconds()))

    def is_expired(self) -> bool:
        return self.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ObAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server bound to one instance's registry and clock."""

    def __init__(self, issuer: Any, *, now: Callable[[], datetime]) -> None:
        super().__init__()
        self.issuer, self.now = issuer, now
        self.scopes_supported = [*SCOPES, OFFLINE_ACCESS]
        self.register_token_generator("default", self._tokens)
        self.register_grant(CodeGrant, [S256Only(required=True)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Registration)

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        # The consent step resumes a request stored with the sign-in link, not the one on the wire.
        return request if isinstance(request, OAuth2Request) else super().create_oauth2_request(request)

    def create_json_request(self, request: Any) -> JsonRequest:
        return request if isinstance(request, JsonRequest) else super().create_json_request(request)

    def _tokens(self, grant_type: str, client: HostClient, user: Any = None, scope: str | None = None,
                expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        token = {"token_type": "Bearer", "access_token": secrets.token_urlsafe(32), "expires_in": ACCESS_TTL,
                 "scope": scope or ""}
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def query_client(self, client_id: str) -> HostClient | None:
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            return None
        with self.issuer.registry.session(write=False) as s:
            row = s.scalar(select(ObClientRow).where(ObClientRow.client_id == client_id,
                                                     ObClientRow.issuer_id == self.issuer.issuer_id))
            if row is None or row.revoked_at is not None:
                return None
            return HostClient(row.client_id, row.secret_hash, dict(row.client_metadata))

    def prune(self, s: Any, now: datetime) -> None:
        """Forget codes, sign-in links and tokens that ended more than ``KEEP_ENDED`` ago (in session ``s``),
        so the tables hold what is alive, not every grant ever made."""
        before, mine = now - KEEP_ENDED, self.issuer.issuer_id
        s.execute(delete(ObCodeRow).where(ObCodeRow.issuer_id == mine, ObCodeRow.expires_at < before))
        s.execute(delete(ObSignInRow).where(ObSignInRow.issuer_id == mine, ObSignInRow.expires_at < before))
        ended = or_(ObTokenRow.revoked_at < before, and_(ObTokenRow.expires_at < before, or_(
            ObTokenRow.refresh_expires_at.is_(None), ObTokenRow.refresh_expires_at < before)))
        s.execute(delete(ObTokenRow).where(ObTokenRow.issuer_id == mine, ended))
        gone = ~select(ObTokenRow.id).where(ObTokenRow.grant_id == ObGrantRow.id).exists()
        s.execute(delete(ObGrantRow).where(ObGrantRow.issuer_id == mine, gone, or_(
            ObGrantRow.withdrawn_at < now - KEEP_GRANTS,
            and_(ObGrantRow.withdrawn_at.is_(None), ObGrantRow.granted_at < now - KEEP_GRANTS))))

    def save_token(self, token: Mapping[str, Any], request: OAuth2Request) -> None:
        now = self.now()
        refresh = token.get("refresh_token")
        origin = request.authorization_code or request.refresh_token  # a Code, or the Token being refreshed
        with self.issuer.registry.session() as s:
            self.prune(s, now)
            grant_id = getattr(origin, "grant_id", None)
            if grant_id is None:  # a new consent (a code): the learner's page lists it as a connected app
                grant = ObGrantRow(issuer_id=self.issuer.issuer_id, client_id=request.client.get_client_id(),
                                   email=request.user.email, lookup_key=learner_key(self.issuer, request.user.email),
                                   scope=token.get("scope", ""), granted_at=now)
                s.add(grant)
                s.flush()
                grant_id = grant.id
            else:  # a refresh is the host using its access
                s.execute(update(ObGrantRow).where(ObGrantRow.id == grant_id).values(last_used_at=now))
            # A refresh racing a withdrawal may save its token just after the grant was withdrawn: token_by
            # reads the grant, so that token is refused like the rest.
            s.add(ObTokenRow(issuer_id=self.issuer.issuer_id, access_hash=hash_secret(token["access_token"]),
                             code_hash=getattr(origin, "code_hash", None) or None, grant_id=grant_id,
                             refresh_hash=hash_secret(refresh) if refresh else None,
                             client_id=request.client.get_client_id(), email=request.user.email,
                             scope=token.get("scope", ""), issued_at=now,
                             expires_at=now + timedelta(seconds=int(token["expires_in"])),
                             refresh_expires_at=now + timedelta(seconds=REFRESH_TTL) if refresh else None))

    def token_by(self, *, access: str | None = None, refresh: str | None = None) -> Token | None:
        """The stored token an access or refresh token string belongs to (revoked and expired ones too)."""
        if access is not None:
            condition = ObTokenRow.access_hash == hash_secret(access)
        elif refresh is not None:
            condition = ObTokenRow.refresh_hash == hash_secret(refresh)
        else:
            return None
        with self.issuer.registry.session(write=False) as s:
            found = s.execute(select(ObTokenRow, ObGrantRow.withdrawn_at, ObGrantRow.last_used_at)
                              .outerjoin(ObGrantRow, ObGrantRow.id == ObTokenRow.grant_id)
                              .where(condition, ObTokenRow.issuer_id == self.issuer.issuer_id)).first()
            if found is None:
                return None
            row, withdrawn_at, used_at = found
            # A token of a withdrawn grant is revoked, whatever its own row says.
            return Token(row.id, row.client_id, row.email, row.scope, row.expires_at, row.refresh_expires_at,
                         row.revoked_at or withdrawn_at, self.now(), row.code_hash, row.grant_id, used_at)

    def touch(self, token: Token) -> None:
        """Note that the host used its grant now (what the learner page shows as "last used"), at most once
        per ``TOUCH_EVERY``, so a busy host does not write on every call."""
        now = self.now()
        if token.grant_id is None or (token.grant_used_at is not None and token.grant_used_at >= now - TOUCH_EVERY):
            return  # no write at all for most calls of a busy host
        with self.issuer.registry.session() as s:
            s.execute(update(ObGrantRow).where(ObGrantRow.id == token.grant_id, or_(
                ObGrantRow.last_used_at.is_(None), ObGrantRow.last_used_at < now - TOUCH_EVERY))
                .values(last_used_at=now))

    def revoke(self, token: Token) -> bool:
        """Stop an access token and its refresh token at once; True for the one call that stopped it (a second
        revocation changes nothing), so requests racing with one refresh token can tell which of them won."""
        with self.issuer.registry.session() as s:
            return s.execute(update(ObTokenRow).where(ObTokenRow.id == token.id, ObTokenRow.revoked_at.is_(None))
                             .values(revoked_at=self.now())).rowcount == 1

    def json_request(self, method: str, url: str, headers: Any, data: dict[str, Any]) -> JsonRequest:
        """A JSON request for an endpoint from a body already read within our limits."""
        request = JsonRequest(method, url, headers)
        request.payload = JsonBody(data)
        return request


class S256Only(CodeChallenge):
    """PKCE on every authorization request, with S256 (OB 3.0 §7 makes it mandatory)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge and code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: Code) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Code) -> str:
        return authorization_code.code_challenge_method


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        server, data = self.server, request.payload.data
        now = server.now()
        with server.issuer.registry.session() as s:
            s.add(ObCodeRow(issuer_id=server.issuer.issuer_id, code_hash=hash_secret(code),
                            client_id=request.client.get_client_id(), email=request.user.email,
                            redirect_uri=data.get("redirect_uri") or "",  # "": none was sent, none is expected
                            scope=request.scope or "", code_challenge=data["code_challenge"],
                            code_challenge_method=data["code_challenge_method"], created_at=now,
                            expires_at=now + timedelta(seconds=CODE_TTL)))

    def query_authorization_code(self, code: str, client: HostClient) -> Code | None:
        # Claimed here, by one UPDATE, before anything else is checked: a code is good for one attempt,
        # so a wrong verifier or a second use (even a concurrent one) finds it spent.
        server = self.server
        now = server.now()
        if not isinstance(code, str) or len(code) > 200:
            return None
        with server.issuer.registry.session() as s:
            claimed = s.execute(update(ObCodeRow).where(
                ObCodeRow.code_hash == hash_secret(code), ObCodeRow.issuer_id == server.issuer.issuer_id,
                ObCodeRow.client_id == client.get_client_id(), ObCodeRow.used_at.is_(None),
                ObCodeRow.expires_at > now).values(used_at=now))
            if claimed.rowcount != 1:
                # A code used before: whoever holds it now may have stolen it, so what it gave is revoked.
                s.execute(update(ObTokenRow).where(ObTokenRow.code_hash == hash_secret(code),
                                                   ObTokenRow.issuer_id == server.issuer.issuer_id,
                                                   ObTokenRow.revoked_at.is_(None)).values(revoked_at=now))
                return None
            row = s.scalar(select(ObCodeRow).where(ObCodeRow.code_hash == hash_secret(code)))
            return Code(row.client_id, row.email, row.redirect_uri, row.scope, row.code_challenge,
                        row.code_challenge_method, row.code_hash)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        pass  # spent when it was claimed

    def authenticate_user(self, authorization_code: Code) -> Learner:
        return Learner(authorization_code.email)


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token is good once

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        token = self.server.token_by(refresh=refresh_token) if isinstance(refresh_token, str) else None
        if token is None or token.revoked_at is not None or token.refresh_expires_at is None \
                or token.refresh_expires_at <= token.now:
            return None
        return token

    def authenticate_user(self, refresh_token: Token) -> Learner:
        # Spent here, by one UPDATE, before the new token is made: of requests racing with one refresh token,
        # one gets a token (checking revoked_at when it was read let each of them through).
        if not self.server.revoke(refresh_token):
            raise InvalidGrantError("This refresh token has been used already.")
        return Learner(refresh_token.email)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        pass  # spent in authenticate_user


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        if not isinstance(token_string, str) or len(token_string) > 200:
            return None
        order = ("refresh", "access") if token_type_hint == "refresh_token" else ("access", "refresh")
        for kind in order:
            token = self.server.token_by(**{kind: token_string})
            if token is not None:
                return token
        return None

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        self.server.revoke(token)


class ObTokenValidator(BearerTokenValidator):
    """Bearer tokens of the OB API's resource endpoints."""

    def __init__(self, server: ObAuthorizationServer) -> None:
        super().__init__(realm="badgesmith")
        self.server = server

    def authenticate_token(self, token_string: str) -> Token | None:
        if not isinstance(token_string, str) or len(token_string) > 200:
            return None
        token = self.server.token_by(access=token_string)
        if token is not None and self.server.query_client(token.client_id) is None:
            return None  # the host's registration was withdrawn: its tokens stop with it
        return token


__all__ = ["ACCESS_TTL", "CODE_TTL", "GRANT_TYPES", "HostClient", "Learner", "ObAuthorizationServer",
           "ObTokenValidator", "REFRESH_TTL", "REQUIRED_METADATA", "SCOPES", "SCOPE_BASE", "SCOPE_WORDS", "Token",
           "hash_secret", "is_loopback_uri"]
