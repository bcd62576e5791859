"""`badgesmith endorse`: EndorsementCredentials from a TOML file (issue 17).

The file is checked like an achievement file; the credential is signed with the instance's key,
self-checked, verifies on its own, and lands in out/endorsements/. An endorsement of one of the
instance's own achievements is shown on that achievement's page and listed in its JSON-LD.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import create_app
from tests.cli.test_cli import Cli, assert_one_error_line

ROOT = Path(__file__).resolve().parents[3]
COURSE = "storytime-early-literacy"
BASE = "https://badges.lakeshore.example"
OTHER = "https://badges.other.example/achievements/storytime"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "instance")
    cli("init", "--name", "Lakeshore Library Association", "--url", BASE)
    cli("achievement", "add", ROOT / "templates" / "achievements" / "ceu-course.toml")
    return cli


def _file(tmp_path: Path, text: str, name: str = "endorsement.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_endorsing_another_issuers_achievement_writes_a_credential_that_verifies(cli, tmp_path):
    path = _file(tmp_path, f'id = "ala-storytime"\nendorses = "{OTHER}"\ncomment = "Meets our standard."\n'
                           'valid_for = "3y"\n')
    done = cli.json("endorse", path, "--json")
    assert done["achievement"] is None and done["file"].endswith("out/endorsements/ala-storytime.json")
    credential = json.loads(Path(done["file"]).read_text())
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert credential["id"] == done["id"] and credential["name"] == \
        "Lakeshore Library Association endorses this achievement"
    assert credential["credentialSubject"] == {"id": OTHER, "type": ["EndorsementSubject"],
                                               "endorsementComment": "Meets our standard."}
    assert credential["issuer"]["name"] == "Lakeshore Library Association" and "validUntil" in credential
    report = cli.json("verify", done["file"], "--json", "--offline")
    assert report["verified"] and report["format"] == "di-eddsa-rdfc-2022"
    assert [c["code"] for c in report["checks"] if c["check"] == "schema"] == ["SCHEMA_OK"]


def test_a_profile_may_be_endorsed_by_its_did_and_as_a_vc_jwt(cli, tmp_path):
    path = _file(tmp_path, 'id = "partner"\nendorses = "did:web:partner.example"\nendorses_type = "profile"\n')
    done = cli.json("endorse", path, "--format", "jwt", "--json")
    assert done["file"].endswith("partner.jwt")
    report = cli.json("verify", done["file"], "--json", "--offline")
    assert report["verified"] and report["format"] == "vc-jwt"
    assert report["credential"]["name"] == "Lakeshore Library Association endorses this issuer"


def test_an_endorsement_of_our_own_achievement_is_shown_on_its_page(cli, tmp_path):
    path = _file(tmp_path, f'id = "committee"\nendorses = "{BASE}/achievements/{COURSE}"\n'
                           'name = "CE committee review"\ncomment = "Reviewed by the CE committee."\n')
    done = cli.json("endorse", path, "--json")
    assert done["achievement"] == COURSE
    cli("achievement", "add", ROOT / "templates" / "achievements" / "ceu-course.toml", "--replace")  # keeps it
    client = create_app({"HOME": str(cli.home), "TESTING": True}).test_client()
    page = client.get(f"/achievements/{COURSE}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Endorsements" in page and "Reviewed by the CE committee." in page and done["id"] in page
    document = client.get(f"/achievements/{COURSE}", headers={"Accept": "application/ld+json"}).get_json()
    assert [e["id"] for e in document["endorsement"]] == [done["id"]]


def test_endorsing_again_replaces_the_stored_endorsement(cli, tmp_path):
    path = _file(tmp_path, f'id = "committee"\nendorses = "{BASE}/achievements/{COURSE}"\n')
    cli.json("endorse", path, "--json")
    second = cli.json("endorse", path, "--json")
    from issuer.awarding.issuing import Issuer
    issuer = Issuer.open(cli.home)
    try:
        stored = issuer.achievement(COURSE)["endorsements"]
    finally:
        issuer.close()
    assert list(stored) == ["committee"] and json.loads(stored["committee"])["id"] == second["id"]


def test_an_unknown_achievement_of_ours_is_refused_before_signing(cli, tmp_path):
    path = _file(tmp_path, f'id = "x"\nendorses = "{BASE}/achievements/nope"\n')
    result = cli("endorse", path, code=2)
    assert_one_error_line(result, "ACHIEVEMENT_NOT_FOUND")
    assert not (cli.home / "out" / "endorsements").exists()


@pytest.mark.parametrize("text, field", [
    ('id = "x"\nendorses = "https://o.example/a"\nendorse_type = "profile"\n', "endorse_type"),
    ('id = "x"\nendorses = "ftp://o.example/a"\n', "endorses"),
    ('id = "x"\nendorses = "https://o.example/a"\nendorses_type = "course"\n', "endorses_type"),
    ('id = "Not A Slug"\nendorses = "https://o.example/a"\n', "id"),
    ('id = "x"\n', "endorses"),
    ('id = "x"\nendorses = "https://o.example/a"\nvalid_for = "forever"\n', "valid_for"),
])
def test_a_bad_endorsement_file_names_the_field_and_line(cli, tmp_path, text, field):
    result = cli("endorse", _file(tmp_path, text), code=2)
    assert_one_error_line(result, "ENDORSEMENT_INVALID")
    assert field in result.stderr and "endorsement.toml" in result.stderr


def test_a_typo_gets_a_did_you_mean(cli, tmp_path):
    result = cli("endorse", _file(tmp_path, 'id = "x"\nendorses = "https://o.example/a"\ncoment = "hi"\n'), code=2)
    assert "did you mean 'comment'?" in result.stderr and "line 3" in result.stderr
