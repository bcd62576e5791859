"""``badgesmith.toml``: reading it into ``Settings``, writing it, and changing the current key.

The folder it lives in is ``issuer.instance.folder``; each value is checked by
``issuer.instance.checks``; the URLs built from it are ``issuer.instance.urls``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from errors import Code, ConfigError, NotFound
from issuer.badge.achievement import TomlSource
from issuer.instance import brand as _brand
from issuer.instance.brand import Brand
from issuer.instance.checks import (Invalid, check_choice, check_database_url, check_did_web,
                                    check_email, check_folder, check_host, check_key_id, check_port, check_size, check_text,
                                    check_url, check_variable)
from issuer.instance.files import write_file_atomic
from keys.jws_keys import JWT_ALGORITHMS
from verifier import safe_toml
from verifier.status import MIN_LIST_SIZE

SETTINGS_FILE = "badgesmith.toml"
SECRET_FILE = "lookup.secret"
DATABASE_FILE = "badgesmith.sqlite3"
HOME_VARIABLE = "BADGESMITH_HOME"
MAX_SETTINGS_BYTES = 64 * 1024
SMTP_SECURITY = ("starttls", "tls", "none")
SMTP_PASSWORD_VARIABLE = "BADGESMITH_SMTP_PASSWORD"

_TABLES = {
    "issuer": ("name", "url", "email", "did_method", "did_web"),
    "keys": ("current", "jwt"),
    "database": ("url",),
    "defaults": ("format", "status_list_size", "jwt_alg"),
    "paths": ("keys", "achievements", "out"),
    # The relay for renewal notices; the password is never here, only the name of its variable.
    "smtp": ("host", "port", "security", "username", "password_env"),
    # Read by app.py (web settings); listed here so a typo is still caught.
    "web": ("rate_limit", "rate_limit_storage", "token_rate_limit", "token_client_rate_limit", "max_content_length",
            "trust", "documents", "offline", "proxy_count", "claim_rate_limit",
            # The Open Badges API (issue 19, issuer/web/ob_api.py, ob_sign_in.py).
            "ob_sign_in", "ob_terms_url", "ob_privacy_url", "ob_sign_in_rate_limit", "ob_sign_in_address_rate_limit",
            "ob_register_rate_limit"),
    # Wallet offers (issue 20, issuer/awarding/claims.py): how long a claim link or QR code lives.
    "wallet": ("offer_minutes", "link_days"),
    # What the public sees: name, logo, colour, contact, footer links (issuer/instance/brand.py).
    "brand": _brand.KEYS,
    # A division's usual roster headers: [roster.columns] "Email Address" = "email" (issuer/awarding/roster_columns.py).
    "roster": ("columns", "date_order"),
    # issue 18: this instance is an association ("role" = "association"), or a division of one (its DID,
    # name and URL, which every Profile of the division names as parentOrg).
    "association": ("role", "did", "name", "url"),
}
ASSOCIATION_ROLES = ("association", "division")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The ``[smtp]`` table: the division's mail relay for renewal notices (all optional).

    ``security`` None means "decided by the port and the login" (see
    ``issuer.records.notices.smtp_relay``). The password is never stored: only the
    name of the environment variable that holds it.
    """

    host: str | None = None
    port: int | None = None
    security: str | None = None  # "starttls", "tls" or "none"
    username: str | None = None
    password_env: str = SMTP_PASSWORD_VARIABLE


