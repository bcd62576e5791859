"""cli: ``badgesmith transcript`` and ``badgesmith learner-link``, through click's CliRunner.

Like tests/cli/test_cli.py: ``--debug`` with ``catch_exceptions=False``, and a
user mistake is exactly one ``error [CODE]: sentence`` line on stderr, exit 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
COURSE = "storytime-early-literacy"
ERROR_LINE = re.compile(r"^error \[([A-Z][A-Z0-9_]+)\]: \S.*$")


@pytest.fixture
def run(tmp_path):
    home = tmp_path / "instance"

    def invoke(*args, code: int = 0):
        result = CliRunner().invoke(main, ["--debug", "--home", str(home), *map(str, args)], catch_exceptions=False)
        assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        if code == 2:
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and ERROR_LINE.match(lines[0]) and "Traceback" not in result.output, result.stderr
        return result

    invoke("init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    invoke("achievement", "add", ROOT / "templates" / "achievements" / "ceu-course.toml")
    invoke("issue", COURSE, "--email", "jane@example.org", "--name", "Jane Doe", "--date", "2026-01-15")
    invoke.home = home
    return invoke


def test_transcript_writes_a_signed_clr_that_badgesmith_verify_accepts(run, tmp_path):
    out = tmp_path / "jane.json"
    result = run("transcript", "--email", "jane@example.org", "-o", out)
    assert "1 credential(s), 1.5 CEUs" in result.stdout and "2026: 1.5 CEUs" in result.stdout
    document = json.loads(out.read_text("utf-8"))
    assert document["type"] == ["VerifiableCredential", "ClrCredential"]
    status = run.home / "out" / "status"
    verified = run("verify", out, "--offline", "--documents", status, "--json")
    assert len(json.loads(verified.stdout)["embedded"]) == 1


def test_transcript_html_and_json_summary(run, tmp_path):
    out = tmp_path / "jane.html"
    summary = json.loads(run("transcript", "--email", "jane@example.org", "-o", out, "--format", "html",
                             "--since", "2026-01-01", "--json").stdout)
    assert summary["credentials"] == 1 and summary["ceus_by_year"] == {"2026": 1.5}
    assert "Storytime for Early Literacy" in out.read_text("utf-8")


def test_transcript_for_an_unknown_address_writes_nothing(run, tmp_path):
    out = tmp_path / "nobody.json"
    result = run("transcript", "--email", "nobody@example.org", "-o", out, code=2)
    assert ERROR_LINE.match(result.stderr.strip()).group(1) == "LEARNER_NOT_FOUND"
    assert not out.exists()
    out.write_text("the previous transcript")
    run("transcript", "--email", "jane@example.org", "--since", "2030-01-01", "-o", out, code=2)
    assert out.read_text() == "the previous transcript"  # untouched: nothing half-written
    assert list(tmp_path.glob(".nobody.json.*")) == []


def test_transcript_into_a_missing_folder_is_a_usage_error(run, tmp_path):
    run("transcript", "--email", "jane@example.org", "-o", tmp_path / "no" / "such" / "t.json", code=2)


def test_learner_link_create_list_revoke(run):
    created = json.loads(run("learner-link", "--email", "jane@example.org", "--json").stdout)
    assert created["url"] == f"https://badges.lakeshore.example/learners/{created['token']}"
    text = run("learner-link", "--email", "jane@example.org").stdout
    assert "/learners/" in text and "--revoke" in text
    listed = json.loads(run("learner-link", "--email", "jane@example.org", "--list", "--json").stdout)
    assert [link["revoked"] for link in listed] == [None, None]
    assert "token" not in listed[0]
    revoked = json.loads(run("learner-link", "--email", "jane@example.org", "--revoke", created["url"],
                             "--json").stdout)
    assert revoked["id"] == created["id"] and revoked["revoked"]
    run("learner-link", "--email", "jane@example.org", "--revoke", "no-such-token", code=2)
    run("learner-link", "--email", "nobody@example.org", code=2)
    run("learner-link", "--email", "jane@example.org", "--list", "--revoke", "1", code=2)
