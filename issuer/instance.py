"""The instance folder: ``badgesmith init``, ``badgesmith.toml`` → ``Settings``, and the public URLs.

An instance is one folder (``--home``, else ``BADGESMITH_HOME``, else the
current directory)::

    badgesmith.toml     issuer profile, base URL, database URL, defaults (no secrets)
    keys/               mode 0700: signing keys (``keys.keystore``) and lookup.secret
    achievements/       achievement TOML files
    out/                issued files (baked badges, summaries)
    badgesmith.sqlite3  the default registry database

Key generation and the database are the caller's job; this module only lays
out the folder and names things. Every id Badgesmith publishes is built here
(``profile_url``, ``achievement_url``…) so that the ids in credentials are the
URLs the web app serves.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from errors import Code, ConfigError, Conflict, InputError, NotFound
from issuer import brand as _brand
from issuer.achievement import TomlSource
from issuer.brand import Brand
from issuer.recipient import normalise_email
from issuer.status import PURPOSES
from verifier import safe_toml
from verifier.status import MIN_LIST_SIZE

SETTINGS_FILE = "badgesmith.toml"
SECRET_FILE = "lookup.secret"
DATABASE_FILE = "badgesmith.sqlite3"
HOME_VARIABLE = "BADGESMITH_HOME"
MAX_SETTINGS_BYTES = 64 * 1024
MAX_STATUS_LIST_SIZE = 1 << 24  # 2 MiB of bits: far beyond any association's volume
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DID_WEB = re.compile(r"^[a-z0-9.-]+(?:%3A[0-9]{1,5})?(?::[A-Za-z0-9._~-]+)*$")
_MULTIKEY = re.compile(r"^z[1-9A-HJ-NP-Za-km-z]{40,60}$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
SMTP_SECURITY = ("starttls", "tls", "none")
SMTP_PASSWORD_VARIABLE = "BADGESMITH_SMTP_PASSWORD"

_TABLES = {
    "issuer": ("name", "url", "email", "did_method", "did_web"),
    "keys": ("current",),
    "database": ("url",),
    "defaults": ("format", "status_list_size"),
    "paths": ("keys", "achievements", "out"),
    # The relay for renewal notices; the password is never here, only the name of its variable.
    "smtp": ("host", "port", "security", "username", "password_env"),
    # Read by app.py (web settings); listed here so a typo is still caught.
    "web": ("rate_limit", "max_content_length", "trust", "documents", "offline", "proxy_count"),
    # What the public sees: name, logo, colour, contact, footer links (issuer/brand.py).
    "brand": _brand.KEYS,
}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The ``[smtp]`` table: the division's mail relay for renewal notices (all optional).

    ``security`` None means "decided by the port and the login" (see
    ``issuer.notices.smtp_relay``). The password is never stored: only the
    name of the environment variable that holds it.
    """

    host: str | None = None
    port: int | None = None
    security: str | None = None  # "starttls", "tls" or "none"
    username: str | None = None
    password_env: str = SMTP_PASSWORD_VARIABLE


@dataclass(frozen=True, slots=True)
class Settings:
    """One instance's settings, read from ``<home>/badgesmith.toml`` (paths are absolute)."""

    home: Path
    name: str
    url: str  # base URL, no trailing slash
    email: str | None
    did_method: str  # "key" or "web"
    did_web: str | None  # host[:path] of a did:web, e.g. "badges.example.org"
    database_url: str
    key_id: str  # the current signing key's id in keys/
    default_format: str  # "di" or "jwt"
    status_list_size: int
    keys_dir: Path
    achievements_dir: Path
    out_dir: Path
    lookup_secret: bytes = field(repr=False)  # HMAC key for recipient lookup; never printed
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    brand: Brand | None = None  # None: the issuer's name and e-mail, the default colour, no logo

    @property
    def public_brand(self) -> Brand:
        """The brand the public sees, with the issuer's name and e-mail where ``[brand]`` gives none."""
        return self.brand or Brand(name=self.name, contact_email=self.email)


