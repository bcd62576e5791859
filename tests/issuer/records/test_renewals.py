"""issuer.records.renewals: who is due, where they stand, and renewals that chain — on SQLite and PostgreSQL.

The clock is fixed at 2026-11-23 12:00 UTC (the ``issuer`` fixture). The
certification (valid_for 3y, renewal 30 youth-services CEUs within 3y) awarded
on 2024-01-22 expires on 2027-01-22: 60 days away.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from errors import Code, Conflict, InputError, NotFound
from issuer.awarding.status_changes import change_status
from issuer.awarding.issuing import IssueRequest
from issuer.records.renewals import ELIGIBLE, LAPSED, SHORT, renew, renew_eligible, renewals_due

CERTIFICATION = "certified-youth-services-librarian"
INSTITUTE, WORKSHOP, CATALOGUING = "youth-services-institute", "youth-services-workshop", "cataloguing-basics"
AWARDED = date(2024, 1, 22)  # expires 2027-01-22, 60 days after the fixed clock
EXPIRES = datetime(2027, 1, 22, tzinfo=timezone.utc)

_TOML = """id = "{id}"
name = "{name}"
achievement_type = "Course"
description = "Continuing education for librarians."
criteria = "Attend the whole course."
credits_available = {credits}
tags = {tags}
repeatable = true
"""


def add_courses(issuer, tmp_path: Path) -> None:
    """Three courses beside the examples: 14 and 2 youth-services CEUs, and 10 that do not count (repeatable:
    a learner attends the institute every year)."""
    for slug, name, credits, tags in ((INSTITUTE, "Youth Services Institute", 14, '["youth-services"]'),
                                      (WORKSHOP, "Youth Services Workshop", 2, '["youth-services", "webinar"]'),
                                      (CATALOGUING, "Cataloguing Basics", 10, '["cataloguing"]')):
        path = tmp_path / f"{slug}.toml"
        path.write_text(_TOML.format(id=slug, name=name, credits=credits, tags=tags), "utf-8")
        issuer.add_achievement(path)


def award(issuer, slug: str, email: str, on: date, *, name: str | None = "Jane Doe", credits: float | None = None):
    return issuer.issue(slug, IssueRequest(email=email, name=name, date=on, credits=credits)).record


@pytest.fixture
def holder(issuer, tmp_path):
    """Jane: certified on 2024-01-22, 28 of 30 counting CEUs in this cycle (and some that do not count)."""
    add_courses(issuer, tmp_path)
    email = "jane@example.org"
    certification = award(issuer, CERTIFICATION, email, AWARDED)
    award(issuer, INSTITUTE, email, date(2024, 5, 1))
    award(issuer, INSTITUTE, email, date(2025, 5, 1))
    award(issuer, INSTITUTE, email, date(2023, 12, 1))  # before the cycle began
    award(issuer, CATALOGUING, email, date(2025, 6, 1))  # not tagged youth-services
    revoked = award(issuer, WORKSHOP, email, date(2025, 7, 1))
    issuer.set_status(revoked.id, "revoke", reason="Issued in error")
    award(issuer, INSTITUTE, "someone.else@example.org", date(2025, 5, 1), name="Someone Else")
    return certification


def test_holder_at_28_of_30_ceus_is_short_by_2(issuer, holder):
    (row,) = renewals_due(issuer, due_within="90d")
    assert row.credential_id == holder.id and row.recipient_email == "jane@example.org"
    assert (row.earned, row.required, row.state, row.label) == (28, 30, SHORT, "short by 2 CEUs")
    assert row.days_left == 60 and row.expires == EXPIRES and row.cycle_start == AWARDED
    assert len(row.counted) == 2 and {c.achievement for c in row.counted} == {INSTITUTE}
    assert row.to_dict()["label"] == "short by 2 CEUs" and row.to_dict()["expires"] == "2027-01-22"


def test_certification_outside_the_window_is_not_listed(issuer, holder):
    assert renewals_due(issuer, due_within="30d") == []
    assert len(renewals_due(issuer, due_within="2m")) == 1


def test_the_window_reaches_back_a_calendar_month_from_a_month_end(issuer):
    # 3y certifications awarded 2024-02-27/28 expire 2027-02-27/28; 2027-03-31 minus 1m is 2027-02-28.
    lapsed = award(issuer, CERTIFICATION, "feb28@example.org", date(2024, 2, 28))
    award(issuer, CERTIFICATION, "feb27@example.org", date(2024, 2, 27))
    rows = renewals_due(issuer, due_within="1m", now=datetime(2027, 3, 31, 12, tzinfo=timezone.utc))
    assert [(r.credential_id, r.state, r.cycle_start) for r in rows] == [(lapsed.id, LAPSED, date(2024, 2, 28))]


def test_renew_is_refused_with_the_reason_when_short(issuer, holder):
    with pytest.raises(Conflict) as raised:
        renew(issuer, holder.id)
    assert raised.value.code is Code.RENEWAL_NOT_MET
    assert "short by 2 CEUs" in raised.value.message and "--override" in raised.value.message
    assert [r.id for r in issuer.registry.find_credentials(issuer.issuer_id, achievement=CERTIFICATION)] == [holder.id]


def test_after_a_2_ceu_course_renew_issues_a_renewal_whose_dates_chain(issuer, holder):
    award(issuer, WORKSHOP, "jane@example.org", date(2026, 11, 20))
    (row,) = renewals_due(issuer, due_within="90d")
    assert (row.earned, row.state) == (30, ELIGIBLE)
    renewed = renew(issuer, holder.id)
    record = renewed.awarded.record
    assert renewed.created and not renewed.override
    assert record.valid_from == holder.valid_until == EXPIRES  # early renewal loses no time
    assert record.valid_until == datetime(2030, 1, 22, tzinfo=timezone.utc)
    # Awarded today (reports, LinkedIn), valid from where the previous cycle ends.
    assert record.issued_on == date(2026, 11, 23) and record.recipient_email == "jane@example.org"
    credential = json.loads(record.credential)
    assert credential["validFrom"] == "2027-01-22T00:00:00Z" and credential["validUntil"] == "2030-01-22T00:00:00Z"
    assert credential["awardedDate"] == "2026-11-23T00:00:00Z"
    previous, *counted = credential["evidence"]
    assert previous["id"] == issuer.credential_page(holder.id)
    assert holder.id in previous["narrative"] and "30 of the 30 CEUs (youth-services)" in previous["narrative"]
    assert len(counted) == 3 and {e["name"] for e in counted} == {"Youth Services Institute",
                                                                     "Youth Services Workshop"}
    (event,) = [e for e in issuer.registry.events(credential_id=record.id) if e.kind == "renewed"]
    assert event.details["previous"] == holder.id and event.details["override"] is False
    assert renewals_due(issuer, due_within="90d") == []  # superseded by the renewal
    with pytest.raises(Conflict) as again:
        renew(issuer, holder.id)
    assert again.value.code is Code.RENEWAL_NOT_AVAILABLE and record.id in again.value.message


def test_override_with_a_reason_renews_and_is_recorded_in_the_event_log(issuer, holder):
    with pytest.raises(InputError) as no_reason:
        renew(issuer, holder.id, override=True)
    assert no_reason.value.code is Code.USAGE
    renewed = renew(issuer, holder.id, override=True, reason="Medical leave in 2025; board approved")
    assert renewed.created and renewed.override and renewed.awarded.record.valid_from == EXPIRES
    (event,) = [e for e in issuer.registry.events(issuer_id=issuer.issuer_id) if e.kind == "renewed"]
    assert event.credential_id == renewed.awarded.record.id
    assert event.reason == "Medical leave in 2025; board approved"
    assert event.details["override"] is True and event.details["earned"] == 28


def test_lapsed_certification_is_listed_refused_and_an_override_starts_today(issuer, tmp_path):
    add_courses(issuer, tmp_path)
    lapsed = award(issuer, CERTIFICATION, "late@example.org", date(2023, 11, 1), name="Late Learner")
    award(issuer, INSTITUTE, "late@example.org", date(2024, 1, 1))
    award(issuer, INSTITUTE, "late@example.org", date(2025, 1, 1))
    award(issuer, WORKSHOP, "late@example.org", date(2026, 1, 1))
    (row,) = renewals_due(issuer, due_within="90d")
    assert (row.state, row.label, row.days_left, row.earned) == (LAPSED, "lapsed", -22, 30)
    with pytest.raises(Conflict) as raised:
        renew(issuer, lapsed.id)
    assert raised.value.code is Code.RENEWAL_NOT_MET and "lapsed on 2026-11-01" in raised.value.message
    renewed = renew(issuer, lapsed.id, override=True, reason="Renewal form arrived late")
    # No backdating over the gap: the new cycle starts on the day of the renewal.
    assert renewed.awarded.record.valid_from == datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert renewed.awarded.record.valid_until == datetime(2029, 11, 23, tzinfo=timezone.utc)


def test_renew_all_eligible_renews_only_the_eligible(issuer, holder):
    award(issuer, CERTIFICATION, "ready@example.org", date(2024, 1, 10), name="Ready Reader")
    for on in (date(2024, 3, 1), date(2025, 3, 1), date(2026, 3, 1)):
        award(issuer, INSTITUTE, "ready@example.org", on, name="Ready Reader")
    states = {r.recipient_name: r.state for r in renewals_due(issuer, due_within="90d")}
    assert states == {"Ready Reader": ELIGIBLE, "Jane Doe": SHORT}
    renewed = renew_eligible(issuer, due_within="90d")
    assert [r.previous.recipient_name for r in renewed] == ["Ready Reader"]
    assert renewed[0].awarded.record.valid_from == datetime(2027, 1, 10, tzinfo=timezone.utc)
    assert [r.recipient_name for r in renewals_due(issuer, due_within="90d")] == ["Jane Doe"]
    assert renew_eligible(issuer, due_within="90d") == []  # a second run renews nothing


def test_renew_refuses_what_is_not_a_renewable_certification(issuer, holder):
    course = issuer.registry.find_credentials(issuer.issuer_id, achievement=INSTITUTE)[0]
    with pytest.raises(Conflict) as not_certification:
        renew(issuer, course.id)
    assert not_certification.value.code is Code.RENEWAL_NOT_AVAILABLE
    with pytest.raises(NotFound):
        renew(issuer, "urn:uuid:00000000-0000-0000-0000-000000000000")
    change_status(issuer, holder.id, "revoke", reason="Misconduct")
    with pytest.raises(Conflict) as revoked:
        renew(issuer, holder.id, override=True, reason="Try anyway")
    assert revoked.value.code is Code.RENEWAL_NOT_AVAILABLE
    assert renewals_due(issuer, due_within="90d") == []


def test_renewed_certification_verifies_once_its_cycle_starts(make_issuer, tmp_path, verify_file):
    issuer = make_issuer()
    add_courses(issuer, tmp_path)
    certification = award(issuer, CERTIFICATION, "jane@example.org", AWARDED)
    award(issuer, INSTITUTE, "jane@example.org", date(2024, 5, 1), credits=14)
    award(issuer, INSTITUTE, "jane@example.org", date(2025, 5, 1), credits=14)
    award(issuer, WORKSHOP, "jane@example.org", date(2026, 11, 1))
    renewed = renew(issuer, certification.id)
    report = verify_file(renewed.awarded.files.png, issuer, now=datetime(2027, 2, 1, tzinfo=timezone.utc),
                         email="jane@example.org")
    assert report.verified, [c for c in report.checks if c.outcome == "failed"]
    assert report.to_dict()["credential"]["validUntil"].startswith("2030-01-22")
    early = verify_file(renewed.awarded.files.png, issuer, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert early.check("validity").code == Code.NOT_YET_VALID.value


def test_a_renewal_rule_by_field_of_study_counts_only_courses_in_that_field(issuer, tmp_path):
    certification = """id = "certified-cataloguer"
