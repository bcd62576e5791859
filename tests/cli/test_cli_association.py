"""cli: ``badgesmith association init|learner-link|transcript|pathway`` and ``badgesmith init --association``,
through click's CliRunner (``--debug``, ``catch_exceptions=False``; a user mistake is one ``error [CODE]``
line on stderr, exit 2)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
ERROR_LINE = re.compile(r"^error \[([A-Z][A-Z0-9_]+)\]: \S.*$")
JANE = "jane@example.org"
LEADERSHIP = '''id = "leadership-certificate"
name = "Association Leadership Certificate"
achievement_type = "Certificate"
description = "A course from each of two divisions."
criteria = "Awarded on completing the Leadership pathway."
'''


def invoke(*args, code: int = 0):
    result = CliRunner().invoke(main, ["--debug", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    if code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and ERROR_LINE.match(lines[0]) and "Traceback" not in result.output, result.stderr
    return result


@pytest.fixture
def homes(tmp_path):
    association = tmp_path / "association"
    result = invoke("association", "init", "--name", "Lakeshore Library Association", "--url",
                    "https://lla.example", association)
    assert "Created the association Lakeshore Library Association" in result.stdout
    for name, url, achievement in (("youth", "https://youth.lla.example", "ceu-course.toml"),
                                   ("academic", "https://academic.lla.example", "micro-credential.toml")):
        invoke("--home", tmp_path / name, "init", "--name", f"{name.title()} Division", "--url", url,
               "--association", association)
        invoke("--home", tmp_path / name, "achievement", "add", ROOT / "templates" / "achievements" / achievement)
    return tmp_path


def test_divisions_issue_and_the_association_gives_one_record_and_transcript(homes, tmp_path):
    invoke("--home", homes / "youth", "issue", "storytime-early-literacy", "--email", JANE, "--name", "Jane Doe",
           "--date", "2026-01-15")
    invoke("--home", homes / "academic", "issue", "inclusive-teen-programming", "--email", "JANE@example.org",
           "--name", "Jane Doe", "--date", "2026-02-15")
    link = json.loads(invoke("--home", homes / "association", "association", "learner-link", "--email", JANE,
                             "--json").stdout)
    assert link["url"].startswith("https://lla.example/learners/") and link["token"] in link["url"]
    listed = json.loads(invoke("--home", homes / "association", "learner-link", "--email", JANE, "--list",
                               "--json").stdout)
    assert [row["id"] for row in listed] == [link["id"]]
    invoke("--home", homes / "association", "learner-link", "--email", JANE, "--revoke", link["token"])
    out = tmp_path / "jane.json"
    result = invoke("--home", homes / "association", "association", "transcript", "--email", JANE, "-o", out)
    assert "2 credential(s) from 2 division(s), 5.5 CEUs" in result.stdout
    document = json.loads(out.read_text("utf-8"))
    assert document["type"] == ["VerifiableCredential", "ClrCredential"]
    assert len({c["issuer"]["id"] for c in document["credentialSubject"]["verifiableCredential"]}) == 2
    assert all(c["issuer"]["parentOrg"]["id"] == document["issuer"]["id"]
               for c in document["credentialSubject"]["verifiableCredential"])


def test_an_association_pathway_is_added_and_awarded_once_from_the_command_line(homes, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "leadership.toml").write_text(LEADERSHIP, "utf-8")
    (files / "pathway.toml").write_text(
        'id = "leadership"\nname = "Leadership"\nawards = "leadership-certificate"\n[requirements]\nall = [\n'
        '  "https://youth.lla.example/achievements/storytime-early-literacy",\n'
        '  "https://academic.lla.example/achievements/inclusive-teen-programming",\n]\n', "utf-8")
    invoke("--home", homes / "association", "achievement", "add", files / "leadership.toml")
    invoke("--home", homes / "association", "association", "pathway", "add", files / "pathway.toml")
    invoke("--home", homes / "youth", "issue", "storytime-early-literacy", "--email", JANE, "--date", "2026-01-15")
    invoke("--home", homes / "academic", "issue", "inclusive-teen-programming", "--email", JANE,
           "--date", "2026-02-15")
    first = json.loads(invoke("--home", homes / "association", "association", "pathway", "award", "--json").stdout)
    assert [row["achievement"] for row in first] == ["leadership-certificate"]
    again = invoke("--home", homes / "association", "association", "pathway", "award")
    assert "0 association pathway award(s) issued." in again.stdout


def test_a_division_started_with_another_division_key_is_refused(homes):
    shutil.copy(homes / "youth" / "keys" / "key-1.pem", homes / "academic" / "keys" / "key-1.pem")
    result = invoke("--home", homes / "academic", "issue", "inclusive-teen-programming", "--email", JANE, code=2)
    assert "[KEY_OF_ANOTHER_ISSUER]" in result.stderr and "Youth Division" in result.stderr


def test_association_mistakes_are_one_error_line(homes, tmp_path):
    invoke("--home", tmp_path / "x", "init", "--name", "X", "--url", "https://x.example", "--association",
           homes / "youth", code=2)
    invoke("--home", homes / "youth", "association", "learner-link", "--email", JANE, code=2)
    invoke("--home", homes / "association", "association", "learner-link", "--email", "nobody@example.org", code=2)
    invoke("--home", tmp_path / "y", "init", "--name", "Y", "--url", "https://y.example", "--association",
           "sqlite:///" + str(homes / "association" / "badgesmith.sqlite3"), code=2)