class _Invalid(Exception):
    """A setting's value is wrong; the caller adds where it came from."""


# --- validating one value -----------------------------------------------------


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("url must be text in quotes")
    parts = urlsplit(value.strip())
    try:
        parts.port
    except ValueError as exc:
        raise _Invalid(f"url {value!r} has an invalid port") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(f"url {value!r} must be a full address like https://badges.example.org")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise _Invalid(f"url {value!r} must start with https:// (http:// is only for localhost demos)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise _Invalid(f"url {value!r} must not contain a user name, '?' or '#'")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def _check_did_web(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("did_web must be text in quotes")
    text = value.strip().removeprefix("did:web:")
    host, _, path = text.partition(":")
    text = host.lower().replace("%3a", "%3A") + (":" + path if path else "")
    if not _DID_WEB.match(text) or ("." not in host and not host.lower().startswith("localhost")):
        raise _Invalid(f"did_web {value!r} must be a host name with an optional :path, like "
                       "\"badges.example.org\" or \"example.org:badges\" (a port is written %3A8443)")
    return text


def _check_database_url(value: Any, home: Path) -> str:
    if not isinstance(value, str) or not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value.strip()):
        raise _Invalid("database url must start with sqlite:/// or postgresql://")
    value = value.strip()
    prefix, _, rest = value.partition(":///")
    if prefix.startswith("sqlite") and rest and rest != ":memory:" and not rest.startswith("/"):
        # A relative SQLite path means "in the instance folder", not "wherever you ran the command".
        return f"{prefix}:///{(home / rest).resolve()}"
    return value


def _check_text(value: Any, name: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _Invalid(f"{name} must be non-empty text in quotes, at most {limit} characters")
    return value.strip()


def _check_email(value: Any) -> str:
    try:
        return normalise_email(value)
    except InputError as exc:
        raise _Invalid(f"email: {exc.message}") from exc


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _Invalid(f"{name} must be one of " + ", ".join(f'"{c}"' for c in choices) + f", not {value!r}")
    return value


def _check_key_id(value: Any) -> str:
    if not isinstance(value, str) or not _KEY_ID.match(value):
        raise _Invalid(f"key id {value!r} may use only letters, digits, '.', '-' and '_'")
    return value


def _check_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value % 8 or not (
            MIN_LIST_SIZE <= value <= MAX_STATUS_LIST_SIZE):
        raise _Invalid(f"status_list_size must be a multiple of 8 from {MIN_LIST_SIZE} to "
                       f"{MAX_STATUS_LIST_SIZE}, not {value!r}")
    return value


def _check_host(value: Any) -> str:
    """A relay's host name or IP address (``[v6]`` brackets dropped); ``_Invalid`` otherwise."""
    text = value.strip().removeprefix("[").removesuffix("]") if isinstance(value, str) else ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        if _HOST_NAME.match(text):
            return text.lower()
    raise _Invalid(f"host {value!r} must be a host name or IP address such as \"smtp.office365.com\" "
                   "(the port goes in port)")


def _check_port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise _Invalid(f"port must be a whole number from 1 to 65535, not {value!r}")
    return value


def _check_variable(value: Any) -> str:
    # The value is not echoed: a password pasted here by mistake must not end up in an error message.
    if not isinstance(value, str) or not _VARIABLE.match(value):
        raise _Invalid("password_env must be the name of an environment variable (capital letters, digits "
                       "and '_', like \"BADGESMITH_SMTP_PASSWORD\"), not the password itself")
    return value


# --- reading ------------------------------------------------------------------


def find_home(explicit: str | os.PathLike[str] | None, env: Mapping[str, str] = os.environ) -> Path:
    """The instance folder: ``--home`` if given, else ``$BADGESMITH_HOME``, else the current directory."""
    chosen = explicit or env.get(HOME_VARIABLE) or os.getcwd()
    return Path(chosen).expanduser().absolute()


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text("ascii").strip()
        secret = bytes.fromhex(text)
    except FileNotFoundError as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"The recipient lookup secret {path} is missing: restore it "
                          "from a backup (a new one would orphan every stored recipient).", file=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"The recipient lookup secret {path} is unreadable: it must be "
                          "hex text; restore it from a backup.", file=str(path)) from exc
    if len(secret) < 32:
        raise ConfigError(Code.CONFIG_INVALID, f"The recipient lookup secret {path} is shorter than 32 bytes: "
                          "restore it from a backup.", file=str(path))
    return secret


