"""Checking one value of ``badgesmith.toml`` or of a ``badgesmith init`` option.

Each ``check_*`` returns the value as Settings hold it or raises ``Invalid``
with what is wrong; the caller adds where it came from (a TOML line, an option).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from errors import InputError
from issuer.badge.recipient import normalise_email
from verifier.status import MIN_LIST_SIZE

MAX_STATUS_LIST_SIZE = 1 << 24  # 2 MiB of bits: far beyond any association's volume
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DID_WEB = re.compile(r"^[a-z0-9.-]+(?:%3A[0-9]{1,5})?(?::[A-Za-z0-9._~-]+)*$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")


class Invalid(Exception):
    """A setting's value is wrong; the caller adds where it came from."""


# --- validating one value -----------------------------------------------------


def check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("url must be text in quotes")
    parts = urlsplit(value.strip())
    try:
        parts.port
    except ValueError as exc:
        raise Invalid(f"url {value!r} has an invalid port") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"url {value!r} must be a full address like https://badges.example.org")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise Invalid(f"url {value!r} must start with https:// (http:// is only for localhost demos)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise Invalid(f"url {value!r} must not contain a user name, '?' or '#'")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def check_did_web(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("did_web must be text in quotes")
    text = value.strip().removeprefix("did:web:")
    host, _, path = text.partition(":")
    text = host.lower().replace("%3a", "%3A") + (":" + path if path else "")
    if not _DID_WEB.match(text) or ("." not in host and not host.lower().startswith("localhost")):
        raise Invalid(f"did_web {value!r} must be a host name with an optional :path, like "
                       "\"badges.example.org\" or \"example.org:badges\" (a port is written %3A8443)")
    return text


def check_database_url(value: Any, home: Path) -> str:
    if not isinstance(value, str) or not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value.strip()):
        raise Invalid("database url must start with sqlite:/// or postgresql://")
    value = value.strip()
    prefix, _, rest = value.partition(":///")
    if prefix.startswith("sqlite") and rest and rest != ":memory:" and not rest.startswith("/"):
        # A relative SQLite path means "in the instance folder", not "wherever you ran the command".
        return f"{prefix}:///{(home / rest).resolve()}"
    return value


def check_text(value: Any, name: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Invalid(f"{name} must be non-empty text in quotes, at most {limit} characters")
    return value.strip()


def check_folder(value: Any, name: str) -> str:
    """A ``[paths]`` entry: text, and no NUL character (no file system accepts one)."""
    value = check_text(value, name, 1000)
    if "\x00" in value:
        raise Invalid(f"{name} must be a folder path, without NUL characters")
    return value


def check_email(value: Any) -> str:
    try:
        return normalise_email(value)
    except InputError as exc:
        raise Invalid(f"email: {exc.message}") from exc


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise Invalid(f"{name} must be one of " + ", ".join(f'"{c}"' for c in choices) + f", not {value!r}")
    return value


def check_key_id(value: Any) -> str:
    if not isinstance(value, str) or not _KEY_ID.match(value):
        raise Invalid(f"key id {value!r} may use only letters, digits, '.', '-' and '_'")
    return value


def check_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value % 8 or not (
            MIN_LIST_SIZE <= value <= MAX_STATUS_LIST_SIZE):
        raise Invalid(f"status_list_size must be a multiple of 8 from {MIN_LIST_SIZE} to "
                       f"{MAX_STATUS_LIST_SIZE}, not {value!r}")
    return value


def check_host(value: Any) -> str:
    """A relay's host name or IP address (``[v6]`` brackets dropped); ``Invalid`` otherwise."""
    text = value.strip().removeprefix("[").removesuffix("]") if isinstance(value, str) else ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        if _HOST_NAME.match(text):
            return text.lower()
    raise Invalid(f"host {value!r} must be a host name or IP address such as \"smtp.office365.com\" "
                   "(the port goes in port)")


def check_port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise Invalid(f"port must be a whole number from 1 to 65535, not {value!r}")
    return value


def check_variable(value: Any) -> str:
    # The value is not echoed: a password pasted here by mistake must not end up in an error message.
    if not isinstance(value, str) or not _VARIABLE.match(value):
        raise Invalid("password_env must be the name of an environment variable (capital letters, digits "
                       "and '_', like \"BADGESMITH_SMTP_PASSWORD\"), not the password itself")
    return value


__all__ = ["Invalid", "MAX_STATUS_LIST_SIZE", "check_choice", "check_database_url", "check_did_web", "check_email", "check_folder",
           "check_host", "check_key_id", "check_port", "check_size", "check_text", "check_url", "check_variable"]