@dataclass(frozen=True, slots=True)
class AssociationSettings:
    """The ``[association]`` table: ``role`` "association" (this instance is the association), or
    "division" with the association's DID, name and URL (written by ``badgesmith init --association``)."""

    role: str
    did: str | None = None
    name: str | None = None
    url: str | None = None


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
    jwt_alg: str = "EdDSA"  # the alg of the VC-JWTs it issues: EdDSA (the Ed25519 key), RS256 or ES256
    jwt_keys: tuple[str, ...] = ()  # RSA/P-256 keys in keys/, all published in the did:web document
    roster_columns: tuple[tuple[str, str], ...] = ()  # [roster.columns]: (header, field), checked when a roster is read
    roster_date_order: str | None = None  # [roster] date_order: "MDY" or "DMY" for 12/06/2026 (roster_dates.py)
    offer_minutes: int = 10  # [wallet] offer_minutes: the life of a wallet offer (a QR code, a claim link)
    link_days: int = 30  # [wallet] link_days: the life of a claim page link (e-mails, roster summaries)
    association: AssociationSettings | None = None  # [association]: None for an instance on its own

    @property
    def public_brand(self) -> Brand:
        """The brand the public sees, with the issuer's name and e-mail where ``[brand]`` gives none."""
        return self.brand or Brand(name=self.name, contact_email=self.email)


def read_lookup_secret(path: Path) -> bytes:
    """The recipient lookup secret in ``path`` (hex text, at least 32 bytes): ConfigError CONFIG_INVALID otherwise."""
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
    except Invalid as exc:
        raise src.error((table, key), f"{exc}; fix it in {src.path}.") from None


def _smtp_settings(src: TomlSource) -> SmtpSettings:
    table = src.data.get("smtp", {})

    def optional(key: str, check: Any, *args: Any) -> Any:
        return None if table.get(key) is None else _value(src, "smtp", key, check, *args)

    return SmtpSettings(
        host=optional("host", check_host), port=optional("port", check_port),
        security=optional("security", check_choice, "security", SMTP_SECURITY),
        username=optional("username", check_text, "username", 320),
        password_env=_value(src, "smtp", "password_env", lambda v: check_variable(v or SMTP_PASSWORD_VARIABLE)))


def _brand_settings(src: TomlSource, home: Path, name: str, email: str | None) -> Brand | None:
    table = src.data.get("brand")
    if table is None:
        return None

    def optional(key: str, check: Any, *args: Any) -> Any:
        def checked(value: Any) -> Any:
            try:
                return check(value, *args)
            except ValueError as exc:
                raise Invalid(str(exc)) from None
        return None if table.get(key) is None else _value(src, "brand", key, checked)

    logo = optional("logo", _brand.check_logo, home)
    return Brand(
        name=optional("name", check_text, "name") or name,
        primary_color=optional("primary_color", _brand.check_color) or _brand.DEFAULT_COLOR,
        logo=logo[0] if logo else None, logo_type=logo[1] if logo else None,
        contact_email=optional("contact_email", check_email) or email,
        footer_links=optional("footer_links", _brand.check_footer_links, check_url) or (),
        linkedin_organization_id=optional("linkedin_organization_id", _brand.check_linkedin_id),
        signature_name=optional("signature_name", check_text, "signature_name", 120),
        signature_title=optional("signature_title", check_text, "signature_title", 120),
    )


