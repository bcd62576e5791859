"""issuer.instance.settings: init, badgesmith.toml -> Settings, DIDs and the public URLs."""

import os
import stat
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from errors import Code, ConfigError, Conflict, InputError, NotFound
from issuer.instance.files import write_file_atomic
from issuer.instance.folder import find_home, init_instance
from issuer.instance.settings import load_settings, render_settings, save_settings, Settings, SmtpSettings
from issuer.instance.urls import (achievement_url, credential_url, did_web_document_url, image_url, issuer_did, profile_url, status_list_url, verification_method_id)

MULTIKEY = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
LLA = {"name": "Lakeshore Library Association", "url": "https://badges.lakeshore.example/"}


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def _init(tmp_path, **options):
    return init_instance(tmp_path / "lla", **{**LLA, **options})


def _edit(settings, old, new):
    path = settings.home / "badgesmith.toml"
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), "utf-8")
    return path


# --- find_home ----------------------------------------------------------------

def test_find_home_prefers_explicit_then_environment_then_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_home("x", env={"BADGESMITH_HOME": "/srv/y"}) == tmp_path / "x"
    assert find_home(None, env={"BADGESMITH_HOME": "/srv/y"}) == Path("/srv/y")
    assert find_home(None, env={}) == tmp_path
    assert find_home(None, env={"BADGESMITH_HOME": ""}) == tmp_path


# --- init ---------------------------------------------------------------------

def test_init_creates_the_instance_folder(tmp_path):
    settings = _init(tmp_path, email="CE@Lakeshore.example")
    home = tmp_path / "lla"
    assert (home / "badgesmith.toml").is_file()
    assert _mode(home / "keys") == 0o700
    assert _mode(home / "keys/lookup.secret") == 0o600
    assert (home / "achievements").is_dir() and (home / "out").is_dir()
    assert settings == Settings(
        home=home, name="Lakeshore Library Association", url="https://badges.lakeshore.example",
        email="ce@lakeshore.example", did_method="key", did_web=None,
        database_url=f"sqlite:///{home}/badgesmith.sqlite3", key_id="key-1", default_format="di",
        status_list_size=131072, keys_dir=home / "keys", achievements_dir=home / "achievements",
        out_dir=home / "out", lookup_secret=settings.lookup_secret)
    assert len(settings.lookup_secret) == 32
    assert settings.lookup_secret.hex() not in (home / "badgesmith.toml").read_text()
    assert settings.lookup_secret.hex() not in repr(settings)
    assert not list(home.glob(".*.tmp"))


def test_init_refuses_an_existing_instance(tmp_path):
    _init(tmp_path)
    with pytest.raises(Conflict) as caught:
        _init(tmp_path)
    assert caught.value.code is Code.INSTANCE_EXISTS


def test_init_keeps_the_secret_of_an_interrupted_init(tmp_path):
    first = _init(tmp_path)
    (first.home / "badgesmith.toml").unlink()
    assert _init(tmp_path).lookup_secret == first.lookup_secret


def test_init_with_did_web_and_database(tmp_path):
    settings = _init(tmp_path, did_web="did:web:Badges.Lakeshore.example:ce",
                     database_url="postgresql+psycopg://lla@db.example/badges")
    assert (settings.did_method, settings.did_web) == ("web", "badges.lakeshore.example:ce")
    assert settings.database_url == "postgresql+psycopg://lla@db.example/badges"


@pytest.mark.parametrize("option, value, words", [
    ("url", "http://badges.lakeshore.example", "https://"),
    ("url", "ftp://x.example", "full address"),
    ("url", "https://x.example/?a=1", "'?'"),
    ("url", "https://user:pw@x.example", "user name"),
    ("name", "  ", "non-empty"),
    ("email", "not-an-email", "e-mail"),
    ("did_web", "not a host", "did_web"),
    ("database_url", "mysql://x/y", "sqlite"),
    ("key_id", "key 1", "key id"),
])
def test_init_rejects_bad_options_naming_them(tmp_path, option, value, words):
    with pytest.raises(InputError) as caught:
        _init(tmp_path, **{option: value})
    assert caught.value.code is Code.CONFIG_INVALID
    assert words in str(caught.value)
    assert not (tmp_path / "lla/badgesmith.toml").exists()


@pytest.mark.parametrize("url", ["http://localhost:5000", "http://127.0.0.1:8080/demo/"])
def test_http_is_allowed_for_localhost_demos(tmp_path, url):
    assert _init(tmp_path, url=url).url == url.rstrip("/")


# --- load ---------------------------------------------------------------------

def test_load_without_instance_says_to_run_init(tmp_path):
    with pytest.raises(NotFound) as caught:
        load_settings(tmp_path)
    assert caught.value.code is Code.INSTANCE_NOT_FOUND
    assert "badgesmith init" in str(caught.value)


