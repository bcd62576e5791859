"""issuer.records.reports: ``report --by achievement|learner|organization|pathway`` from the registry alone,
on SQLite and PostgreSQL: completions, CEUs, pathway completions and renewals due after the period."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from errors import Code, InputError
from issuer.awarding.awards import issue_single
from issuer.awarding.status_changes import change_status
from issuer.awarding.issuing import IssueRequest
from issuer.records.reports import NO_ORGANIZATION, coordinator_report, report_csv_rows

from issuer.awarding.pathways import add_pathway
from tests.issuer.series import make_repeatable

ROOT = Path(__file__).resolve().parents[3]
PATHWAYS = ROOT / "templates" / "pathways"
# The Youth Services Certificate components, as in test_pathways.py: 1.5 + 1.5 + 4 + 2 + 2 = 11 CEUs.
BEFORE_LAST = [("storytime-early-literacy", date(2026, 9, 1)), ("storytime-early-literacy", date(2026, 10, 1)),
               ("inclusive-teen-programming", date(2026, 10, 5)), ("family-engagement", date(2026, 10, 6))]
LAST = ("early-literacy-programming", date(2026, 11, 1))


def _with_pathway(issuer):
    for toml in sorted((PATHWAYS / "achievements").glob("*.toml")):
        issuer.add_achievement(toml)
    add_pathway(issuer, PATHWAYS / "youth-services.toml")
    return make_repeatable(issuer, "storytime-early-literacy")  # given twice below: a series

CERTIFICATION = "certified-youth-services-librarian"  # valid_for 3y, with a renewal rule
SINCE, UNTIL = date(2026, 1, 1), date(2026, 11, 23)


@pytest.fixture
def registry_data(make_issuer, db_url):
    """The scenario below on SQLite and PostgreSQL."""
    return _populate(make_issuer(db_url))


def _populate(issuer):
    _with_pathway(issuer)
    for slug, day in [*BEFORE_LAST, LAST]:  # Ana completes the pathway, seats bought by Lakeshore PL
        issue_single(issuer, slug, IssueRequest(email="ana@example.org", name="Ana Lima", date=day,
                                                organization="Lakeshore PL"))
    issue_single(issuer, "storytime-early-literacy", IssueRequest(email="bo@example.org", name="Bo", date=date(2026, 10, 1)))
    revoked = issue_single(issuer, "storytime-early-literacy",
                           IssueRequest(email="cy@example.org", date=date(2026, 10, 1), organization="Lakeshore PL"))
    change_status(issuer, revoked.record.id, "revoke", reason="no-show")
    # Certified in December 2023: valid until 2026-12-15, inside the 90 days after the period.
    issue_single(issuer, CERTIFICATION, IssueRequest(email="di@example.org", name="Di", date=date(2023, 12, 15)))
    issue_single(issuer, CERTIFICATION, IssueRequest(email="ed@example.org", name="Ed", date=date(2024, 6, 1)))
    return issuer


def _rows(report) -> dict:
    return {r.key: (r.completions, r.ceus, r.pathway_completions, r.renewals_due) for r in report.rows}


def test_report_by_organization_counts_what_each_purchaser_got(registry_data):
    report = coordinator_report(registry_data, by="organization", since=SINCE, until=UNTIL)
    # Lakeshore PL: five components + the certificate (revoked excluded); none: Bo's course, Di's renewal due.
    assert _rows(report) == {"Lakeshore PL": (6, 11.0, 1, 0), NO_ORGANIZATION: (1, 1.5, 0, 1)}
    assert (report.renewals_from, report.renewals_to) == (date(2026, 11, 24), date(2027, 2, 21))
    assert report.totals.to_dict()["completions"] == 7


def test_report_by_pathway_achievement_and_learner(registry_data):
    by_pathway = coordinator_report(registry_data, by="pathway", since=SINCE, until=UNTIL)
    assert _rows(by_pathway) == {"youth-services": (1, 11.0, 1, 0)}
    assert by_pathway.rows[0].name == "Youth Services Certificate"
    by_achievement = _rows(coordinator_report(registry_data, by="achievement", since=SINCE, until=UNTIL))
    assert by_achievement["storytime-early-literacy"] == (3, 4.5, 0, 0)
    assert by_achievement["youth-services-certificate"] == (1, 0.0, 1, 0)
    assert by_achievement[CERTIFICATION] == (0, 0.0, 0, 1)
    by_learner = coordinator_report(registry_data, by="learner", since=SINCE, until=UNTIL)
    assert _rows(by_learner)["ana@example.org"] == (6, 11.0, 1, 0)
    assert _rows(by_learner)["di@example.org"] == (0, 0.0, 0, 1)
    assert {r.key: r.name for r in by_learner.rows}["ana@example.org"] == "Ana Lima"


def test_report_period_and_group_are_checked(registry_data):
    assert _rows(coordinator_report(registry_data, by="pathway", since=date(2026, 11, 2), until=UNTIL)) == {}
    with pytest.raises(InputError) as caught:
        coordinator_report(registry_data, by="colour", until=UNTIL)
    assert caught.value.code is Code.USAGE
    with pytest.raises(InputError):
        coordinator_report(registry_data, by="learner", since=UNTIL, until=SINCE)


def test_report_cli_by_organization_in_csv_and_json(make_issuer):
    home = str(_populate(make_issuer()).settings.home)  # the instance's own database, as the CLI opens it
    args = ["--debug", "--home", home, "report", "--by", "organization", "--since", "2026-01-01", "--until",
            "2026-11-23"]
    done = CliRunner().invoke(main, [*args, "--format", "csv"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["organization", "name", "completions", "ceus", "pathway_completions", "renewals_due"]
    assert rows[1] == ["Lakeshore PL", "Lakeshore PL", "6", "11.0", "1", "0"] and rows[-1][1] == "total"
    data = json.loads(CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False).stdout)
    assert data["groups"][0]["key"] == "Lakeshore PL" and data["totals"]["renewals_due"] == 1


def test_report_csv_cells_a_spreadsheet_would_run_are_text(make_issuer):
    issuer = make_issuer()
    issue_single(issuer, "storytime-early-literacy", IssueRequest(email="eve@example.org", name="@SUM(A1)",
                                                                  organization="=cmd|calc!A0", date=date(2026, 10, 1)))
    rows = report_csv_rows(coordinator_report(issuer, by="organization", since=SINCE, until=UNTIL))
    assert rows[1][:2] == ["'=cmd|calc!A0", "'=cmd|calc!A0"] and rows[1][2] == 1  # numbers stay numbers
    learners = report_csv_rows(coordinator_report(issuer, by="learner", since=SINCE, until=UNTIL))
    assert learners[1][:2] == ["eve@example.org", "'@SUM(A1)"]