def _check_jwt_keys(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Invalid("jwt must be a list of key ids, e.g. [\"rs256-1\"]")
    return tuple(check_key_id(item) for item in value)


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
    did_method = _value(src, "issuer", "did_method", lambda v: check_choice(v or "key", "did_method",
                                                                              ("key", "web")))
    did_web = src.data["issuer"].get("did_web")
    if did_method == "web" and did_web is None:
        raise src.error(("issuer", "did_method"), "did_method is \"web\" but did_web (the host) is missing.")
    if did_method == "key" and did_web is not None:
        raise src.error(("issuer", "did_web"), "did_web is set but did_method is \"key\": set did_method = "
                        "\"web\" or remove did_web.")
    jwt_alg = _value(src, "defaults", "jwt_alg", lambda v: check_choice(v or "EdDSA", "jwt_alg", JWT_ALGORITHMS))
    if jwt_alg != "EdDSA" and did_method != "web":
        raise src.error(("defaults", "jwt_alg"), f"jwt_alg is \"{jwt_alg}\" but the issuer is a did:key, which "
                        "names only its Ed25519 key: RS256 and ES256 VC-JWTs need did_method = \"web\" (its DID "
                        "document publishes the key), or set jwt_alg = \"EdDSA\".")
    jwt_keys = _value(src, "keys", "jwt", _check_jwt_keys)
    email = src.data["issuer"].get("email")
    dirs = {key: (home / _value(src, "paths", key, lambda v, k=key: check_folder(v or k, k))).resolve()
            for key in _TABLES["paths"]}
    name = _value(src, "issuer", "name", check_text, "name")
    email = None if email is None else _value(src, "issuer", "email", check_email)
    return Settings(
        home=home,
        name=name,
        url=_value(src, "issuer", "url", check_url),
        email=email,
        did_method=did_method,
        did_web=None if did_web is None else _value(src, "issuer", "did_web", check_did_web),
        database_url=_value(src, "database", "url",
                            lambda v: check_database_url(v or f"sqlite:///{home / DATABASE_FILE}", home)),
        key_id=_value(src, "keys", "current", lambda v: check_key_id(v or "key-1")),
        default_format=_value(src, "defaults", "format",
                              lambda v: check_choice(v or "di", "format", ("di", "jwt"))),
        status_list_size=_value(src, "defaults", "status_list_size",
                                lambda v: check_size(MIN_LIST_SIZE if v is None else v)),
        keys_dir=dirs["keys"], achievements_dir=dirs["achievements"], out_dir=dirs["out"],
        lookup_secret=read_lookup_secret(dirs["keys"] / SECRET_FILE),
        smtp=_smtp_settings(src),
        brand=_brand_settings(src, home, name, email),
        jwt_alg=jwt_alg,
        jwt_keys=jwt_keys,
        roster_columns=_roster_columns(src),
        roster_date_order=_value(src, "roster", "date_order",
                                 lambda v: None if v is None else check_choice(v, "date_order", ("MDY", "DMY"))),
        association=_association_settings(src),
        offer_minutes=_value(src, "wallet", "offer_minutes", _check_offer_minutes),
        link_days=_value(src, "wallet", "link_days", _check_link_days),
    )


def _check_offer_minutes(value: Any) -> int:
    if value is None:
        return 10
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1440:
        raise Invalid("offer_minutes must be a whole number of minutes from 1 to 1440 (a day)")
    return value


def _check_link_days(value: Any) -> int:
    if value is None:
        return 30
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise Invalid("link_days must be a whole number of days from 1 to 365")
    return value


def _association_settings(src: TomlSource) -> AssociationSettings | None:
    table = src.data.get("association")
    if table is None:
        return None
    role = _value(src, "association", "role", check_choice, "role", ASSOCIATION_ROLES)
    if role == "association":
        return AssociationSettings(role)
    missing = [key for key in ("did", "name", "url") if not table.get(key)]
    if missing:
        raise src.error(("association", missing[0]), f"a division names its association's did, name and url, "
                        f"and {missing[0]} is missing; fix it in {src.path} (or run `badgesmith init "
                        "--association` again in a new folder).")
    return AssociationSettings(role, did=_value(src, "association", "did", check_text, "did", 500),
                               name=_value(src, "association", "name", check_text, "name"),
                               url=_value(src, "association", "url", check_url))


def _roster_columns(src: TomlSource) -> tuple[tuple[str, str], ...]:
    table = src.data.get("roster", {}).get("columns", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) and len(k) <= 200 and len(v) <= 40
                                              for k, v in table.items()):
        raise src.error(("roster", "columns"), "[roster.columns] must map column headers to field names, like "
                        f"\"Email Address\" = \"email\"; fix it in {src.path}.")
    return tuple(table.items())


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
        "# RSA (RS256) and P-256 (ES256) keys for VC-JWTs, added by `badgesmith keys add --alg`; every one",
        "# listed is published in the did:web DID document (keep old ones so what they signed verifies).",
        (f"jwt = [{', '.join(q(k) for k in settings.jwt_keys)}]" if settings.jwt_keys else "# jwt = [\"rs256-1\"]"),
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
        "# The alg of issued VC-JWTs: \"EdDSA\" (the Ed25519 key), \"RS256\" or \"ES256\" (need did:web).",
        f"jwt_alg = {q(settings.jwt_alg)}",
        f"status_list_size = {settings.status_list_size}",
        "",
        "[paths]",
        f"keys = {q(relative(settings.keys_dir))}",
        f"achievements = {q(relative(settings.achievements_dir))}",
        f"out = {q(relative(settings.out_dir))}",
        "",
    ]
    link = settings.association
    if link is not None:
        lines += ["[association]",
                  "# \"association\": this instance is the association its divisions name; \"division\": this",
                  "# instance is a division of the association below (badgesmith init --association).",
                  f"role = {q(link.role)}",
                  *(f"{key} = {q(value)}" for key, value in (("did", link.did), ("name", link.name),
                                                              ("url", link.url)) if value is not None),
                  ""]
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
    """Point ``[keys] current`` at ``key_id``, changing nothing else in ``badgesmith.toml``.

    Staff edit the file by hand ([web], comments, tables added later): a key
    rotation must not rewrite it from what Badgesmith happens to model, so the
    edit goes through tomlkit, which keeps comments, order and spacing.
    """
    def edit(document: Any) -> None:
        _table(document, "keys")["current"] = key_id

    fix = f"edit [keys] current there to {key_id!r}"
    text = _edit_settings(home, edit, fix)
    if safe_toml.loads(text).get("keys", {}).get("current") != key_id:  # never write a file that says otherwise
        raise ConfigError(Code.CONFIG_INVALID, f"Cannot record the new key in {home / SETTINGS_FILE}: {fix}.",
                          path=str(home / SETTINGS_FILE))
    write_file_atomic(home / SETTINGS_FILE, text.encode("utf-8"))