def test_malformed_toml_names_line_and_column(tmp_path):
    settings = _init(tmp_path)
    _edit(settings, 'current = "key-1"', 'current = "key-1')
    with pytest.raises(ConfigError) as caught:
        load_settings(settings.home)
    assert caught.value.code is Code.TOML_MALFORMED
    assert caught.value.details["line"] == 14 and "line 14, column" in str(caught.value)


@pytest.mark.parametrize("old, new, field, words", [
    ('url = "https://badges.lakeshore.example"', 'url = "http://badges.lakeshore.example"', "issuer.url",
     "https://"),
    ('format = "di"', 'format = "jws"', "defaults.format", '"di", "jwt"'),
    ("status_list_size = 131072", "status_list_size = 1000", "defaults.status_list_size", "131072"),
    ("status_list_size = 131072", "status_list_size = 131073", "defaults.status_list_size", "multiple of 8"),
    ('did_method = "key"', 'did_method = "web"', "issuer.did_method", "did_web"),
    ('did_method = "key"', 'did_method = "key"\ndid_web = "x.example"', "issuer.did_web", "did_method"),
    ('did_method = "key"', 'did_method = "peer"', "issuer.did_method", '"key", "web"'),
    ('name = "Lakeshore Library Association"', 'nmae = "LLA"', "issuer.nmae", "did you mean 'name'"),
    ("[defaults]", "[defualts]", "defualts", "did you mean 'defaults'"),
    ('current = "key-1"', 'current = "../../etc"', "keys.current", "key id"),
    ('[database]', '[database]\nurl = "oracle://x"', "database.url", "sqlite"),
    ("status_list_size = 131072", 'status_list_size = 131072\n[smtp]\nsecurity = "ssl"', "smtp.security",
     '"starttls", "tls", "none"'),
    ("status_list_size = 131072", "status_list_size = 131072\n[smtp]\nport = 0", "smtp.port", "1 to 65535"),
    ("status_list_size = 131072", 'status_list_size = 131072\n[smtp]\nhost = "smtp://mail.example.org"',
     "smtp.host", "host name or IP address"),
    ("status_list_size = 131072", 'status_list_size = 131072\n[smtp]\nusername = ""', "smtp.username",
     "non-empty"),
    ("status_list_size = 131072", 'status_list_size = 131072\n[smtp]\nusernmae = "ce"', "smtp.usernmae",
     "did you mean 'username'"),
])
def test_wrong_field_is_config_invalid_naming_field_and_line(tmp_path, old, new, field, words):
    settings = _init(tmp_path)
    path = _edit(settings, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(settings.home)
    error = caught.value
    assert (error.code, error.details["field"]) == (Code.CONFIG_INVALID, field)
    text = path.read_text()
    expected_line = text[:text.index(new)].count("\n") + new.count("\n") + 1
    assert error.details["line"] == expected_line
    assert words in str(error)


def test_smtp_table_is_read_without_a_password(tmp_path):
    settings = _init(tmp_path)
    assert settings.smtp == SmtpSettings(password_env="BADGESMITH_SMTP_PASSWORD")
    _edit(settings, "[defaults]", '[smtp]\nhost = "SMTP.Office365.com"\nport = 587\nsecurity = "starttls"\n'
                                  'username = "ce@lakeshore.example"\npassword_env = "LLA_SMTP"\n\n[defaults]')
    assert load_settings(settings.home).smtp == SmtpSettings(
        host="smtp.office365.com", port=587, security="starttls", username="ce@lakeshore.example",
        password_env="LLA_SMTP")


@pytest.mark.parametrize("line", ['password = "Lakeshore-relay-s3cret!"',
                                  'password_env = "Lakeshore-relay-s3cret!"'])
def test_a_password_in_the_smtp_table_is_refused_without_being_repeated(tmp_path, line):
    settings = _init(tmp_path)
    text = _edit(settings, "[defaults]", f'[smtp]\nhost = "mail.lakeshore.example"\n{line}\n\n[defaults]').read_text()
    with pytest.raises(ConfigError) as caught:
        load_settings(settings.home)
    assert caught.value.code is Code.CONFIG_INVALID
    assert caught.value.details["line"] == text[:text.index(line)].count("\n") + 1
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value.to_dict())


def test_missing_issuer_table_is_reported(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "badgesmith.toml").write_text("[defaults]\nformat = \"di\"\n")
    with pytest.raises(ConfigError, match=r"\[issuer\]"):
        load_settings(home)


def test_missing_or_bad_lookup_secret_is_config_invalid(tmp_path):
    settings = _init(tmp_path)
    secret = settings.keys_dir / "lookup.secret"
    secret.write_text("zz")
    with pytest.raises(ConfigError, match="unreadable"):
        load_settings(settings.home)
    secret.write_text("ab" * 8)
    with pytest.raises(ConfigError, match="shorter"):
        load_settings(settings.home)
    secret.unlink()
    with pytest.raises(ConfigError, match="missing"):
        load_settings(settings.home)


def test_relative_sqlite_path_is_inside_the_home(tmp_path, monkeypatch):
    settings = _init(tmp_path)
    _edit(settings, "[database]", '[database]\nurl = "sqlite:///data/registry.db"')
    monkeypatch.chdir(tmp_path)
    assert load_settings(settings.home).database_url == f"sqlite:///{settings.home}/data/registry.db"