def _value(src: TomlSource, table: str, key: str, check: Any, *args: Any) -> Any:
    try:
        return check(src.data.get(table, {}).get(key), *args)
    except _Invalid as exc:
        raise src.error((table, key), f"{exc}; fix it in {src.path}.") from None


def _smtp_settings(src: TomlSource) -> SmtpSettings:
    table = src.data.get("smtp", {})

    def optional(key: str, check: Any, *args: Any) -> Any:
        return None if table.get(key) is None else _value(src, "smtp", key, check, *args)

    return SmtpSettings(
        host=optional("host", _check_host), port=optional("port", _check_port),
        security=optional("security", _check_choice, "security", SMTP_SECURITY),
        username=optional("username", _check_text, "username", 320),
        password_env=_value(src, "smtp", "password_env", lambda v: _check_variable(v or SMTP_PASSWORD_VARIABLE)))


def _brand_settings(src: TomlSource, home: Path, name: str, email: str | None) -> Brand | None:
    table = src.data.get("brand")
    if table is None:
        return None

    def optional(key: str, check: Any, *args: Any) -> Any:
        def checked(value: Any) -> Any:
            try:
                return check(value, *args)
            except ValueError as exc:
                raise _Invalid(str(exc)) from None
        return None if table.get(key) is None else _value(src, "brand", key, checked)

    logo = optional("logo", _brand.check_logo, home)
    return Brand(
        name=optional("name", _check_text, "name") or name,
        primary_color=optional("primary_color", _brand.check_color) or _brand.DEFAULT_COLOR,
        logo=logo[0] if logo else None, logo_type=logo[1] if logo else None,
        contact_email=optional("contact_email", _check_email) or email,
        footer_links=optional("footer_links", _brand.check_footer_links, _check_url) or (),
        linkedin_organization_id=optional("linkedin_organization_id", _brand.check_linkedin_id),
        signature_name=optional("signature_name", _check_text, "signature_name", 120),
        signature_title=optional("signature_title", _check_text, "signature_title", 120),
    )


