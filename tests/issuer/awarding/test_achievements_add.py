"""``achievement add``: existing ids refused unless replaced; certifications never issued already expired (issue 16)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from errors import Code, Conflict, InputError
from issuer.awarding.awards import RosterOptions, award_one, check_roster, issue_roster

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "templates" / "achievements"
COURSE = "storytime-early-literacy"
CERTIFICATION = "certified-youth-services-librarian"  # valid_for = "3y"; the clock is 2026-11-23


def test_adding_an_existing_id_is_refused_unless_replace_and_issued_credentials_keep_theirs(make_issuer, tmp_path):
    issuer = make_issuer()
    issued = award_one(issuer, COURSE, {"email": "ana@example.org"})
    with pytest.raises(Conflict) as caught:
        issuer.add_achievement(EXAMPLES / "ceu-course.toml")
    assert caught.value.code is Code.ACHIEVEMENT_EXISTS and "--replace" in caught.value.message
    renamed = tmp_path / "ceu-course.toml"
    renamed.write_text((EXAMPLES / "ceu-course.toml").read_text("utf-8").replace(
        'name = "Storytime for Early Literacy"', 'name = "Storytime, revised"'), "utf-8")
    assert issuer.add_achievement(renamed, replace=True).name == "Storytime, revised"
    assert issuer.achievement(COURSE)["ob"]["name"] == "Storytime, revised"
    stored = issuer.registry.get_credential(issued.record.id)
    assert stored.credential == issued.record.credential and "Storytime for Early Literacy" in stored.credential


def test_several_files_are_checked_before_any_is_added(make_issuer, tmp_path):
    issuer = make_issuer()
    new = tmp_path / "new.toml"
    new.write_text((EXAMPLES / "ceu-course.toml").read_text("utf-8").replace(
        f'id = "{COURSE}"', 'id = "storytime-two"'), "utf-8")
    with pytest.raises(Conflict):
        issuer.add_achievements([new, EXAMPLES / "ceu-course.toml"])
    assert issuer.registry.get_achievement(issuer.issuer_id, "storytime-two") is None  # nothing added
    assert [a.id for a in issuer.add_achievements([new])] == ["storytime-two"]


def test_a_certification_that_would_be_issued_expired_is_refused_unless_allowed(make_issuer, tmp_path):
    issuer = make_issuer()
    with pytest.raises(InputError) as caught:
        award_one(issuer, CERTIFICATION, {"email": "ana@example.org", "date": "2023-10-01"})
    assert caught.value.code is Code.ALREADY_EXPIRED and "2026-10-01" in caught.value.message
    assert issuer.registry.find_credentials(issuer.issuer_id) == []
    roster = tmp_path / "r.csv"
    roster.write_text("email,date\nana@example.org,2023-10-01\nbo@example.org,2024-01-01\n", "utf-8")
    check = check_roster(issuer, CERTIFICATION, roster)
    assert [(e.line, e.code) for e in check.errors] == [(2, Code.ALREADY_EXPIRED)]
    assert issue_roster(issuer, CERTIFICATION, roster, options=RosterOptions(allow_expired=True)).created == 2
    late = award_one(issuer, CERTIFICATION, {"email": "cy@example.org", "date": "2023-11-23"}, allow_expired=True)
    assert late.record.valid_until.date() == date(2026, 11, 23)
