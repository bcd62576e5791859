"""Which database an instance uses, and how to show it without its password.

The precedence, for every command and the web app alike: the ``--db`` option,
then the ``DATABASE_URL`` environment variable (a deployment's choice: it may
carry a password, so it is never written to ``badgesmith.toml``), then
``[database] url`` in ``badgesmith.toml``, then the instance's SQLite file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from errors import Code, ConfigError
from issuer.instance.checks import Invalid, check_database_url
from issuer.instance.settings import DATABASE_FILE, Settings

DATABASE_VARIABLE = "DATABASE_URL"


@dataclass(frozen=True, slots=True)
class DatabaseChoice:
    """The database URL in use and where it came from: "--db", "DATABASE_URL", "badgesmith.toml" or
    "default" (the SQLite file in the instance folder)."""

    url: str
    source: str

    @property
    def shown(self) -> str:
        """The URL with any password replaced by ``***``, for printing."""
        return masked_url(self.url)

    def to_dict(self) -> dict[str, str]:
        return {"url": self.shown, "source": self.source}


def database_override(option: str | None, home: Path, env: Mapping[str, str] = os.environ) -> DatabaseChoice | None:
    """``--db`` or ``$DATABASE_URL``, checked; None when neither is given (the instance's own applies)."""
    for source, value in (("--db", option), (DATABASE_VARIABLE, env.get(DATABASE_VARIABLE) or None)):
        if value is None:
            continue
        try:
            return DatabaseChoice(check_database_url(value, home), source)
        except Invalid as exc:
            raise ConfigError(Code.CONFIG_INVALID, f"{source}: {exc} (it is {masked_url(value)!r}).",
                              field=source) from None
    return None


def database_in_use(settings: Settings, option: str | None = None,
                    env: Mapping[str, str] = os.environ) -> DatabaseChoice:
    """The database a command on this instance opens, following the precedence above."""
    override = database_override(option, settings.home, env)
    if override is not None:
        return override
    default = f"sqlite:///{settings.home / DATABASE_FILE}"
    return DatabaseChoice(settings.database_url, "default" if settings.database_url == default else "badgesmith.toml")


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: the user part's (``postgresql://ce:***@db/badges``)
    and a ``password=`` query parameter's (libpq takes one there too)."""
    return _replace_password(url, "***")


def url_without_password(url: str) -> str:
    """``url`` with its password left out (``postgresql://ce@db/badges``): what ``init`` writes to
    badgesmith.toml. The driver (libpq) then finds it in ``$PGPASSWORD`` or ``~/.pgpass``, unless
    ``$DATABASE_URL`` or ``--db`` give the whole URL at run time."""
    return _replace_password(url, None)


def _replace_password(url: str, shown: str | None) -> str:
    """``url`` with its password as ``shown`` (None: the password and its ``:`` or parameter dropped)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rsplit("@", 1)[-1] if "@" in url else url  # unparseable: drop whatever may hold a secret
    changed = parts
    user, at, host = parts.netloc.rpartition("@")
    if at and ":" in user:
        name = user.split(":", 1)[0]
        changed = changed._replace(netloc=f"{name}:{shown}@{host}" if shown is not None else f"{name}@{host}")
    if "password=" in parts.query.lower():
        query = (re.sub(r"(?i)(^|&)(password=)[^&]*", rf"\1\2{shown}", parts.query) if shown is not None
                 else "&".join(p for p in parts.query.split("&") if not p.lower().startswith("password=")))
        changed = changed._replace(query=query)
    return url if changed == parts else urlunsplit(changed)  # untouched: sqlite:////path keeps its slashes


__all__ = ["DATABASE_VARIABLE", "DatabaseChoice", "database_in_use", "database_override", "masked_url", "url_without_password"]