name = "Certified Cataloguer"
achievement_type = "Certification"
description = "Cataloguing."
criteria = "A portfolio."
valid_for = "3y"

[renewal]
credits = 12
within = "3y"
field_of_study = "library and information science"
"""
    path = tmp_path / "cataloguer.toml"
    path.write_text(certification, "utf-8")
    issuer.add_achievement(path)
    for slug, field, credits in (("metadata-course", "Library and Information Science", 8),
                                 ("rda-course", "Library and Information Science", 3),
                                 ("budget-course", "Public Administration", 20)):
        course = tmp_path / f"{slug}.toml"
        course.write_text(_TOML.format(id=slug, name=slug, credits=credits, tags="[]")
                          + f'field_of_study = "{field}"\n', "utf-8")
        issuer.add_achievement(course)
        award(issuer, slug, "ravi@example.org", date(2024, 6, 1))
    award(issuer, "certified-cataloguer", "ravi@example.org", AWARDED)
    (row,) = [r for r in renewals_due(issuer, due_within="90d") if r.achievement == "certified-cataloguer"]
    assert (row.earned, row.required, row.state) == (11.0, 12.0, SHORT)  # the 20 budget CEUs do not count
    assert row.which_ceus == " in library and information science"
    assert sorted(c.achievement for c in row.counted) == ["metadata-course", "rda-course"]
