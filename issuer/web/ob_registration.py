"""Hosts registering with the Open Badges 3.0 API (RFC 7591), and a registered host as Authlib asks about it.

OB 3.0 §7.2 lets anyone register, without an initial access token; what they
register is checked instead: the spec's metadata is required
(``REQUIRED_METADATA``) and typed; only the ``authorization_code`` and
``refresh_token`` grants, ``code`` responses and ``client_secret_basic``;
redirects are https (or a loopback address, RFC 8252) and every text the
learner will read is free of control and invisible formatting characters.
A registration is an ``ob_clients`` row; staff revoke one with ``badgesmith
hosts revoke`` (``issuer.records.connected_apps``), and ``query_client`` of the
authorization server (``issuer.web.oauth_server``) then no longer finds it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.requests import JsonPayload
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError

from issuer.store.models import ObClientRow

GRANT_TYPES = ("authorization_code", "refresh_token")
AUTH_METHOD = "client_secret_basic"
# OB 3.0 §7.2.1: what a host must say about itself when it registers.
REQUIRED_METADATA = ("client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri", "software_id",
                     "software_version", "redirect_uris", "scope")

MAX_REDIRECT_URIS = 10
_LISTS = ("redirect_uris", "grant_types", "response_types", "contacts")
MAX_METADATA_TEXT = 2000


def hash_secret(value: str) -> str:
    """What is kept of a secret this server handed out: its SHA-256, hex."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_loopback_uri(uri: str) -> bool:
    """``http://127.0.0.1…`` / ``http://[::1]…``: a native app's redirect (RFC 8252 §7.3), any port."""
    try:
        parts = urlsplit(uri)  # raises for an unclosed [ in the host
        return parts.scheme == "http" and ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return False


def _readable_url(uri: str, name: str) -> SplitResult:
    """``uri`` split, or INVALID_CLIENT_METADATA when its host or port cannot be read (``https://[::1``,
    ``https://a.example:99999``): urlsplit and ``port`` raise ValueError on those."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - read for its ValueError
    except ValueError:
        raise InvalidClientMetadataError(f"{name} is not a URL that can be read (its host or port).") from None
    return parts


@dataclass(frozen=True, slots=True)
class HostClient(ClientMixin):
    """A registered host, as Authlib asks about it."""

    client_id: str
    secret_hash: str
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.metadata.get("client_name") or self.client_id)

    @property
    def scopes(self) -> list[str]:
        return str(self.metadata.get("scope") or "").split()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.metadata.get("redirect_uris") or []
        return uris[0] if len(uris) == 1 else None  # with several, the request must name one

    def get_allowed_scope(self, scope: str) -> str | None:
        # All or nothing: a scope the host did not register is refused (invalid_scope), never narrowed.
        wanted = (scope or "").split()
        return " ".join(wanted) if wanted and all(s in self.scopes for s in wanted) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        for registered in self.metadata.get("redirect_uris") or []:
            if redirect_uri == registered:
                return True
            # RFC 8252 §7.3: a loopback redirect matches whatever port the app listens on at the time.
            if is_loopback_uri(registered) and is_loopback_uri(redirect_uri):
                a, b = urlsplit(registered), urlsplit(redirect_uri)
                if (a.hostname, a.path, a.query) == (b.hostname, b.path, b.query):
                    return True
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(hash_secret(client_secret or ""), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == AUTH_METHOD

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.metadata.get("grant_types") or ["authorization_code"])


class JsonBody(JsonPayload):
    """A JSON body already read within our limits, handed to Authlib as its payload."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, Any]:
        return self._data



