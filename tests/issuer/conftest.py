"""Fixtures for the issuing workflow: a real instance folder with a seeded key, opened on a real database.

``make_issuer`` initialises an instance in ``tmp_path`` (did:key, or did:web
when asked), adds the example achievements and opens its ``Issuer`` on the
given database URL with a fixed clock; ``issuer`` does that on ``db_url``, so
a test using it runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from issuer.instance.folder import init_instance
from issuer.awarding.issuing import Issuer
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.loader import offline_loader
from verifier.fetch import DocumentsDir, build_fetch, layered
from verifier.pipeline import verify_bytes

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
BASE_URL = "https://badges.lakeshore.example"
COURSE = "storytime-early-literacy"  # 1.5 CEUs, SVG art rendered
CERTIFICATION = "certified-youth-services-librarian"  # valid_for = "3y"


def _init_home(home: Path, *, did_web: str | None = None, seed: bytes = bytes(range(32))) -> Path:
    settings = init_instance(home, name="Lakeshore Library Association", url=BASE_URL,
                             email="ce@lakeshore.example", did_web=did_web)
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(seed))
    return home


@pytest.fixture
def init_home() -> Callable[..., Path]:
    """``init_home(home, did_web=None)``: an instance folder with a seeded key (what ``badgesmith init`` makes)."""
    return _init_home


@pytest.fixture
def now() -> datetime:
    """The fixed clock of these tests (the award date of a default issue)."""
    return NOW


@pytest.fixture
def make_issuer(tmp_path: Path) -> Iterator[Callable[..., Issuer]]:
    """``make_issuer(database_url=None, did_web=None, home=None)`` → an open Issuer with the examples added."""
    opened: list[Issuer] = []

    def make(database_url: str | None = None, *, did_web: str | None = None, home: Path | None = None,
             now: datetime = NOW) -> Issuer:
        home = home or tmp_path / "instance"
        if not (home / "badgesmith.toml").exists():
            _init_home(home, did_web=did_web)
        issuer = Issuer.open(home, database_url=database_url, now=lambda: now)
        opened.append(issuer)
        for example in sorted(EXAMPLES.glob("*.toml")):
            issuer.add_achievement(example, replace=True)  # reopened: again
        return issuer

    yield make
    for issuer in opened:
        issuer.close()


@pytest.fixture
def issuer(make_issuer: Callable[..., Issuer], db_url: str) -> Issuer:
    """A did:key issuer on the parametrised database (SQLite file, then PostgreSQL)."""
    return make_issuer(db_url)


def _verify_file(path: Path, issuer: Issuer, *, now: datetime = NOW, fetch=None, email: str | None = None):
    status = issuer.settings.out_dir / "status"
    fetch = layered(fetch, DocumentsDir(status)) if fetch else build_fetch(documents=status, offline=True)
    return verify_bytes(path.read_bytes(), loader=offline_loader(), fetch=fetch, now=now, email=email)


@pytest.fixture
def verify_file() -> Callable[..., object]:
    """``verify_file(path, issuer, now=, fetch=, email=)``: the pipeline's Report, as an employer gets it
    offline with the instance's ``out/status`` folder (``fetch`` is consulted first when given)."""
    return _verify_file
