"""A database that stops answering mid-service: 503 with Retry-After and a sentence for visitors; the real
cause (hosts, paths) goes to the server's log, never to the page."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from issuer.instance.folder import init_instance
from keys.ed25519 import KeyPair
from keys.keystore import save_key



MISSING = "/credentials/00000000-0000-4000-8000-000000000000"  # a badge page: looked up in the database


def _instance(tmp_path):
    home = tmp_path / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    return home


def _connections(url: str, *, allowed: bool) -> None:
    """Let the database answer again, or stop it answering: no new connections, and the open ones are ended
    (as a restart or an outage does)."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                connection.execute(text("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                                        "WHERE datname = :name"), {"name": name})
    finally:
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_database_outage_is_a_503_with_retry_after_and_no_server_details(db_url, tmp_path, caplog):
    app = create_app({"TESTING": True, "HOME": str(_instance(tmp_path)), "DATABASE_URL": db_url,
                      "RATE_LIMIT": "off"})
    client = app.test_client()
    assert client.get(MISSING, headers={"Accept": "application/json"}).status_code == 404
    _connections(db_url, allowed=False)
    try:
        with caplog.at_level(logging.ERROR, logger="badgesmith"):
            feed = client.get(MISSING, headers={"Accept": "application/json"})
            page = client.get(MISSING, headers={"Accept": "text/html"})
        assert feed.status_code == 503 and feed.headers["Retry-After"] == "5"
        error = feed.get_json()["error"]
        assert error == {"code": "DATABASE_ERROR",
                         "message": "The site's database is not answering just now; please try again in 5 seconds."}
        assert page.status_code == 503 and "not answering just now" in page.get_data(as_text=True)
        for answer in (feed, page):
            body = answer.get_data(as_text=True)
            assert db_url.rsplit("/", 1)[1] not in body and "127.0.0.1" not in body
        assert "DATABASE_ERROR" in caplog.text and db_url.rsplit("/", 1)[1] in caplog.text  # the log says what
    finally:
        _connections(db_url, allowed=True)
    assert client.get(MISSING, headers={"Accept": "application/json"}).status_code == 404  # back: reconnected
    app.extensions["badgesmith"].issuer.close()


def test_a_broken_set_up_shows_visitors_a_general_sentence_and_logs_the_real_one(tmp_path, caplog):
    """A registry file that is no database (a bad restore): 500, the operator's sentence only in the log."""
    home = _instance(tmp_path)
    app = create_app({"TESTING": True, "HOME": str(home), "RATE_LIMIT": "off"})
    client = app.test_client()
    assert client.get(MISSING, headers={"Accept": "application/json"}).status_code == 404
    app.extensions["badgesmith"].issuer.registry.dispose()
    for companion in home.glob("badgesmith.sqlite3-*"):
        companion.unlink()
    (home / "badgesmith.sqlite3").write_bytes(b"this is not a database" * 1000)
    with caplog.at_level(logging.ERROR, logger="badgesmith"):
        answer = client.get(MISSING, headers={"Accept": "application/json"})
    assert answer.status_code in (500, 503)
    error = answer.get_json()["error"]
    assert error["code"] == "DATABASE_ERROR" and str(home) not in answer.get_data(as_text=True)
    assert "not a database" not in error["message"] and "not a database" in caplog.text