class Registration(ClientRegistrationEndpoint):
    """RFC 7591 without an initial access token: anyone may register; what they register is checked."""

    def authenticate_token(self, request: Any) -> bool:
        return True  # OB 3.0 §7.2: no initial access token

    def get_server_metadata(self) -> dict[str, Any]:
        return {"scopes_supported": self.server.scopes_supported, "response_types_supported": ["code"],
                "grant_types_supported": list(GRANT_TYPES), "token_endpoint_auth_methods_supported": [AUTH_METHOD]}

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        # Metadata this server has no use for (jwks, jwks_uri, software_statement, …) is left out (RFC 7591
        # §2 lets a server ignore it); what is kept must have the type the RFC gives it.
        data = {k: v for k, v in request.payload.data.items() if k in REQUIRED_METADATA or k in _LISTS
                or k == "token_endpoint_auth_method"}
        request.payload = JsonBody(data)
        missing = [name for name in REQUIRED_METADATA if not data.get(name)]
        if missing:
            raise InvalidClientMetadataError(f"Registration needs {', '.join(missing)} (OB 3.0, section 7.2.1).")
        for name, value in data.items():
            if name in _LISTS and name != "redirect_uris":
                if not isinstance(value, list) or len(value) > 10 or not all(isinstance(v, str) for v in value):
                    raise InvalidClientMetadataError(f"{name} must be a list of at most 10 strings.")
            elif name not in _LISTS and not isinstance(value, str):
                raise InvalidClientMetadataError(f"{name} must be a string.")
        for name, value in data.items():
            if isinstance(value, str) and len(value) > MAX_METADATA_TEXT:
                raise InvalidClientMetadataError(f"{name[:40]} is longer than {MAX_METADATA_TEXT} characters.")
            # The learner reads the host's name on the consent page and in the sign-in mail's Subject: a line
            # break there made the mail unsendable (a 500), a bidi override or NUL would disguise the host.
            texts = value if isinstance(value, list) else [value]
            if any(unicodedata.category(c) in ("Cc", "Cf") for text in texts for c in str(text)):
                raise InvalidClientMetadataError(f"{name[:40]} holds control or invisible formatting characters.")
        uris = data["redirect_uris"]
        if not isinstance(uris, list) or not 0 < len(uris) <= MAX_REDIRECT_URIS \
                or not all(isinstance(u, str) for u in uris):
            raise InvalidClientMetadataError(f"redirect_uris must be a list of 1 to {MAX_REDIRECT_URIS} URLs.")
        for uri in uris:
            parts = _readable_url(uri, "A redirect URI")
            if parts.fragment or not (parts.scheme == "https" and parts.hostname or is_loopback_uri(uri)):
                raise InvalidClientMetadataError("Each redirect URI must be https (or http on a loopback "
                                                 "address, RFC 8252), without a fragment.")
        for name in ("client_uri", "logo_uri", "tos_uri", "policy_uri"):
            parts = _readable_url(str(data[name]), name)
            if not (parts.scheme == "https" or is_loopback_uri(str(data[name]))) or not parts.hostname:
                raise InvalidClientMetadataError(f"{name} must be an https URL.")
        try:
            metadata = super().extract_client_metadata(request)
        except (TypeError, ValueError, KeyError, AttributeError):  # a claims check tripped on a value's shape
            raise InvalidClientMetadataError("The registration's metadata could not be read.") from None
        metadata.setdefault("grant_types", ["authorization_code"])
        metadata.setdefault("response_types", ["code"])
        metadata.setdefault("token_endpoint_auth_method", AUTH_METHOD)
        return metadata

    def generate_client_id(self, request: Any) -> str:
        return secrets.token_hex(16)

    def generate_client_secret(self, request: Any) -> str:
        return secrets.token_urlsafe(32)

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> HostClient:
        server = self.server
        row = ObClientRow(issuer_id=server.issuer.issuer_id, client_id=client_info["client_id"],
                          secret_hash=hash_secret(client_info["client_secret"]), client_metadata=client_metadata,
                          created_at=server.now())
        with server.issuer.registry.session() as s:
            s.add(row)
        return HostClient(row.client_id, row.secret_hash, client_metadata)


__all__ = ["AUTH_METHOD", "GRANT_TYPES", "HostClient", "JsonBody", "MAX_REDIRECT_URIS", "REQUIRED_METADATA",
           "Registration", "hash_secret", "is_loopback_uri"]
