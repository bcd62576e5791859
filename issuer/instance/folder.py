"""The instance folder: where it is (``find_home``) and creating it (``badgesmith init``).

An instance is one folder (``--home``, else ``BADGESMITH_HOME``, else the
current directory)::

    badgesmith.toml     issuer profile, base URL, database URL, defaults (no secrets)
    keys/               mode 0700: signing keys (``keys.keystore``) and lookup.secret
    achievements/       achievement TOML files
    out/                issued files (baked badges, summaries)
    badgesmith.sqlite3  the default registry database

Key generation and the database are the caller's job; this module only lays
out the folder.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from errors import Code, ConfigError, Conflict, InputError
from issuer.instance.checks import (Invalid, check_database_url, check_did_web, check_email, check_key_id,
                                    check_text, check_url)
from issuer.instance.files import write_file_atomic
from issuer.instance.settings import (DATABASE_FILE, AssociationSettings, HOME_VARIABLE, SECRET_FILE, SETTINGS_FILE, Settings,
                                      load_settings, save_settings)
from verifier.status import MIN_LIST_SIZE


def find_home(explicit: str | os.PathLike[str] | None, env: Mapping[str, str] = os.environ) -> Path:
    """The instance folder: ``--home`` if given, else ``$BADGESMITH_HOME``, else the current directory."""
    chosen = explicit or env.get(HOME_VARIABLE) or os.getcwd()
    return Path(chosen).expanduser().absolute()



def _arg(option: str, check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except Invalid as exc:
        raise InputError(Code.CONFIG_INVALID, f"{option}: {exc}.", field=option) from None


def init_instance(home: str | os.PathLike[str], *, name: str, url: str, email: str | None = None,
                  did_web: str | None = None, database_url: str | None = None,
                  key_id: str = "key-1", association: AssociationSettings | None = None,
                  lookup_secret: bytes | None = None) -> Settings:
    """Create the instance folder and return its settings; the caller then generates key ``key_id``.

    Creates ``badgesmith.toml`` (last, atomically: it marks a finished init),
    ``keys/`` (0700) with ``lookup.secret`` (32 random bytes, hex, 0600; an
    existing one from an interrupted init is kept), ``achievements/`` and
    ``out/``. A division of an association (``association``) is given the association's
    ``lookup_secret`` instead, so one e-mail is one learner across divisions. Conflict INSTANCE_EXISTS if ``badgesmith.toml`` exists;
    InputError CONFIG_INVALID naming the option for a bad value.
    """
    home = Path(home).expanduser().absolute()
    if (home / SETTINGS_FILE).exists():
        raise Conflict(Code.INSTANCE_EXISTS, f"{home} already holds a Badgesmith instance: choose another "
                       f"--home, or edit {home / SETTINGS_FILE}.", home=str(home))
    settings = Settings(
        home=home, name=_arg("--name", check_text, name, "name"), url=_arg("--url", check_url, url),
        email=None if email is None else _arg("--email", check_email, email),
        did_method="web" if did_web else "key",
        did_web=_arg("--did-web", check_did_web, did_web) if did_web else None,
        database_url=_arg("--db", check_database_url, database_url or f"sqlite:///{home / DATABASE_FILE}", home),
        key_id=_arg("--key-id", check_key_id, key_id), default_format="di", status_list_size=MIN_LIST_SIZE,
        keys_dir=home / "keys", achievements_dir=home / "achievements", out_dir=home / "out",
        lookup_secret=b"", association=association)
    try:
        home.mkdir(parents=True, exist_ok=True)
        settings.keys_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(settings.keys_dir, 0o700)  # mkdir's mode is filtered by the umask
        settings.achievements_dir.mkdir(exist_ok=True)
        settings.out_dir.mkdir(exist_ok=True)
        secret = settings.keys_dir / SECRET_FILE
        if lookup_secret is not None:
            write_file_atomic(secret, lookup_secret.hex().encode("ascii") + b"\n", mode=0o600)
        elif not secret.exists():
            write_file_atomic(secret, secrets.token_hex(32).encode("ascii") + b"\n", mode=0o600)
        save_settings(settings)
    except OSError as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"Cannot create the instance in {home} ({exc.strerror}): "
                          "check the folder's permissions.", home=str(home)) from exc
    return load_settings(home)


__all__ = ["find_home", "init_instance"]
