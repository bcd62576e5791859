"""create_app: config layering (defaults → instance → overrides), services, template folder."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import templates
from app import DEFAULTS, Services, create_app
from errors import ConfigError
from verifier.ratelimit import Rate

ISSUER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    (tmp_path / "known.toml").write_text(f'[issuers]\n"{ISSUER}" = "Lakeshore Library Association"\n')
    (tmp_path / "badgesmith.toml").write_text(
        '[web]\nrate_limit = "5/minute"\nmax_content_length = 123456\ntrust = "known.toml"\n')
    return tmp_path


def test_defaults_without_an_instance(fake_verify, monkeypatch):
    monkeypatch.delenv("BADGESMITH_HOME", raising=False)
    app = create_app({"VERIFY": fake_verify})
    assert app.config["HOME"] is None
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024
    services = app.extensions["badgesmith"]
    assert isinstance(services, Services) and services.trust is None and services.lookup is None
    assert services.limiter.rate == Rate(60, 60.0)
    assert app.debug is False


def test_instance_settings_layer_under_overrides(instance, fake_verify):
    app = create_app({"HOME": instance, "VERIFY": fake_verify, "MAX_CONTENT_LENGTH": 999})
    assert app.config["HOME"] == str(instance)
    assert app.config["MAX_CONTENT_LENGTH"] == 999  # the mapping wins
    services = app.extensions["badgesmith"]
    assert services.limiter.rate == Rate(5, 60.0)  # from [web]
    assert services.trust[ISSUER] == "Lakeshore Library Association"  # path relative to the instance


def test_instance_from_environment(instance, fake_verify, monkeypatch):
    monkeypatch.setenv("BADGESMITH_HOME", str(instance))
    assert create_app({"VERIFY": fake_verify}).config["MAX_CONTENT_LENGTH"] == 123456


def test_folder_without_settings_is_skipped_quietly(tmp_path, fake_verify):
    app = create_app({"HOME": tmp_path, "VERIFY": fake_verify})
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"]


def test_malformed_instance_settings_fail_at_startup(tmp_path, fake_verify):
    (tmp_path / "badgesmith.toml").write_text("[web\n")
    with pytest.raises(ConfigError) as caught:
        create_app({"HOME": tmp_path, "VERIFY": fake_verify})
    assert caught.value.code.value == "TOML_MALFORMED"


def test_bad_rate_limit_fails_at_startup(fake_verify):
    with pytest.raises(ConfigError):
        create_app({"HOME": None, "VERIFY": fake_verify, "RATE_LIMIT": "lots"})


def test_services_are_frozen(app):
    with pytest.raises(dataclasses.FrozenInstanceError):
        app.extensions["badgesmith"].verify = None


def test_templates_come_from_the_templates_package(app):
    folder = Path(templates.__file__).parent
    assert Path(app.template_folder) == folder
    assert Path(app.static_folder) == folder / "static"


def test_lookup_is_built_on_an_injected_registry(fake_verify, make_credential):
    credential = json.dumps(make_credential("From the registry"))
    records = {"urn:uuid:1": SimpleNamespace(credential=credential)}
    registry = SimpleNamespace(get_credential=records.get)
    app = create_app({"TESTING": True, "HOME": None, "VERIFY": fake_verify, "REGISTRY": registry})
    lookup = app.extensions["badgesmith"].lookup
    assert lookup("urn:uuid:1") == credential.encode() and lookup("urn:uuid:2") is None
    response = app.test_client().get("/verify?credential=urn:uuid:1")
    assert "From the registry" in response.get_data(as_text=True)


def test_debug_only_when_configured(fake_verify):
    assert create_app({"HOME": None, "VERIFY": fake_verify, "DEBUG": True}).debug is True


def test_security_headers_once_each_and_a_views_own_policy_wins(fake_verify, monkeypatch):
    """Every response carries each security header exactly once; a header a view set itself is kept, not doubled."""
    from flask import Response

    from app import SECURITY_HEADERS

    monkeypatch.delenv("BADGESMITH_HOME", raising=False)
    app = create_app({"VERIFY": fake_verify, "RATE_LIMIT": "off"})

    @app.get("/own-policy")
    def own_policy():
        response = Response("x")
        response.headers["referrer-policy"] = "no-referrer"  # any case: header names are case-insensitive
        return response

    client = app.test_client()
    plain = client.get("/api/openapi.json")
    assert all(plain.headers.getlist(name) == [value] for name, value in SECURITY_HEADERS.items())
    assert "Strict-Transport-Security" not in plain.headers
    own = client.get("/own-policy", base_url="https://badges.example")
    assert own.headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert own.headers.getlist("X-Frame-Options") == ["DENY"]
    assert own.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]


def test_a_gunicorn_worker_freezes_what_start_up_made_and_nothing_else_does(fake_verify, monkeypatch):
    import gc

    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    gc.unfreeze()
    create_app({"VERIFY": fake_verify})
    assert gc.get_freeze_count() == 0  # tests and the CLI: apps come and go, their objects must stay collectable
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")  # what gunicorn's arbiter sets for its workers
    try:
        create_app({"VERIFY": fake_verify})
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
