"""``create_app()``: the Flask app factory that composes Badgesmith's web blueprints.

Configuration is layered: ``DEFAULTS`` → the instance folder's ``badgesmith.toml``
(``[web]`` table; the folder is ``config["HOME"]`` or ``$BADGESMITH_HOME``, and is
optional: a verifier runs without one) → the ``config`` mapping (tests). The
services are built once and stored in ``app.extensions["badgesmith"]``.

Served in production by ``gunicorn 'app:create_app()'``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, json, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import templates
from errors import BadgesmithError, Code, ConfigError, public_dict
from verifier.ratelimit import RateLimiter, limiter_from_config, storage_for
from verifier import safe_toml
from verifier.report import Report
from verifier.turns import Turns
from verifier.uploads import CappedRequest
from issuer.instance.settings import MAX_SETTINGS_BYTES
from issuer.instance.brand import Brand
from issuer.web.catalog import bp as catalog_bp
from issuer.web.learner_pages import bp as learners_bp
from issuer.web.oid4vci import bp as oid4vci_bp
from issuer.web.wallet_exchange import bp as wallet_exchange_bp
from issuer.web.vc_api import bp as vc_api_bp
from issuer.web.pages import bp as issuer_bp
from verifier.vc_api import bp as vc_api_verify_bp
from verifier.web import bp as verify_bp
from issuer.web.ob_api import bp as ob_api_bp, imsx_error, is_ob_api_request
from issuer.web.ob_sign_in import bp as ob_oauth_bp

TEMPLATES = Path(templates.__file__).parent

VERIFIER_BRAND = Brand(name="Open Badges verifier")  # a verifier-only site: no association to name

DEFAULTS: dict[str, Any] = {
    "HOME": None,                  # instance folder; None: $BADGESMITH_HOME, else no instance
    "DEBUG": False,
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "RATE_LIMIT": "60/minute",     # per client address, for verification requests; "off" disables
    "RATE_LIMIT_STORAGE": None,    # where every worker's limits are counted: a URL (or a limits Storage);
                                   # None: $BADGESMITH_RATE_LIMIT_STORAGE, else <HOME>/ratelimits.sqlite3,
                                   # else memory:// (this process only)
    "PROXY_COUNT": 0,              # trusted reverse proxies in front (X-Forwarded-For/-Proto hops)
    "TRUST": None,                 # known issuers: {issuer id: name} or a TOML/JSON file path
    "OFFLINE": False,              # fetch nothing (status lists, did:web) from the network
    "DOCUMENTS": None,             # a --documents folder consulted before the network
    "VERIFY_OPTIONS": {},          # verifier.pipeline.VerifyOptions fields
    "VERIFY": None,                # injected verify(data, *, email=None) -> Report (tests)
    "LOOKUP": None,                # injected lookup(credential id) -> bytes | None
    "ISSUER": None,                # injected issuer.issuing.Issuer (default: opened from HOME)
    "REGISTRY": None,              # an issuer.registry.Registry for lookup
    "DATABASE_URL": None,          # or its URL
    "FETCH": None,                 # injected fetch(url) -> bytes
    "NOW": None,                   # injected clock () -> aware datetime
    "TURNS": None,                 # injected verifier.turns.Turns (default: one per app, PATIENCE)
}

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                "form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# OpenID for Verifiable Credential Issuance (issuer.web.oid4vci): answered in JSON whatever went wrong.
OID4VCI_PATHS = ("/oid4vci/", "/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server")
# Other machine-read endpoints whose refusals are JSON even when the routing refuses (a 405 has no blueprint).
JSON_PATHS = ("/wallet/exchanges/", "/catalog.json", "/ob/oauth/register", "/ob/oauth/token", "/ob/oauth/revoke")
# Codes for the HTTP errors Flask/werkzeug raise themselves.
HTTP_CODES = {400: Code.INPUT_UNREADABLE, 404: Code.NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED,
              413: Code.INPUT_TOO_LARGE, 415: Code.UNSUPPORTED_MEDIA_TYPE, 429: Code.RATE_LIMITED}
HTTP_MESSAGES = {
    400: "The request could not be read.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large.",
    415: "This kind of content is not supported here.",
    429: "Too many requests; please try again shortly.",
}


@dataclass(frozen=True, slots=True)
class Services:
    """What the blueprints use, built once per app (tests inject doubles through config)."""

    verify: Callable[..., Report]                       # verify(data, *, email=None) -> Report
    lookup: Callable[[str], bytes | None] | None        # stored credential by id (QR links)
    trust: Mapping[str, str] | None                     # known issuers: id -> name
    limiter: RateLimiter | None                         # None: no rate limit
    issuer: Any = None                                  # issuer.issuing.Issuer of the instance, if any
    fetch: Callable[[str], bytes] | None = None         # documents folder, then network (VC API holder keys)
    own_issuers: Mapping[str, str] | None = None        # this site's issuer ids -> its name
    brand: Any = None                                   # issuer.brand.Brand the public sees
    loader: Any = None                                  # the offline JSON-LD loader (pinned contexts)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Badgesmith web app: defaults, then the instance settings, then ``config``."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(TEMPLATES / "static"),
                static_url_path="/static")
    app.request_class = CappedRequest  # a chunked body over MAX_CONTENT_LENGTH is a 413, never cut short
    app.config.update(DEFAULTS)
    overrides = dict(config or {})
    # An explicit HOME (even None: "no instance", as tests use) wins over the environment.
    home = overrides["HOME"] if "HOME" in overrides else os.environ.get("BADGESMITH_HOME")
    if home:
        app.config.update(read_instance_settings(Path(home)))
    app.config.update(overrides)
    app.config["HOME"] = str(home) if home else None
    app.debug = bool(app.config["DEBUG"])
    # The whole body may be a pasted credential in one form field; Flask's 500 kB default would cut it.
    if "MAX_FORM_MEMORY_SIZE" not in overrides:
        app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    if app.config["PROXY_COUNT"]:
        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    # One storage for all the app's rate limits (verification, /oauth/token), shared by every worker.
    app.config["RATE_LIMIT_STORAGE"] = storage_for(_rate_limit_storage_url(app.config))
    app.extensions["badgesmith"] = build_services(app.config)

    app.register_blueprint(verify_bp)
    app.register_blueprint(ob_api_bp)
    app.register_blueprint(ob_oauth_bp)
    app.register_blueprint(issuer_bp)
    app.register_blueprint(vc_api_bp)
    app.register_blueprint(vc_api_verify_bp)
    app.register_blueprint(learners_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(oid4vci_bp)
    app.register_blueprint(wallet_exchange_bp)
    # A verifier-only site (no instance that issues) must not claim in its footers to award anything.
    app.context_processor(lambda: {"brand": app.extensions["badgesmith"].brand,
                                   "site_awards": app.extensions["badgesmith"].issuer is not None})
    app.add_url_rule("/", "index", lambda: redirect(url_for("verify.verify_page")))
    app.after_request(_add_security_headers)
    app.register_error_handler(BadgesmithError, _handle_badgesmith_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(500, _handle_internal_error)
    if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):  # set by gunicorn's arbiter
        _freeze_start_up_objects()
    return app


def _freeze_start_up_objects() -> None:
    """Hide what start-up made from the cyclic garbage collector, in a long-lived gunicorn worker.

    The warmed-up verifier (processed contexts, schema checks, caches) is ~100,000 objects that live
    as long as the worker; every full collection walked them all, a 70-90 ms pause every few
    thousand requests that lands in the p99 of whoever is waiting. Not in tests or the CLI, where
    apps come and go and frozen objects would never be collected.
    """
    import gc

    gc.collect()
    gc.freeze()


def read_instance_settings(home: Path) -> dict[str, Any]:
    """The ``[web]`` table of ``<home>/badgesmith.toml`` as config keys; empty when there is none."""
    path = home / "badgesmith.toml"
    if not path.is_file():
        return {}
    settings = _read_settings_file(path)
    web = settings.get("web", {})
    if not isinstance(web, dict):
        raise ConfigError(Code.CONFIG_INVALID, f"{path}: [web] must be a table.")
    values = {key.upper(): value for key, value in web.items()}
    if "CONTEXTS" in values:  # contexts are pinned in the package, never added by an instance file
        raise ConfigError(Code.CONFIG_INVALID, f"{path}: [web] contexts is not a setting: Badgesmith loads only "
                                               "the JSON-LD contexts it pins.")
    for key in ("TRUST", "DOCUMENTS"):  # relative paths are relative to the instance folder
        if isinstance(values.get(key), str):
            values[key] = str(home / values[key])
    database = settings.get("database") or settings.get("database_url")
    if isinstance(database, dict):
        database = database.get("url")
    # $DATABASE_URL, a deployment's choice, wins over the file (issuer.instance.database: the same order as the CLI).
    if isinstance(database, str) and "DATABASE_URL" not in values and not os.environ.get("DATABASE_URL"):
        values["DATABASE_URL"] = database
    return values


def _read_settings_file(path: Path) -> dict[str, Any]:
    """``badgesmith.toml`` parsed within the settings size limit and ``safe_toml``'s bounds."""
    try:
        return safe_toml.loads(safe_toml.read_limited(path, MAX_SETTINGS_BYTES).decode("utf-8"))
    except OSError as error:
        raise ConfigError(Code.CONFIG_INVALID, f"{path} cannot be read ({error.strerror}).") from None
    except (safe_toml.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(Code.TOML_MALFORMED, f"{path} is not valid TOML: {error}.") from None


def _rate_limit_storage_url(config: Mapping[str, Any]) -> Any:
    """The configured rate-limit storage; by default a SQLite file in the instance that all workers share."""
    chosen = config.get("RATE_LIMIT_STORAGE") or os.environ.get("BADGESMITH_RATE_LIMIT_STORAGE")
    if chosen:
        return chosen
    home = config.get("HOME")
    return f"sqlite:///{Path(home).resolve() / 'ratelimits.sqlite3'}" if home and Path(home).is_dir() else "memory://"


def build_services(config: Mapping[str, Any]) -> Services:
    """The verifier, lookup, trust list, rate limiter and the instance's issuer for one app."""
    trust = _trust_list(config.get("TRUST"))
    loader = _loader(config)
    issuer = config.get("ISSUER") or _open_issuer(config, loader)
    own_issuers = issuer.own_issuers() if issuer is not None else {}
    if own_issuers:  # this site's own credentials are issued by a known issuer: itself
        trust = {**own_issuers, **(trust or {})}
    verify = config.get("VERIFY") or _pipeline_verify(config, trust, issuer, loader)
    lookup = config.get("LOOKUP") or (_issuer_lookup(issuer) if issuer is not None else _lookup(config))
    return Services(verify=verify, lookup=lookup, trust=trust,
                    limiter=limiter_from_config(config.get("RATE_LIMIT"), storage=config.get("RATE_LIMIT_STORAGE")),
                    issuer=issuer,
                    fetch=config.get("FETCH") or _lazy_fetch(config), own_issuers=own_issuers,
                    brand=issuer.settings.public_brand if issuer is not None else VERIFIER_BRAND, loader=loader)


def _loader(config: Mapping[str, Any]) -> Any:
    """The pinned offline loader; with ``CONTEXTS`` (URL -> document, given to ``create_app`` only, as
    benchmarks/vc_api_server.py does for the W3C data-model suite) a loader of this app's own."""
    from schemas.loader import offline_loader

    return offline_loader(config.get("CONTEXTS") or None)


def _lazy_fetch(config: Mapping[str, Any]) -> Callable[[str], bytes]:
    """The configured fetch (documents folder, then the network unless OFFLINE), built on first use."""

    @lru_cache(maxsize=1)
    def build() -> Callable[[str], bytes]:
        from verifier.fetch import build_fetch

        documents = config.get("DOCUMENTS")
        return build_fetch(documents=Path(documents) if documents else None, offline=bool(config.get("OFFLINE")))

    return lambda url: build()(url)


def _open_issuer(config: Mapping[str, Any], loader: Any) -> Any:
    """The instance's Issuer when ``HOME`` holds one (key, registry); None for a verifier-only site."""
    home = config.get("HOME")
    path = Path(home) / "badgesmith.toml" if home else None
    if path is None or not path.is_file() or "issuer" not in _read_settings_file(path):
        return None  # a verifier-only site may keep just a [web] table
    from issuer.awarding.issuing import Issuer

    return Issuer.open(Path(home), passphrase=os.environ.get("BADGESMITH_KEY_PASSPHRASE") or None,
                       database_url=config.get("DATABASE_URL") or os.environ.get("DATABASE_URL") or None,
                       loader=loader)


def _issuer_lookup(issuer: Any) -> Callable[[str], bytes | None]:
    def lookup(credential_id: str) -> bytes | None:
        text = credential_id if credential_id.startswith("urn:uuid:") else f"urn:uuid:{credential_id}"
        record = issuer.registry.get_credential(text, issuer_id=issuer.issuer_id)
        return None if record is None else record.credential.encode("utf-8")

    return lookup


def _trust_list(value: Any) -> Mapping[str, str] | None:
    if value is None or isinstance(value, Mapping):
        return value
    from verifier.trust import load_trust_list

    return load_trust_list(Path(value))


def _lookup(config: Mapping[str, Any]) -> Callable[[str], bytes | None] | None:
    if config.get("LOOKUP"):
        return config["LOOKUP"]
    registry = config.get("REGISTRY")
    if registry is None and config.get("DATABASE_URL"):
        from issuer.store.registry import Registry

        registry = Registry.from_url(config["DATABASE_URL"])
    if registry is None:
        return None

    def lookup(credential_id: str) -> bytes | None:
        record = registry.get_credential(credential_id)
        return None if record is None else record.credential.encode("utf-8")

    return lookup


def _pipeline_verify(config: Mapping[str, Any], trust: Mapping[str, str] | None,
                     issuer: Any = None, loader: Any = None) -> Callable[..., Report]:
    """``verifier.pipeline.verify_bytes`` with this app's loader, fetcher, clock and trust list.

    Imported and warmed up (schema checks loaded, pinned contexts processed) when
    the app is made, so that a fresh gunicorn worker's first visitor does not
    wait for it; where the pipeline's optional parts are missing, the app (and
    its error pages) still start, and verification says so on first use.
    """
    now = config.get("NOW") or (lambda: datetime.now(timezone.utc))
    # A worker's threads verify one at a time, in the order they came, giving the turn up while they
    # fetch (verifier.turns): random GIL hand-offs between four verifications made /api/verify's tail.
    turns = config.get("TURNS") or Turns()

    @lru_cache(maxsize=1)
    def collaborators() -> tuple[Any, Any, Any, Any]:
        try:
            from schemas.loader import offline_loader
            from verifier.pipeline import VerifyOptions, verify_bytes, warm_up
        except ImportError as error:
            raise ConfigError(Code.CONFIG_INVALID,
                              "Verification is not available in this installation "
                              f"(missing module {getattr(error, 'name', None) or 'unknown'}).") from None
        fetch = config.get("FETCH")
        if fetch is None:
            from verifier.fetch import build_fetch

            documents = config.get("DOCUMENTS")
            fetch = build_fetch(documents=Path(documents) if documents else None,
                                offline=bool(config.get("OFFLINE")))
        if issuer is not None:
            # The instance's own status lists and DID document come from its registry, not over HTTP.
            from issuer.awarding.documents import instance_documents

            fetch = instance_documents(issuer, then=fetch)
        options = VerifyOptions(**dict(config.get("VERIFY_OPTIONS") or {}))
        warm_up(offline_loader())
        return verify_bytes, loader or offline_loader(), turns.outside(fetch), options

    def verify(data: bytes, *, email: str | None = None) -> Report:
        verify_bytes, loader, fetch, options = collaborators()
        with turns.turn():
            return verify_bytes(data, loader=loader, fetch=fetch, now=now(), trust=trust, email=email,
                                options=options)

    try:
        collaborators()
    except BadgesmithError:
        pass  # not cached: raised again, to the visitor, on first use
    return verify


# -- responses ------------------------------------------------------------------------------


def _add_security_headers(response: Response) -> Response:
    # Names already set (a view's own policy wins) are read once: Headers.setdefault finds a missing
    # name by raising and catching a KeyError, an HTTP exception object per header per response.
    present = {name.lower() for name, _ in response.headers}
    response.headers.extend([(name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present])
    if request.is_secure and "strict-transport-security" not in present:
        response.headers.add("Strict-Transport-Security", "max-age=31536000")
    return response


def _wants_json() -> bool:
    # The VC API is JSON in and out, whatever a client's Accept header says.
    if request.path.startswith("/api/") or request.blueprint in ("vc_api", "vc_api_verify", "wallet_exchange"):
        return True
    if request.path.startswith(OID4VCI_PATHS):  # wallets read the specification's JSON errors, even a 405's
        return True
    if request.path.startswith(JSON_PATHS):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _error_response(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    if is_ob_api_request():  # the Open Badges API answers in its own error shape (Imsx_StatusInfo)
        return imsx_error(status, body, headers)
    if _wants_json():
        response = Response(json.dumps({"error": body}), status=status, mimetype="application/json")
    else:
        response = Response(render_template("error.html", status=status, error=body), status=status)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _handle_badgesmith_error(error: BadgesmithError) -> Response:
    headers = dict(getattr(error, "headers", None) or {})  # e.g. WWW-Authenticate on 401/403
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    # A set-up or database problem's own sentence (paths, hosts) goes to the log, not to the visitor.
    return _error_response(error.http_status, public_dict(error), headers)


def _handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return _handle_internal_error(error)
    code = HTTP_CODES.get(status, Code.USAGE)
    message = HTTP_MESSAGES.get(status, "The request could not be handled.")
    if status == 413:
        limit = request.max_content_length or 0
        size = f"{limit / 1048576:g} MB" if limit >= 1048576 else f"{limit:,} bytes"
        message = f"The upload is larger than the {size} limit."
    headers = {}
    if status == 405:
        allow = error.get_response().headers.get("Allow")
        if allow:
            headers["Allow"] = allow
    return _error_response(status, {"code": code.value, "message": message}, headers)


def _handle_internal_error(error: Exception) -> Response:
    # Never show exception text: it can hold paths, SQL or credential content.
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, HTTPException):
        current_app.logger.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return _error_response(500, {"code": Code.INTERNAL_ERROR.value,
                                 "message": "Badgesmith hit an unexpected problem. Please try again later."})


__all__ = ["DEFAULTS", "SECURITY_HEADERS", "Services", "build_services", "create_app",
           "read_instance_settings"]
