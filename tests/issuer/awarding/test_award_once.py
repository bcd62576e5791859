"""One award per person (issue 16): re-runs never issue twice, corrections supersede — SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from issuer.awarding.awards import CHANGED, EXISTING, NEW, issue_roster, issue_single, plan_roster
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.roster import read_roster
from issuer.records.reports import coordinator_report
from issuer.store.registry import MIGRATIONS_DIR, Registry
from tests.issuer.series import make_repeatable

COURSE = "storytime-early-literacy"  # 1.5 CEUs
NOW = datetime(2026, 11, 23, 23, 59, tzinfo=timezone.utc)


def _write(path, text: str):
    path.write_text(text, "utf-8")
    return path


def test_roster_without_dates_resumed_after_midnight_issues_nobody_twice(make_issuer, db_url, tmp_path):
    roster = _write(tmp_path / "att.csv", "email,name\nana@example.org,Ana\nbo@example.org,Bo\n")
    before = make_issuer(db_url, now=NOW)
    assert issue_roster(before, COURSE, roster).created == 2
    after = make_issuer(db_url, now=NOW + timedelta(minutes=2))  # 00:01 the next day
    summary = issue_roster(after, COURSE, roster)
    assert (summary.created, summary.existing, summary.changed) == (0, 2, [])
    assert len(after.registry.find_credentials(after.issuer_id)) == 2


def test_corrected_date_is_reported_not_issued_then_correct_supersedes(make_issuer, db_url, tmp_path):
    issuer = make_issuer(db_url)
    roster = _write(tmp_path / "att.csv", "email,name,date\nana@example.org,Ana,2026-10-01\nbo@example.org,Bo,2026-10-01\n")
    first = {a.record.recipient_email: a.record for a in issue_roster(issuer, COURSE, roster).awarded}
    _write(roster, "email,name,date\nana@example.org,Ana,2026-10-02\nbo@example.org,Bo,2026-10-01\n")

    summary = issue_roster(issuer, COURSE, roster)
    assert (summary.created, summary.existing, summary.corrected) == (0, 1, 0)
    (changed,) = summary.changed
    assert changed.state == CHANGED and changed.differences == ("date: 2026-10-01 -> 2026-10-02",)
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 2
    with summary.summary_csv.open(encoding="utf-8-sig", newline="") as handle:
        statuses = {r["email"]: r["status"] for r in csv.DictReader(handle)}
    assert statuses["bo@example.org"] == "already issued" and statuses["ana@example.org"].startswith("changed")

    corrected = issue_roster(issuer, COURSE, roster, correct=True)
    assert (corrected.created, corrected.existing, corrected.corrected) == (0, 1, 1)
    new = next(a.record for a in corrected.awarded if a.record.recipient_email == "ana@example.org")
    old = issuer.registry.get_credential(first["ana@example.org"].id)
    assert new.issued_on == date(2026, 10, 2) and new.id != old.id
    assert old.status == "revoked" and old.superseded_by == new.id and old.award_key is None
    events = issuer.registry.events(credential_id=old.id)
    assert [e.kind for e in events] == ["issued", "revoked"] and events[-1].reason == f"superseded by {new.id}"
    report = coordinator_report(issuer, by="learner", since=date(2026, 1, 1), until=date(2026, 11, 23))
    ana = next(r for r in report.rows if r.name == "Ana" or r.key == "ana@example.org")
    assert ana.completions == 1 and ana.ceus == 1.5  # the current credential only
    # A third run: nothing left to do.
    again = issue_roster(issuer, COURSE, roster, correct=True)
    assert (again.created, again.existing, again.corrected, again.changed) == (0, 2, 0, [])


def test_credits_name_and_evidence_changes_are_differences_and_empty_cells_are_not(make_issuer, tmp_path):
    issuer = make_issuer()
    issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana", credits=1.5,
                                              date=date(2026, 10, 1), evidence="https://lla.example/rec/1"))
    parsed = read_roster(b"email,name,credits,date,evidence\n"
                         b"ana@example.org,Ana Lima,1,,https://lla.example/rec/2\n", achievement=_shape(issuer),
                         today=date(2026, 11, 23))
    (plan,) = plan_roster(issuer, COURSE, parsed.rows)
    assert plan.state == CHANGED
    assert plan.differences == ("credits: 1.5 -> 1", "name: Ana -> Ana Lima",
                                "evidence: https://lla.example/rec/1 -> https://lla.example/rec/2")
    same = read_roster(b"email\nana@example.org\n", achievement=_shape(issuer), today=date(2026, 11, 23))
    assert [p.state for p in plan_roster(issuer, COURSE, same.rows)] == [EXISTING]


def test_repeatable_achievement_is_one_award_per_date_or_session(make_issuer, tmp_path):
    issuer = make_repeatable(make_issuer(), COURSE)
    roster = _write(tmp_path / "series.csv", "email,date,session\nana@example.org,2026-10-01,\n"
                    "ana@example.org,2026-10-08,\nana@example.org,2026-10-08,evening\n")
    assert issue_roster(issuer, COURSE, roster).created == 3
    assert issue_roster(issuer, COURSE, roster).existing == 3
    single = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", date=date(2026, 10, 1)))
    assert not single.created


def test_non_repeatable_roster_listing_a_person_twice_is_a_bad_row(make_issuer):
    issuer = make_issuer()
    parsed = read_roster(b"email,date\nana@example.org,2026-10-01\nana@example.org,2026-10-02\n",
                         achievement=_shape(issuer), today=date(2026, 11, 23))
    assert [str(e) for e in parsed.errors] == ["line 3, email: ana@example.org already has a row (line 2)."]


def test_migration_keys_existing_awards_and_leaves_duplicates_unkeyed(db_url):
    registry = Registry.from_url(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with registry.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.exec_driver_sql("INSERT INTO issuers (id, did, name, url, profile, created_at, updated_at) "
                                   "VALUES (1, 'did:key:z', 'I', 'https://i.example', '{}', '2026-01-01 00:00:00', "
                                   "'2026-01-01 00:00:00')")
        connection.exec_driver_sql("INSERT INTO achievements (issuer_id, slug, definition, created_at, updated_at) "
                                   "VALUES (1, 'c', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
        for cid, day in (("urn:uuid:1", "2026-01-01"), ("urn:uuid:2", "2026-01-02"), ("urn:uuid:3", "2029-01-01")):
            connection.exec_driver_sql(
                "INSERT INTO credentials (id, issuer_id, achievement, lookup_key, issued_on, valid_from, format, "
                f"status, credential, created_at) VALUES ('{cid}', 1, 'c', 'k', '{day}', '{day} 00:00:00', 'di', "
                f"'active', '{{}}', '{day} 00:00:00')")
        connection.exec_driver_sql("INSERT INTO events (issuer_id, credential_id, kind, actor, at, details) VALUES "
                                   "(1, 'urn:uuid:3', 'renewed', 'a', '2029-01-01 00:00:00', "
                                   "'{\"previous\": \"urn:uuid:1\"}')")
    registry.migrate()
    with registry.engine.connect() as connection:
        keys = dict(connection.execute(sa.text("SELECT id, award_key FROM credentials")).all())
    assert keys == {"urn:uuid:1": "once", "urn:uuid:2": None, "urn:uuid:3": "renews:urn:uuid:1"}
    registry.dispose()


def _shape(issuer):
    from issuer.awarding.awards import _shape as shape

    return shape(COURSE, issuer.achievement(COURSE))