def test_settings_round_trip_through_save(tmp_path):
    settings = _init(tmp_path, email="ce@lakeshore.example", did_web="badges.lakeshore.example")
    changed = replace(settings, name='The "Lakeshore" Library\\Association\t\u007f', key_id="key-2",
                      default_format="jwt", status_list_size=262144, out_dir=tmp_path / "elsewhere",
                      smtp=SmtpSettings(host="smtp.office365.com", security="starttls", username="ce@x.example"))
    save_settings(changed)
    assert load_settings(settings.home) == changed


def test_rendered_toml_escapes_strings():
    text = render_settings(Settings(
        home=Path("/h"), name='A "quoted"\nname \\ \x01', url="https://x.example", email=None, did_method="key",
        did_web=None, database_url="sqlite:////h/badgesmith.sqlite3", key_id="key-1", default_format="di",
        status_list_size=131072, keys_dir=Path("/h/keys"), achievements_dir=Path("/h/achievements"),
        out_dir=Path("/h/out"), lookup_secret=b""))
    assert tomllib.loads(text)["issuer"]["name"] == 'A "quoted"\nname \\ \x01'
    assert "url" not in tomllib.loads(text)["database"]


def test_write_file_atomic_replaces_with_mode(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    write_file_atomic(path, b"new", mode=0o600)
    assert path.read_bytes() == b"new" and _mode(path) == 0o600
    assert os.listdir(tmp_path) == ["f"]


def test_write_file_atomic_gives_the_mode_asked_whatever_the_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        write_file_atomic(tmp_path / "public.png", b"x", durable=False)
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "public.png") == 0o644


def test_write_file_atomic_works_around_a_temporary_name_left_by_a_dead_process(tmp_path):
    path = tmp_path / "badge.json"
    stale = tmp_path / f".badge.json.{os.getpid()}.tmp"
    stale.write_bytes(b"half of an old write")
    write_file_atomic(path, b"{}", durable=False)
    assert path.read_bytes() == b"{}" and stale.read_bytes() == b"half of an old write"
    assert sorted(os.listdir(tmp_path)) == [stale.name, "badge.json"]


def test_write_file_atomic_from_many_threads_at_once_leaves_one_whole_file(tmp_path):
    """Two requests publishing the same status list: each write is whole, and no temporary file stays."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "revocation-1.json"
    payloads = [bytes([65 + i]) * 200_000 for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda data: write_file_atomic(path, data), payloads * 4))
    assert path.read_bytes() in payloads
    assert os.listdir(tmp_path) == ["revocation-1.json"]


def test_write_file_atomic_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_file_atomic(path, "text, not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]


# --- DIDs and URLs ------------------------------------------------------------

def test_did_key_issuer_and_verification_method(tmp_path):
    settings = _init(tmp_path)
    assert issuer_did(settings, MULTIKEY) == f"did:key:{MULTIKEY}"
    assert verification_method_id(settings, MULTIKEY) == f"did:key:{MULTIKEY}#{MULTIKEY}"
    assert did_web_document_url(settings) is None
    with pytest.raises(ConfigError):
        issuer_did(settings, "not-a-multikey")


@pytest.mark.parametrize("did_web, document", [
    ("badges.lakeshore.example", "https://badges.lakeshore.example/.well-known/did.json"),
    ("lakeshore.example:ce:badges", "https://lakeshore.example/ce/badges/did.json"),
    ("localhost%3A5000", "https://localhost:5000/.well-known/did.json"),
])
def test_did_web_issuer_and_document_url(tmp_path, did_web, document):
    settings = _init(tmp_path, did_web=did_web)
    assert issuer_did(settings, MULTIKEY) == f"did:web:{did_web}"
    assert verification_method_id(settings, MULTIKEY) == f"did:web:{did_web}#key-1"
    assert did_web_document_url(settings) == document


def test_public_urls(tmp_path):
    settings = _init(tmp_path, url="https://lakeshore.example/badges/")
    base = "https://lakeshore.example/badges"
    assert profile_url(settings) == f"{base}/issuer"
    assert achievement_url(settings, "storytime") == f"{base}/achievements/storytime"
    assert image_url(settings, "storytime") == f"{base}/achievements/storytime/image"
    uid = "1f0e3dad-9999-4b3b-8c2d-0123456789ab"
    assert credential_url(settings, f"urn:uuid:{uid.upper()}") == f"{base}/credentials/{uid}"
    assert credential_url(settings, uid) == f"{base}/credentials/{uid}"
    assert status_list_url(settings, "revocation", 0) == f"{base}/status/revocation/0"
    assert status_list_url(settings, "suspension", 3) == f"{base}/status/suspension/3"
    with pytest.raises(InputError):
        credential_url(settings, "https://elsewhere.example/1")
    with pytest.raises(ValueError):
        status_list_url(settings, "refresh", 1)
