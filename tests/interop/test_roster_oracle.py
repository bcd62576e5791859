"""A 200-row roster issued with the CLI, end to end: refused whole while it has bad rows, issued with
--skip-invalid, and every baked PNG verifies both in Badgesmith's pipeline and in the Digital Bazaar
oracle against the instance's out/status folder; revoking, suspending and reinstating flip both.

The oracle starts node once per call (about half a second), so the 196 badges go through one
``oracle.verify_many`` call.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from schemas.loader import offline_loader
from verifier.fetch import build_fetch
from verifier.pipeline import verify_bytes

ROOT = Path(__file__).resolve().parents[2]
COURSE_TOML = ROOT / "templates" / "achievements" / "ceu-course.toml"
COURSE = "storytime-early-literacy"
BAD_LINES = (10, 50, 90, 130)

def _roster(rows: int, *, bad: bool) -> str:
    lines = ["email,name,credits,date"]
    for i in range(rows):
        line, email, credits, day = i + 2, f"learner{i}@example.org", "1.5", "2026-10-01"
        if bad and line == 10:
            email = "learner-at-example.org"
        elif bad and line == 50:
            credits = "2"
        elif bad and line == 90:
            day = "2099-12-25"  # the CLI judges dates by the real clock
        elif bad and line == 130:
            email = "learner0@example.org"
        lines.append(f"{email},Learner {i},{credits},{day}")
    return "\n".join(lines) + "\n"


class Instance:
    """A Badgesmith instance driven through the CLI, as a coordinator would (on the real clock, like the CLI)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.status = home / "out" / "status"

    def run(self, *args: str, code: int = 0):
        result = CliRunner().invoke(main, ["--debug", "--home", str(self.home), *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    def verify(self, path: Path):
        """The pipeline exactly as ``badgesmith verify --documents out/status --offline`` runs it."""
        return verify_bytes(path.read_bytes(), loader=offline_loader(),
                            fetch=build_fetch(documents=self.status, offline=True), now=datetime.now(timezone.utc))


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    instance = Instance(tmp_path / "instance")
    instance.run("init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    instance.run("achievement", "add", str(COURSE_TOML))
    return instance


def test_roster_of_200_verifies_in_the_pipeline_and_the_oracle_and_revocation_shows_in_both(
        instance, oracle, tmp_path):
    roster = tmp_path / "attendees.csv"
    roster.write_text(_roster(200, bad=True), "utf-8")

    refused = instance.run("issue", COURSE, "--roster", str(roster), code=2)
    first, *rows = refused.stderr.splitlines()  # one error line, then one line per bad row with its reason
    assert first.startswith("error [ROSTER_INVALID]: ") and len(rows) == 4
    assert all(row.startswith("  line ") for row in rows)
    assert "(line 10, 50, 90, 130)" in refused.stderr
    assert not (instance.home / "out" / COURSE).exists()

    issued = json.loads(instance.run("issue", COURSE, "--roster", str(roster), "--skip-invalid", "--json").stdout)
    assert issued["created"] == 196 and issued["existing"] == 0
    assert [s.split(",")[0] for s in issued["skipped"]] == [f"line {n}" for n in BAD_LINES]
    badges = [Path(c["files"][0]) for c in issued["credentials"]]
    assert len(badges) == 196 and all(b.suffix == ".png" and not b.name.endswith("-qr.png") for b in badges)

    failed = {b.name: [(c.check, c.message) for c in r.failures()] for b in badges
              if not (r := instance.verify(b)).verified}
    assert failed == {}
    judged = oracle.verify_many(badges, status_dir=instance.status, require_status=True)
    assert len(judged) == 196
    assert {p.name: r["errors"] for p, r in judged.items() if not r["verified"]} == {}

    revoked = issued["credentials"][17]
    instance.run("revoke", revoked["id"], "--reason", "Did not attend the whole webinar")
    png = Path(revoked["files"][0])
    report = instance.verify(png)
    assert not report.verified and report.check("status").code == "REVOKED"
    verdict = oracle.verify(png, status_dir=instance.status, require_status=True)
    assert not verdict["verified"] and "revoked" in " ".join(verdict["errors"])
    neighbour = Path(issued["credentials"][18]["files"][0])
    assert instance.verify(neighbour).verified
    assert oracle.verify(neighbour, status_dir=instance.status, require_status=True)["verified"]


def test_suspendable_roster_suspend_and_reinstate_flip_the_oracle_and_the_status_check(instance, oracle, tmp_path):
    roster = tmp_path / "suspendable.csv"
    roster.write_text(_roster(3, bad=False), "utf-8")
    issued = json.loads(instance.run("issue", COURSE, "--roster", str(roster), "--suspendable", "--json").stdout)
    png = Path(issued["credentials"][1]["files"][0])

    def oracle_verdict():
        return oracle.verify(png, status_dir=instance.status, require_status=True)

    assert oracle_verdict()["verified"]
    assert instance.verify(png).check("status").outcome == "passed"
    instance.run("suspend", issued["credentials"][1]["id"], "--reason", "Under review")
    verdict = oracle_verdict()
    assert not verdict["verified"] and "suspended" in " ".join(verdict["errors"])
    assert instance.verify(png).check("status").code == "SUSPENDED"
    instance.run("reinstate", issued["credentials"][1]["id"])
    assert oracle_verdict()["verified"]
    report = instance.verify(png)
    assert report.check("status").outcome == "passed"
    # `verified` itself also needs the verifier to accept two status entries: see
    # tests/issuer/awarding/test_awarding.py::test_suspendable_credential_verifies_before_suspension_and_after_reinstatement
    assert [c.check for c in report.checks if c.outcome == "failed"] in ([], ["schema"])