def record_jwt_key(home: Path, key_id: str, *, default_alg: str | None = None) -> None:
    """Add ``key_id`` to ``[keys] jwt`` (and set ``[defaults] jwt_alg`` to ``default_alg``), changing
    nothing else in ``badgesmith.toml`` (tomlkit, as ``set_current_key``). The caller checks that the
    issuer is a did:web (``issuer.instance.jwt_keys.add_jwt_key``)."""
    def edit(document: Any) -> None:
        table = _table(document, "keys")
        listed = [str(k) for k in table.get("jwt", [])]
        table["jwt"] = listed + ([key_id] if key_id not in listed else [])
        if default_alg is not None:
            _table(document, "defaults")["jwt_alg"] = default_alg

    text = _edit_settings(home, edit, f"add {key_id!r} to [keys] jwt there")
    write_file_atomic(home / SETTINGS_FILE, text.encode("utf-8"))


def _table(document: Any, name: str) -> Any:
    if document.get(name) is None:
        document[name] = tomlkit.table()
    return document[name]


def _edit_settings(home: Path, edit: Any, fix: str) -> str:
    """``badgesmith.toml``'s text after ``edit(document)`` through tomlkit (comments and layout kept)."""
    path = home / SETTINGS_FILE
    text = safe_toml.read_limited(path, MAX_SETTINGS_BYTES).decode("utf-8")
    try:
        document = tomlkit.parse(text)
        edit(document)
        return tomlkit.dumps(document)
    except (TOMLKitError, TypeError, AttributeError) as exc:  # e.g. `keys` that is not a table
        raise ConfigError(Code.CONFIG_INVALID, f"Cannot record the new key in {path}: {fix}.",
                          path=str(path)) from exc


__all__ = ["ASSOCIATION_ROLES", "AssociationSettings", "DATABASE_FILE", "HOME_VARIABLE", "MAX_SETTINGS_BYTES",
           "SECRET_FILE", "SETTINGS_FILE", "SMTP_PASSWORD_VARIABLE", "SMTP_SECURITY", "Settings", "SmtpSettings",
           "load_settings", "read_lookup_secret", "render_settings",
           "record_jwt_key", "save_settings", "set_current_key"]
