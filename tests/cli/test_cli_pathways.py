"""cli: ``pathway add|list|show|audit`` and ``progress``, as a coordinator types them (strict, --debug)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
ACHIEVEMENTS = ROOT / "templates" / "achievements"
PATHWAYS = ROOT / "templates" / "pathways"
ERROR_LINE = re.compile(r"^error \[([A-Z_]+)\]: \S.*$")


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, *args, code: int = 0):
        result = CliRunner().invoke(main, ["--debug", "--home", str(self.home), *map(str, args)],
                                    catch_exceptions=False)
        assert result.exit_code == code, result.output
        if code == 2:
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and ERROR_LINE.match(lines[0]), result.stderr
        return result

    def json(self, *args):
        return json.loads(self(*args).stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "instance")
    cli("init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    course = tmp_path / "ceu-course.toml"  # a series: given twice to one learner below
    course.write_text("repeatable = true\n" + (ACHIEVEMENTS / "ceu-course.toml").read_text("utf-8"), "utf-8")
    for toml in [course, ACHIEVEMENTS / "micro-credential.toml", *sorted((PATHWAYS / "achievements").glob("*.toml"))]:
        cli("achievement", "add", toml)
    return cli


def test_pathway_add_list_show_and_a_bad_file(cli, tmp_path):
    out = cli("pathway", "add", PATHWAYS / "youth-services.toml").stdout
    assert out.startswith("Added pathway youth-services: Youth Services Certificate -> awards "
                          "youth-services-certificate")
    assert [p["id"] for p in cli.json("pathway", "list", "--json")] == ["youth-services"]
    shown = cli.json("pathway", "show", "youth-services", "--json")
    assert shown["requirements"]["items"][-1] == {"kind": "credits", "min": 10.0, "tags": ["youth-services"],
                                                  "field_of_study": None, "within": "2y"}
    assert "10 CEUs tagged youth-services within 2 years" in cli("pathway", "show", "youth-services").stdout
    assert "PATHWAY_NOT_FOUND" in cli("pathway", "show", "nope", code=2).stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "bad"\nname = "Bad"\nawards = "youth-services-certificate"\n'
                   '[requirements]\ncredits = { min = 10, within = "soon" }\n', "utf-8")
    error = cli("pathway", "add", bad, code=2).stderr
    assert error.startswith("error [PATHWAY_INVALID]: bad.toml, line 5: within:")


def test_progress_issue_award_and_audit_through_the_cli(cli):
    cli("pathway", "add", PATHWAYS / "youth-services.toml")
    email = "ana@example.org"
    for slug, day in [("storytime-early-literacy", "2026-09-01"), ("storytime-early-literacy", "2026-10-01"),
                      ("inclusive-teen-programming", "2026-10-05"), ("family-engagement", "2026-10-06")]:
        cli("issue", slug, "--email", email, "--name", "Ana Lima", "--date", day)
    before = cli.json("progress", "--email", email, "--json")
    assert before["pathways"][0]["left"] == ["Early Literacy Programming",
                                             "1 more CEU tagged youth-services (earned within 2 years)"]
    assert "left: Early Literacy Programming" in cli("progress", "--email", email).stdout
    issued = cli.json("issue", "early-literacy-programming", "--email", email, "--date", "2026-11-01", "--json")
    (award,) = issued["pathway_awards"]
    assert award["achievement"] == "youth-services-certificate" and award["created"]
    after = cli.json("progress", "--email", email, "--json")["pathways"][0]
    assert after["awarded"] and after["award_credential"] == award["id"] and after["left"] == []
    assert cli.json("pathway", "audit", "--json") == []
    component = before["pathways"][0]["done"][0]["id"]
    cli("revoke", component, "--reason", "issued in error")
    (finding,) = cli.json("pathway", "audit", "--json")
    assert finding["credential_id"] == award["id"] and finding["withdrawn"] == [component]
    assert "1 award(s) to review" in cli("pathway", "audit").stdout
    assert "LEARNER_NOT_FOUND" in cli("progress", "--email", "nobody@example.org", code=2).stderr


def test_pathway_award_catches_up_people_who_completed_it_before_it_was_defined(cli):
    for email, name in [("ana@example.org", "Ana Lima"), ("bo@example.org", "Bo Chen")]:
        slugs = ["storytime-early-literacy", "storytime-early-literacy", "inclusive-teen-programming",
                 "family-engagement"] + (["early-literacy-programming"] if email.startswith("ana") else [])
        for n, slug in enumerate(slugs):
            cli("issue", slug, "--email", email, "--name", name, "--date", f"2026-10-0{n + 1}")
    cli("pathway", "add", PATHWAYS / "youth-services.toml")  # defined after Ana finished
    dry = cli.json("pathway", "award", "--dry-run", "--json")
    assert dry == {"due": [{"pathway": "youth-services", "pathway_name": "Youth Services Certificate",
                            "email": "ana@example.org", "name": "Ana Lima", "completed_on": "2026-10-05"}],
                   "issued": []}
    table = cli("pathway", "award", "--dry-run").stdout.splitlines()
    assert [line.split() for line in table[:2]] == [["COMPLETED", "PATHWAY", "NAME", "EMAIL"],
                                                    ["2026-10-05", "youth-services", "Ana", "Lima", "ana@example.org"]]
    assert table[2] == "1 completed pathway(s) would be awarded (dry run: nothing issued)."
    assert cli.json("progress", "--email", "ana@example.org", "--json")["pathways"][0]["awarded"] is False
    done = cli.json("pathway", "award", "--json")
    (credential_id,) = done["issued"]
    listed = [c for c in cli.json("list", "--json") if c["id"] == credential_id]
    assert listed[0]["achievement"] == "youth-services-certificate" and listed[0]["issued_on"] == "2026-10-05"
    assert cli.json("progress", "--email", "ana@example.org", "--json")["pathways"][0]["awarded"] is True
    again = cli("pathway", "award").stdout  # once each: nothing left to award
    assert again.splitlines() == ["COMPLETED  PATHWAY  NAME  EMAIL",  # the header row, as every table has
                                  "0 completed pathway(s) awarded: 0 credential(s) issued."]
