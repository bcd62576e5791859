"""Which database a command uses: ``--db`` > ``$DATABASE_URL`` > badgesmith.toml > the SQLite file (issue 16).

Real databases: SQLite files, and a PostgreSQL server where the machine has one (``db_url``).
``badgesmith status`` and ``init`` say which database is in use and where that choice came from,
never showing a password.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from cli import main
from issuer.instance.database import masked_url, url_without_password

ROOT = Path(__file__).resolve().parents[2]
COURSE_FILE = ROOT / "templates" / "achievements" / "ceu-course.toml"
COURSE = "storytime-early-literacy"


def run(*args, code: int = 0, env: dict[str, str] | None = None):
    # DATABASE_URL is always set or removed explicitly, so the environment the tests run in cannot leak in.
    env = {"DATABASE_URL": None, **(env or {})}
    result = CliRunner().invoke(main, [*map(str, args)], catch_exceptions=False, env=env)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def status(home: Path, *extra: str, env: dict[str, str] | None = None) -> dict:
    return json.loads(run("status", "--home", home, "--json", *extra, env=env).stdout)


@pytest.fixture
def home(tmp_path) -> Path:
    """An instance on its own SQLite file, holding one credential."""
    home = tmp_path / "instance"
    out = run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example").stdout
    assert f"database: sqlite:///{home / 'badgesmith.sqlite3'} (the instance's SQLite file)" in out
    run("--home", home, "achievement", "add", COURSE_FILE)
    run("--home", home, "issue", COURSE, "--email", "ana@example.org")
    return home


def test_database_url_overrides_the_instance_and_db_overrides_both(home, db_url, tmp_path):
    env = {"DATABASE_URL": db_url}
    own = status(home)
    assert own["database"] == {"url": f"sqlite:///{home / 'badgesmith.sqlite3'}", "source": "default"}
    assert own["credentials"]["total"] == 1
    # The environment's database: migrated on first use, empty of credentials until one is issued there.
    other = status(home, env=env)
    assert other["database"] == {"url": masked_url(db_url), "source": "DATABASE_URL"}
    assert other["credentials"]["total"] == 0
    run("--home", home, "achievement", "add", COURSE_FILE, env=env)
    run("issue", COURSE, "--email", "bo@example.org", "--home", home, env=env)
    assert [r["recipient"] for r in json.loads(run("list", "--home", home, "--json", env=env).stdout)] == [None]
    assert status(home, env=env)["credentials"]["total"] == 1 and status(home)["credentials"]["total"] == 1
    # --db (before or after the subcommand) wins over the environment.
    third = f"sqlite:///{tmp_path / 'third.sqlite3'}"
    for args in (["--db", third, "status"], ["status", "--db", third]):
        data = json.loads(run("--home", home, "--json", *args, env=env).stdout)
        assert data["database"] == {"url": third, "source": "--db"} and data["credentials"]["total"] == 0
    text = run("status", "--home", home, env=env).stdout
    assert f"database:     {masked_url(db_url)} (from DATABASE_URL)" in text


def test_the_toml_url_is_used_unless_the_environment_names_another(tmp_path):
    home, chosen = tmp_path / "instance", f"sqlite:///{tmp_path / 'chosen.sqlite3'}"
    out = run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
              "--db", chosen).stdout
    assert f"database: {chosen} (from badgesmith.toml)" in out
    assert f'url = "{chosen}"' in (home / "badgesmith.toml").read_text()
    assert status(home)["database"] == {"url": chosen, "source": "badgesmith.toml"}
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    assert status(home, env={"DATABASE_URL": elsewhere})["database"] == {"url": elsewhere, "source": "DATABASE_URL"}


def test_init_under_database_url_creates_it_there_and_records_it(tmp_path):
    """The folder remembers its database however it was named, so a command run without the variable
    opens that database (or fails to reach it), never a fresh empty SQLite file beside it."""
    home, url = tmp_path / "instance", f"sqlite:///{tmp_path / 'deployed.sqlite3'}"
    out = run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
              env={"DATABASE_URL": url}).stdout
    assert f"database: {url} (from DATABASE_URL)" in out
    assert (tmp_path / "deployed.sqlite3").is_file() and not (home / "badgesmith.sqlite3").exists()
    assert f'url = "{url}"' in (home / "badgesmith.toml").read_text()
    assert status(home)["database"] == {"url": url, "source": "badgesmith.toml"}
    assert not (home / "badgesmith.sqlite3").exists()


def _with_password(postgres_url: str, database: str | None = None) -> str:
    scheme, _, rest = postgres_url.partition("://")
    user, _, host = rest.partition("@")
    if database:
        host = host.rsplit("/", 1)[0] + f"/{database}"
    return f"{scheme}://{user.split(':')[0]}:s3cret-pw@{host}"  # the server trusts 127.0.0.1: any password does


def _files_holding(folder: Path, secret: bytes) -> list[str]:
    return [str(path) for path in folder.rglob("*") if path.is_file() and secret in path.read_bytes()]


@pytest.mark.postgres
def test_a_password_in_the_url_is_never_printed_nor_written(postgres_url, tmp_path):
    url = _with_password(postgres_url)
    home = tmp_path / "instance"
    out = run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
              env={"DATABASE_URL": url})
    text = run("status", "--home", home, env={"DATABASE_URL": url})
    data = status(home, env={"DATABASE_URL": url})
    for output in (out.output, text.output, json.dumps(data)):
        assert "s3cret-pw" not in output and ":***@" in output
    assert _files_holding(home, b"s3cret-pw") == []
    assert status(home)["database"] == {"url": url.replace(":s3cret-pw", ""), "source": "badgesmith.toml"}
    # --db: recorded without the password, and a notice says where later commands find it.
    other = tmp_path / "other"
    done = run("--home", other, "init", "--name", "Other", "--url", "https://other.example", "--db", url,
               "--json")
    assert json.loads(done.stdout)["database"]["source"] == "badgesmith.toml"
    assert "s3cret-pw" not in done.output and "notice: badgesmith.toml records the database without its " \
        "password" in done.stderr
    assert _files_holding(other, b"s3cret-pw") == []


@pytest.mark.postgres
def test_association_init_records_the_shared_database_for_its_divisions_without_the_password(postgres_url,
                                                                                            tmp_path):
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "shared_lla"'))
    admin.dispose()
    url = _with_password(postgres_url, "shared_lla")
    lla, youth, remote = tmp_path / "lla", tmp_path / "youth", tmp_path / "remote"
    created = run("association", "init", "--name", "LLA", "--url", "https://lla.example", lla, "--json",
                  env={"DATABASE_URL": url})
    assert json.loads(created.stdout)["database"] == {"url": url.replace("s3cret-pw", "***"),
                                                      "source": "DATABASE_URL"}
    # A division named by the association's folder learns the shared database from its badgesmith.toml.
    run("--home", youth, "init", "--name", "Youth", "--url", "https://youth.lla.example", "--association", lla)
    # A division on another machine names the database itself (with its password) and a copy of the secret.
    run("--home", remote, "init", "--name", "Remote", "--url", "https://remote.lla.example", "--association", url,
        "--lookup-secret", lla / "keys" / "lookup.secret")
    shared = url.replace(":s3cret-pw", "")
    for home in (lla, youth, remote):
        assert status(home)["database"] == {"url": shared, "source": "badgesmith.toml"}
        assert _files_holding(home, b"s3cret-pw") == []
    refused = run("--home", tmp_path / "x", "init", "--name", "X", "--url", "https://x.example", "--association",
                  lla, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"}, code=2)
    assert refused.stderr.startswith("error [USAGE]: A division uses its association's database")


def test_masked_url_hides_the_password_wherever_libpq_takes_one():
    assert masked_url("postgresql://ce:s3cret@db.internal:5432/badges") == "postgresql://ce:***@db.internal:5432/badges"
    assert masked_url("postgresql://ce:p@ss@db/badges") == "postgresql://ce:***@db/badges"
    assert masked_url("postgresql://db/badges?user=ce&password=s3cret&sslmode=require") == \
        "postgresql://db/badges?user=ce&password=***&sslmode=require"
    for plain in ("postgresql://ce@db/badges", "sqlite:////srv/badges.sqlite3", "sqlite:///:memory:"):
        assert masked_url(plain) == plain == url_without_password(plain)


def test_url_without_password_drops_it_wherever_libpq_takes_one():
    assert url_without_password("postgresql://ce:s3cret@db.internal:5432/badges") == \
        "postgresql://ce@db.internal:5432/badges"
    assert url_without_password("postgresql://ce:p@ss@db/badges") == "postgresql://ce@db/badges"
    assert url_without_password("postgresql://db/badges?user=ce&password=s3cret&sslmode=require") == \
        "postgresql://db/badges?user=ce&sslmode=require"
    assert url_without_password("postgresql://db/badges?password=s3cret") == "postgresql://db/badges"


def test_a_database_url_that_is_not_one_is_refused_naming_the_variable(home):
    result = run("list", "--home", home, code=2, env={"DATABASE_URL": "mysql://ce:s3cret@db/badges"})
    assert result.stderr.startswith("error [CONFIG_INVALID]: DATABASE_URL: ") and len(result.stderr.splitlines()) == 1
    assert "s3cret" not in result.stderr and "ce:***@db" in result.stderr
    data = json.loads(run("--json", "list", "--home", home, code=2, env={"DATABASE_URL": "nonsense"}).stdout)
    assert data["code"] == "CONFIG_INVALID" and data["details"] == {"field": "DATABASE_URL"}


def test_the_web_app_takes_database_url_over_the_toml_too(tmp_path, monkeypatch):
    home, chosen = tmp_path / "instance", f"sqlite:///{tmp_path / 'served.sqlite3'}"
    run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
        "--db", f"sqlite:///{tmp_path / 'toml.sqlite3'}")
    monkeypatch.setenv("DATABASE_URL", chosen)
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off"})
    assert str(app.extensions["badgesmith"].issuer.registry.engine.url) == chosen
    monkeypatch.delenv("DATABASE_URL")
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off"})
    assert str(app.extensions["badgesmith"].issuer.registry.engine.url).endswith("toml.sqlite3")