def load_settings(home: str | os.PathLike[str]) -> Settings:
    """Read ``<home>/badgesmith.toml`` and ``keys/lookup.secret``.

    NotFound INSTANCE_NOT_FOUND when there is no instance (run ``badgesmith init``);
    ConfigError TOML_MALFORMED (line, column) or CONFIG_INVALID (field, line).
    """
    home = Path(home).expanduser().absolute()
    path = home / SETTINGS_FILE
    if not path.is_file():
        raise NotFound(Code.INSTANCE_NOT_FOUND, f"There is no Badgesmith instance in {home}: run "
                       "`badgesmith init --name \"…\" --url https://…` there, or choose one with --home or "
                       f"{HOME_VARIABLE}.", home=str(home))
    src = TomlSource.read(path, max_bytes=MAX_SETTINGS_BYTES, code=Code.CONFIG_INVALID, error_class=ConfigError)
    src.check_keys((), src.data, tuple(_TABLES))
    for table, keys in _TABLES.items():
        if not isinstance(src.data.get(table, {}), dict):
            raise src.error((table,), f"{table} must be a [{table}] table.")
        if table == "smtp" and "password" in src.data.get(table, {}):  # before the typo check (its value is not shown)
            raise src.error(("smtp", "password"), "the SMTP password is never stored in badgesmith.toml: "
                            f"remove it, put it in the environment variable {SMTP_PASSWORD_VARIABLE} (or one "
                            f"named by password_env); fix it in {path}.")
        src.check_keys((table,), src.data.get(table, {}), keys)
    if "issuer" not in src.data:
        raise src.error((), f"the [issuer] table is missing; fix it in {path}.")
    did_method = _value(src, "issuer", "did_method", lambda v: _check_choice(v or "key", "did_method",
                                                                              ("key", "web")))
    did_web = src.data["issuer"].get("did_web")
    if did_method == "web" and did_web is None:
        raise src.error(("issuer", "did_method"), "did_method is \"web\" but did_web (the host) is missing.")
    if did_method == "key" and did_web is not None:
        raise src.error(("issuer", "did_web"), "did_web is set but did_method is \"key\": set did_method = "
                        "\"web\" or remove did_web.")
    email = src.data["issuer"].get("email")
    dirs = {key: (home / _value(src, "paths", key, lambda v, k=key: _check_text(v or k, k, 1000))).resolve()
            for key in _TABLES["paths"]}
    name = _value(src, "issuer", "name", _check_text, "name")
    email = None if email is None else _value(src, "issuer", "email", _check_email)
    return Settings(
        home=home,
        name=name,
        url=_value(src, "issuer", "url", _check_url),
        email=email,
        did_method=did_method,
        did_web=None if did_web is None else _value(src, "issuer", "did_web", _check_did_web),
        database_url=_value(src, "database", "url",
                            lambda v: _check_database_url(v or f"sqlite:///{home / DATABASE_FILE}", home)),
        key_id=_value(src, "keys", "current", lambda v: _check_key_id(v or "key-1")),
        default_format=_value(src, "defaults", "format",
                              lambda v: _check_choice(v or "di", "format", ("di", "jwt"))),
        status_list_size=_value(src, "defaults", "status_list_size",
                                lambda v: _check_size(MIN_LIST_SIZE if v is None else v)),
        keys_dir=dirs["keys"], achievements_dir=dirs["achievements"], out_dir=dirs["out"],
        lookup_secret=_read_secret(dirs["keys"] / SECRET_FILE),
        smtp=_smtp_settings(src),
        brand=_brand_settings(src, home, name, email),
    )


# --- writing ------------------------------------------------------------------


def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    Readers see the old file or the new one, never half of one; the temporary
    file has ``mode`` from its creation, so a secret is never briefly readable.
    ``durable=False`` skips the fsync for files that can be rebuilt from the
    registry (badges of a roster run: a crash may leave an empty one, which a
    re-run rewrites); the caller syncs once at the end instead.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    short = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
    return '"' + "".join(short.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                         for c in value) + '"'


def render_settings(settings: Settings) -> str:
    """The ``badgesmith.toml`` text for ``settings`` (defaults written as comments)."""
    q = _toml_string
    home = settings.home
    default_db = f"sqlite:///{home / DATABASE_FILE}"

    def relative(path: Path) -> str:
        return str(path.relative_to(home)) if path.is_relative_to(home) else str(path)

    lines = [
        "# Badgesmith instance settings, written by `badgesmith init`; edit freely.",
        "# No secrets here: signing keys and the recipient lookup secret live in keys/.",
        "",
        "[issuer]",
        f"name = {q(settings.name)}",
        "# Base URL: credential, achievement and status-list ids all start with it.",
        f"url = {q(settings.url)}",
        f"email = {q(settings.email)}" if settings.email else "# email = \"continuing-ed@example.org\"",
        "# \"key\" (did:key) or \"web\" (did:web; its DID document is served by `badgesmith serve`).",
        f"did_method = {q(settings.did_method)}",
        f"did_web = {q(settings.did_web)}" if settings.did_web else "# did_web = \"badges.example.org\"",
        "",
        "[keys]",
        f"current = {q(settings.key_id)}",
        "",
        "[database]",
        "# Default: the SQLite file badgesmith.sqlite3 in this folder. For several servers:",
        "# url = \"postgresql+psycopg://badgesmith@db.example.org/badgesmith\"",
    ]
    if settings.database_url != default_db:
        lines.append(f"url = {q(settings.database_url)}")
    lines += [
        "",
        "[defaults]",
        "# \"di\" (Data Integrity proof, eddsa-rdfc-2022) or \"jwt\" (VC-JWT).",
        f"format = {q(settings.default_format)}",
        f"status_list_size = {settings.status_list_size}",
        "",
        "[paths]",
        f"keys = {q(relative(settings.keys_dir))}",
        f"achievements = {q(relative(settings.achievements_dir))}",
        f"out = {q(relative(settings.out_dir))}",
        "",
    ]
    smtp = settings.smtp
    if smtp != SmtpSettings():
        lines += [
            "[smtp]",
            "# The relay for renewal notices. The password is never written here: it is read from the",
            "# environment variable named by password_env.",
            *(f"{key} = {q(value)}" for key, value in (("host", smtp.host), ("security", smtp.security),
                                                        ("username", smtp.username)) if value is not None),
            *([f"port = {smtp.port}"] if smtp.port is not None else []),
            f"password_env = {q(smtp.password_env)}",
            "",
        ]
    return "\n".join(lines)


