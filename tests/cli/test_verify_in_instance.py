"""``badgesmith verify`` inside an instance, and status lists that cannot be fetched (issue 16).

With ``--home`` or ``BADGESMITH_HOME`` naming an instance, its own status lists and DID document
come from its database, so staff can check a badge they just issued before the site is live (the
site's host does not even resolve here; ``--offline`` makes sure nothing is fetched). Elsewhere a
status list that cannot be fetched gets a hint naming ``--documents`` and
``--allow-unreachable-status``; in a transcript it is reported once, not per credential and check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
COURSE = "storytime-early-literacy"
HINT = "hint: a status list could not be fetched"


def run(*args, code: int = 0, home: Path | None = None):
    env = {"BADGESMITH_HOME": str(home) if home else None, "DATABASE_URL": None}
    result = CliRunner().invoke(main, ["--debug", *map(str, args)], catch_exceptions=False, env=env)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def _instance(folder: Path, *init: str) -> tuple[Path, dict]:
    home = folder / "instance"
    run("--home", home, "init", "--name", "Lakeshore Library Association", "--url",
        "https://badges.lakeshore.example", *init)
    run("--home", home, "achievement", "add", EXAMPLES / "ceu-course.toml", EXAMPLES / "micro-credential.toml",
        EXAMPLES / "attendance.toml")
    issued = json.loads(run("--home", home, "issue", COURSE, "--email", "jane@example.org", "--name", "Jane Doe",
                            "--json").stdout)
    return home, issued


def _json_file(issued: dict) -> str:
    return next(path for path in issued["files"] if path.endswith(".json"))


def test_a_badge_just_issued_verifies_inside_its_instance_before_the_site_is_live(tmp_path):
    home, issued = _instance(tmp_path)
    badge = _json_file(issued)
    outside = run("verify", badge, "--offline", "--json", code=1)
    assert json.loads(outside.stdout)["checks"][6]["code"] == "STATUS_UNREACHABLE"
    assert HINT in outside.stderr and "--documents" in outside.stderr
    assert "--allow-unreachable-status" in outside.stderr
    for inside in (run("--home", home, "verify", badge, "--offline", "--json"),
                   run("verify", badge, "--offline", "--json", "--home", home),
                   run("verify", badge, "--offline", "--json", home=home)):  # BADGESMITH_HOME
        report = json.loads(inside.stdout)
        assert report["verified"] is True and HINT not in inside.stderr
        assert [c["code"] for c in report["checks"] if c["check"] == "status"] == ["STATUS_OK"]
    # A revocation shows at once, from the instance's database.
    run("--home", home, "revoke", issued["id"], "--reason", "issued in error")
    revoked = run("verify", badge, "--offline", home=home, code=1)
    assert revoked.stdout.startswith("Not verified: The issuer has revoked this credential.")
    # Allowed, an unreachable list is a warning and needs no hint.
    allowed = run("verify", badge, "--offline", "--allow-unreachable-status")
    assert HINT not in allowed.stderr and "(allowed by your settings)" in allowed.stdout


def test_a_did_web_issuers_document_comes_from_its_instance(tmp_path):
    home, issued = _instance(tmp_path, "--did-web", "badges.lakeshore.example")
    badge = _json_file(issued)
    report = json.loads(run("verify", badge, "--offline", "--json", home=home).stdout)
    assert report["verified"] is True
    assert [c["outcome"] for c in report["checks"] if c["check"] == "proof"] == ["passed"]
    outside = json.loads(run("verify", badge, "--offline", "--json", code=1).stdout)
    assert [c["outcome"] for c in outside["checks"] if c["check"] == "proof"] == ["failed"]


def test_a_verifier_only_home_is_no_instance_and_verify_still_works(tmp_path):
    _, issued = _instance(tmp_path)
    site = tmp_path / "verifier-site"
    site.mkdir()
    (site / "badgesmith.toml").write_text('[web]\nrate_limit = "60/minute"\n')
    result = run("verify", _json_file(issued), "--offline", home=site, code=1)
    assert "error [" not in result.stderr and HINT in result.stderr  # verified (exit 1), not refused (2)


@pytest.fixture
def transcript(tmp_path) -> Path:
    home, _ = _instance(tmp_path)
    for slug in ("inclusive-teen-programming", "annual-conference-2025"):
        run("--home", home, "issue", slug, "--email", "jane@example.org", "--name", "Jane Doe")
    out = tmp_path / "transcript.json"
    run("--home", home, "transcript", "--email", "jane@example.org", "-o", out)
    return out


def test_a_transcript_reports_each_unreachable_list_once(transcript):
    report = json.loads(run("verify", transcript, "--offline", "--json", code=1).stdout)
    assert len(report["embedded"]) == 3
    assert all(e["checks"][6]["code"] == "STATUS_UNREACHABLE" for e in report["embedded"])
    about_lists = [w for w in report["warnings"] if "status list" in w]
    assert len(about_lists) == 1 and about_lists[0].startswith("For 3 embedded credentials (")
    text = run("verify", transcript, "--offline", code=1)
    full = "The status list could not be fetched (Badgesmith is offline and"
    assert text.stdout.count(full) == 1, text.stdout
    # After that: each embedded credential's verdict and status check, and the one warning, refer back to it.
    assert text.stdout.count("The status list could not be fetched (the same failure as above).") == 3 + 3 + 1
    assert text.stderr.count(HINT) == 1
