"""issuer.association.report: the CE office's report across three divisions on one database (a SQLite file,
then a throwaway PostgreSQL cluster): every grouping, the period, revoked and superseded credentials left out,
CSV a spreadsheet cannot run, and the command ``badgesmith association report``."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner

from cli import main
from errors import Code, InputError
from issuer.association.report import association_report, report_csv
from issuer.awarding.awards import issue_roster, issue_single
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.status_changes import change_status
from issuer.records.reports import NO_ORGANIZATION

from .three_divisions import build_association

SINCE, UNTIL = date(2026, 1, 1), date(2026, 11, 23)
FORMULA = "=cmd|calc!A0"  # what a spreadsheet would run, given as an organisation


def _populate(divisions, tmp_path):
    youth, academic, support = divisions.all

    def give(issuer, slug, email, day, organization=None, name=None):
        return issue_single(issuer, slug, IssueRequest(email=email, name=name, date=day, organization=organization))

    # Ana (Lakeshore PL) earns from all three divisions: 1.5 + 2 + 3 CEUs.
    give(youth, "storytime-early-literacy", "ana@example.org", date(2026, 9, 1), "Lakeshore PL", "Ana Lima")
    give(academic, "information-literacy-instruction", "ANA@example.org", date(2026, 10, 1), "Lakeshore PL", "Ana Lima")
    give(support, "support-staff-foundations", "ana@example.org", date(2026, 10, 15), "Lakeshore PL", "Ana Lima")
    # Bo (Riverside PL) completes the Academic Starter pathway: 2 + 1 CEUs and the certificate (awarded by the division).
    give(academic, "information-literacy-instruction", "bo@example.org", date(2026, 10, 2), "Riverside PL", "Bo")
    awarded = give(academic, "cataloging-basics", "bo@example.org", date(2026, 11, 1), "Riverside PL", "Bo")
    assert [p.record.achievement for p in awarded.pathways] == ["academic-starter-certificate"]
    # Cy's course is revoked: not counted anywhere.
    revoked = give(youth, "storytime-early-literacy", "cy@example.org", date(2026, 10, 1), "Lakeshore PL", "Cy")
    change_status(youth, revoked.record.id, "revoke", reason="no-show")
    # Di's certificate was corrected (credits 2 -> 3): the superseded one is not counted, the correction is.
    roster = tmp_path / "lssc.csv"
    roster.write_text(f"email,name,credits,date,organization\ndi@example.org,Di,2,2026-11-20,{FORMULA}\n")
    issue_roster(support, "support-staff-foundations", roster)
    roster.write_text(f"email,name,credits,date,organization\ndi@example.org,Di,3,2026-11-20,{FORMULA}\n")
    assert issue_roster(support, "support-staff-foundations", roster, correct=True).corrected == 1
    # Ed's course is before the period.
    give(youth, "storytime-early-literacy", "ed@example.org", date(2025, 12, 1), None, "Ed")
    return divisions


@pytest.fixture
def association(tmp_path, db_url):
    divisions = _populate(build_association(tmp_path, db_url), tmp_path)
    yield divisions.association
    divisions.close()


def _rows(report):
    return {r.key: (r.learners, r.completions, r.ceus, r.pathway_completions) for r in report.rows}


def test_by_division_counts_every_division_and_leaves_out_revoked_and_superseded(association):
    report = association_report(association, by="division", since=SINCE, until=UNTIL)
    by_name = {r.name: (r.learners, r.completions, r.ceus, r.pathway_completions) for r in report.rows}
    assert by_name == {
        "Youth Services Division": (1, 1, 1.5, 0),  # Ana; Cy's is revoked, Ed's before the period
        "Academic Libraries Division": (2, 4, 5.0, 1),  # Ana, Bo x2, Bo's certificate (no CEUs)
        "Library Support Staff Certification": (2, 2, 6.0, 0),  # Ana 3, Di's correction 3 (not its 2)
    }
    assert [r.name for r in report.rows] == sorted(by_name, key=str.casefold)
    assert all(r.key.startswith("did:") for r in report.rows)
    assert (report.totals.learners, report.totals.completions, report.totals.ceus,
            report.totals.pathway_completions) == (3, 7, 12.5, 1)


def test_by_learner_is_one_person_across_divisions(association):
    report = association_report(association, by="learner", since=SINCE, until=UNTIL)
    rows = _rows(report)
    assert rows == {"ana@example.org": (1, 3, 6.5, 0), "bo@example.org": (1, 3, 3.0, 1),
                    "di@example.org": (1, 1, 3.0, 0)}
    ana = next(r for r in report.rows if r.key == "ana@example.org")
    assert ana.name == "Ana Lima" and len(ana.divisions) == 3


def test_by_organization_is_what_each_purchaser_got_from_every_division(association):
    report = association_report(association, by="organization", since=SINCE, until=UNTIL)
    assert _rows(report) == {"Lakeshore PL": (1, 3, 6.5, 0), "Riverside PL": (1, 3, 3.0, 1),
                             FORMULA: (1, 1, 3.0, 0)}
    lakeshore = next(r for r in report.rows if r.key == "Lakeshore PL")
    assert lakeshore.divisions == ("Academic Libraries Division", "Library Support Staff Certification",
                                   "Youth Services Division")


def test_by_achievement_names_each_divisions_achievement(association):
    report = association_report(association, by="achievement", since=SINCE, until=UNTIL)
    rows = {(r.key, r.divisions): (r.name, r.learners, r.completions, r.ceus, r.pathway_completions)
            for r in report.rows}
    assert rows == {
        ("academic-starter-certificate", ("Academic Libraries Division",)): ("Academic Starter Certificate", 1, 1, 0.0, 1),
        ("cataloging-basics", ("Academic Libraries Division",)): ("Cataloging Basics with RDA", 1, 1, 1.0, 0),
        ("information-literacy-instruction", ("Academic Libraries Division",)): ("Teaching Information Literacy", 2, 2, 4.0, 0),
        ("storytime-early-literacy", ("Youth Services Division",)): ("Storytime for Early Literacy", 1, 1, 1.5, 0),
        ("support-staff-foundations", ("Library Support Staff Certification",)): ("Foundations of Library Service", 2, 2, 6.0, 0),
    }


def test_since_and_until_bound_the_award_dates(association):
    october = association_report(association, by="learner", since=date(2026, 10, 1), until=date(2026, 10, 31))
    assert _rows(october) == {"ana@example.org": (1, 2, 5.0, 0), "bo@example.org": (1, 1, 2.0, 0)}
    everything = association_report(association, by="learner", until=UNTIL)
    assert _rows(everything)["ed@example.org"] == (1, 1, 1.5, 0)
    before = association_report(association, by="division", until=date(2025, 12, 31))
    assert before.totals.completions == 1 and before.since is None
    with pytest.raises(InputError) as caught:
        association_report(association, by="division", since=UNTIL, until=SINCE)
    assert caught.value.code is Code.USAGE
    with pytest.raises(InputError):
        association_report(association, by="pathway", until=UNTIL)


def test_csv_is_safe_to_open_in_a_spreadsheet(association):
    text = report_csv(association_report(association, by="organization", since=SINCE, until=UNTIL))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["organization", "name", "divisions", "learners", "completions", "ceus", "pathway_completions"]
    cells = [cell for row in rows for cell in row]
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert rows[-1][:2] == ["", "total"] and rows[-1][4] == "7"


def test_association_report_command_writes_csv_and_json(tmp_path):
    divisions = _populate(build_association(tmp_path), tmp_path)
    try:
        home = str(divisions.association.issuer.settings.home)
        args = ["--debug", "--home", home, "association", "report", "--since", "2026-01-01", "--until", "2026-11-23"]
        runner = CliRunner()
        done = runner.invoke(main, [*args, "--by", "learner", "--format", "csv"], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        rows = list(csv.reader(io.StringIO(done.stdout)))
        assert rows[1][:5] == ["ana@example.org", "Ana Lima", "Academic Libraries Division; Library Support Staff "
                               "Certification; Youth Services Division", "1", "3"]
        out = tmp_path / "report.json"
        done = runner.invoke(main, [*args, "--format", "json", "-o", str(out)], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        data = json.loads(out.read_text("utf-8"))
        assert data["by"] == "division" and data["totals"]["completions"] == 7
        assert data["association"]["name"] == "Lakeshore Library Association"
        table = runner.invoke(main, args, catch_exceptions=False)
        assert table.exit_code == 0 and "Academic Libraries Division" in table.stdout
        bad = runner.invoke(main, [*args[:-4], "--since", "2026-12-01", "--until", "2026-01-01"])
        assert bad.exit_code == 2 and "USAGE" in bad.output
        division = runner.invoke(main, ["--home", str(divisions.youth.settings.home), "association", "report"])
        assert division.exit_code == 2 and "ASSOCIATION_NOT_FOUND" in division.output
    finally:
        divisions.close()


def test_no_organization_is_its_own_group(tmp_path):
    divisions = build_association(tmp_path)
    try:
        issue_single(divisions.academic, "cataloging-basics", IssueRequest(email="fay@example.org", date=date(2026, 3, 1)))
        report = association_report(divisions.association, by="organization", since=SINCE, until=UNTIL)
        assert _rows(report) == {NO_ORGANIZATION: (1, 1, 1.0, 0)}
    finally:
        divisions.close()