def save_settings(settings: Settings) -> None:
    """Rewrite ``badgesmith.toml`` from ``settings`` atomically (e.g. after a key rotation)."""
    write_file_atomic(settings.home / SETTINGS_FILE, render_settings(settings).encode("utf-8"))


def set_current_key(home: Path, key_id: str) -> None:
    """Point ``[keys] current`` at ``key_id``, changing only that line of ``badgesmith.toml``.

    Staff edit the file by hand ([web], comments, tables added later): a key
    rotation must not rewrite it from what Badgesmith happens to model.
    """
    path = home / SETTINGS_FILE
    lines = safe_toml.read_limited(path, MAX_SETTINGS_BYTES).decode("utf-8").splitlines()
    wanted = f"current = {_toml_string(key_id)}"
    header = next((i for i, line in enumerate(lines) if line.strip() == "[keys]"), None)
    if header is None:
        lines += ["", "[keys]", wanted]
    else:
        end = next((i for i in range(header + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        current = next((i for i in range(header + 1, end) if re.match(r"\s*current\s*=", lines[i])), None)
        if current is None:
            lines.insert(header + 1, wanted)
        else:
            lines[current] = wanted
    text = "\n".join(lines) + "\n"
    if safe_toml.loads(text).get("keys", {}).get("current") != key_id:  # never write a file that says otherwise
        raise ConfigError(Code.CONFIG_INVALID, f"Cannot record the new key in {path}: edit [keys] current there "
                          f"to {key_id!r}.", path=str(path))
    write_file_atomic(path, text.encode("utf-8"))


def _arg(option: str, check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except _Invalid as exc:
        raise InputError(Code.CONFIG_INVALID, f"{option}: {exc}.", field=option) from None


def init_instance(home: str | os.PathLike[str], *, name: str, url: str, email: str | None = None,
                  did_web: str | None = None, database_url: str | None = None,
                  key_id: str = "key-1") -> Settings:
    """Create the instance folder and return its settings; the caller then generates key ``key_id``.

    Creates ``badgesmith.toml`` (last, atomically: it marks a finished init),
    ``keys/`` (0700) with ``lookup.secret`` (32 random bytes, hex, 0600; an
    existing one from an interrupted init is kept), ``achievements/`` and
    ``out/``. Conflict INSTANCE_EXISTS if ``badgesmith.toml`` exists;
    InputError CONFIG_INVALID naming the option for a bad value.
    """
    home = Path(home).expanduser().absolute()
    if (home / SETTINGS_FILE).exists():
        raise Conflict(Code.INSTANCE_EXISTS, f"{home} already holds a Badgesmith instance: choose another "
                       f"--home, or edit {home / SETTINGS_FILE}.", home=str(home))
    settings = Settings(
        home=home, name=_arg("--name", _check_text, name, "name"), url=_arg("--url", _check_url, url),
        email=None if email is None else _arg("--email", _check_email, email),
        did_method="web" if did_web else "key",
        did_web=_arg("--did-web", _check_did_web, did_web) if did_web else None,
        database_url=_arg("--db", _check_database_url, database_url or f"sqlite:///{home / DATABASE_FILE}", home),
        key_id=_arg("--key-id", _check_key_id, key_id), default_format="di", status_list_size=MIN_LIST_SIZE,
        keys_dir=home / "keys", achievements_dir=home / "achievements", out_dir=home / "out",
        lookup_secret=b"")
    try:
        home.mkdir(parents=True, exist_ok=True)
        settings.keys_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(settings.keys_dir, 0o700)  # mkdir's mode is filtered by the umask
        settings.achievements_dir.mkdir(exist_ok=True)
        settings.out_dir.mkdir(exist_ok=True)
        secret = settings.keys_dir / SECRET_FILE
        if not secret.exists():
            write_file_atomic(secret, secrets.token_hex(32).encode("ascii") + b"\n", mode=0o600)
        save_settings(settings)
    except OSError as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"Cannot create the instance in {home} ({exc.strerror}): "
                          "check the folder's permissions.", home=str(home)) from exc
    return load_settings(home)


# --- identifiers and URLs -----------------------------------------------------


def issuer_did(settings: Settings, public_key_multikey: str) -> str:
    """The issuer's DID: ``did:key:<multikey>`` or ``did:web:<host[:path]>``."""
    if settings.did_method == "web":
        return f"did:web:{settings.did_web}"
    if not _MULTIKEY.match(public_key_multikey or ""):
        raise ConfigError(Code.KEY_INVALID, "The public key is not a base58btc Multikey (z6Mk…).")
    return f"did:key:{public_key_multikey}"


def verification_method_id(settings: Settings, public_key_multikey: str) -> str:
    """The key's id inside the issuer DID: ``did:key:z…#z…`` or ``did:web:host#<key id>``."""
    did = issuer_did(settings, public_key_multikey)
    return f"{did}#{settings.key_id}" if settings.did_method == "web" else f"{did}#{public_key_multikey}"


def did_web_document_url(settings: Settings) -> str | None:
    """Where a did:web DID document lives (did:web spec §3.2); None for did:key."""
    if settings.did_method != "web" or not settings.did_web:
        return None
    host, *path = settings.did_web.split(":")
    host = host.replace("%3a", ":").replace("%3A", ":")
    return f"https://{host}/" + ("/".join(path) + "/did.json" if path else ".well-known/did.json")


def profile_url(settings: Settings) -> str:
    """The issuer Profile's URL: ``<base>/issuer``."""
    return f"{settings.url}/issuer"


def achievement_url(settings: Settings, slug: str) -> str:
    """An Achievement's id: ``<base>/achievements/<slug>``."""
    return f"{settings.url}/achievements/{slug}"


def image_url(settings: Settings, slug: str) -> str:
    """An Achievement image's URL: ``<base>/achievements/<slug>/image`` (PNG or SVG, by content type)."""
    return f"{achievement_url(settings, slug)}/image"


def credential_url(settings: Settings, credential_id: str) -> str:
    """A credential's public page: ``<base>/credentials/<uuid>`` for ``urn:uuid:<uuid>`` or a bare uuid."""
    try:
        value = uuid.UUID(credential_id.removeprefix("urn:uuid:"))
    except (AttributeError, ValueError) as exc:
        raise InputError(Code.CREDENTIAL_NOT_FOUND, f"{credential_id!r} is not a credential id "
                         "(urn:uuid:…).") from exc
    return f"{settings.url}/credentials/{value}"


def status_list_url(settings: Settings, purpose: str, number: int) -> str:
    """A status list credential's URL: ``<base>/status/<purpose>/<n>``."""
    if purpose not in PURPOSES or isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ValueError(f"no status list {purpose!r} #{number!r}")
    return f"{settings.url}/status/{purpose}/{number}"


__all__ = ["SETTINGS_FILE", "SMTP_PASSWORD_VARIABLE", "SMTP_SECURITY", "Settings", "SmtpSettings",
           "achievement_url", "credential_url", "did_web_document_url", "find_home", "image_url", "init_instance",
           "issuer_did", "load_settings", "profile_url", "render_settings", "save_settings", "set_current_key",
           "status_list_url",
           "verification_method_id", "write_file_atomic"]
