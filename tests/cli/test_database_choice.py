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
from issuer.instance.database import masked_url

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


def test_init_under_database_url_uses_it_without_writing_it_to_the_toml(tmp_path):
    home, url = tmp_path / "instance", f"sqlite:///{tmp_path / 'deployed.sqlite3'}"
    out = run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
              env={"DATABASE_URL": url}).stdout
    assert f"database: {url} (from DATABASE_URL)" in out
    assert (tmp_path / "deployed.sqlite3").is_file() and not (home / "badgesmith.sqlite3").exists()
    assert "deployed" not in (home / "badgesmith.toml").read_text()
    assert status(home, env={"DATABASE_URL": url})["name"] == "Lakeshore"


@pytest.mark.postgres
def test_a_password_in_the_url_is_never_printed(postgres_url, tmp_path):
    user, _, rest = postgres_url.partition("://")[2].partition("@")
    with_password = f"{postgres_url.partition('://')[0]}://{user.split(':')[0]}:s3cret-pw@{rest}"  # trust auth
    home = tmp_path / "instance"
    out = run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
              env={"DATABASE_URL": with_password})
    text = run("status", "--home", home, env={"DATABASE_URL": with_password})
    data = status(home, env={"DATABASE_URL": with_password})
    for output in (out.output, text.output, json.dumps(data)):
        assert "s3cret-pw" not in output and ":***@" in output


def test_masked_url_hides_the_password_wherever_libpq_takes_one():
    assert masked_url("postgresql://ce:s3cret@db.internal:5432/badges") == "postgresql://ce:***@db.internal:5432/badges"
    assert masked_url("postgresql://ce:p@ss@db/badges") == "postgresql://ce:***@db/badges"
    assert masked_url("postgresql://db/badges?user=ce&password=s3cret&sslmode=require") == \
        "postgresql://db/badges?user=ce&password=***&sslmode=require"
    for plain in ("postgresql://ce@db/badges", "sqlite:////srv/badges.sqlite3", "sqlite:///:memory:"):
        assert masked_url(plain) == plain


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
