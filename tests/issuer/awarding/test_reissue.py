"""``badgesmith reissue ID`` (issue 16): one award corrected as ``--correct`` corrects a roster row."""

from __future__ import annotations

import json
from datetime import date

import pytest

from errors import Code, Conflict, InputError, NotFound
from issuer.awarding.awards import CHANGED, issue_roster, issue_single, reissue_award
from issuer.awarding.issuing import IssueRequest
from issuer.records.renewals import renewals_due
from issuer.records.reports import coordinator_report
from issuer.records.transcript import issue_transcript

COURSE = "storytime-early-literacy"  # 1.5 CEUs
CERTIFICATION = "certified-youth-services-librarian"  # valid_for 3y


def _ana(issuer, **extra):
    request = IssueRequest(email="ana@example.org", name="Ana", credits=1.5, date=date(2026, 10, 1),
                           evidence="https://lla.example/rec/1", organization="Lakeshore PL", **extra)
    return issue_single(issuer, COURSE, request).record


def test_reissue_corrects_the_award_and_supersedes_the_old_credential(make_issuer, db_url, tmp_path):
    issuer = make_issuer(db_url)
    old = _ana(issuer)
    done = reissue_award(issuer, old.id, {"date": "2026-10-02", "credits": "1", "name": None})
    new = done.awarded.record
    assert done.differences == ("date: 2026-10-01 -> 2026-10-02", "credits: 1.5 -> 1")
    assert (new.issued_on, new.credits, new.recipient_name, new.organization) == (date(2026, 10, 2), 1.0, "Ana",
                                                                                  "Lakeshore PL")
    credential = json.loads(new.credential)
    assert credential["evidence"][0]["id"] == "https://lla.example/rec/1"  # carried over
    assert credential["credentialSubject"]["creditsEarned"] == 1
    assert done.awarded.files.png.exists()
    previous = issuer.registry.get_credential(old.id)
    assert previous.status == "revoked" and previous.superseded_by == new.id and new.award_key == "once"
    events = issuer.registry.events(credential_id=old.id)
    assert [e.kind for e in events] == ["issued", "revoked"] and events[-1].reason == f"superseded by {new.id}"
    assert [e.kind for e in issuer.registry.events(credential_id=new.id)] == ["issued"]
    # Reports and transcripts count the current credential only.
    report = coordinator_report(issuer, by="learner", since=date(2026, 1, 1), until=date(2026, 11, 23))
    (row,) = report.rows
    assert (row.completions, row.ceus) == (1, 1.0)
    transcript = issue_transcript(issuer, lookup_key=new.lookup_key).document
    assert json.dumps(transcript).count("urn:uuid:") and old.id not in json.dumps(transcript)
    # The roster that still says 2026-10-01 is a difference, never a second credential.
    roster = tmp_path / "r.csv"
    roster.write_text("email,date\nana@example.org,2026-10-01\n", "utf-8")
    summary = issue_roster(issuer, COURSE, roster)
    assert summary.created == 0 and [p.state for p in summary.changed] == [CHANGED]


def test_reissue_refuses_nothing_to_change_bad_values_and_a_superseded_credential(make_issuer):
    issuer = make_issuer()
    old = _ana(issuer)
    for changes, words in (({}, "Give what to correct"), ({"name": "Ana"}, "already says that"),
                           ({"evidence": 'https://lla.example/"x"'}, "--evidence:"),
                           ({"credits": "9"}, "--credits:"), ({"date": "2027-01-01"}, "--date:")):
        with pytest.raises(InputError) as caught:
            reissue_award(issuer, old.id, changes)
        assert words in caught.value.message, changes
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 1  # nothing was issued
    with pytest.raises(NotFound):
        reissue_award(issuer, "urn:uuid:00000000-0000-0000-0000-000000000000", {"name": "X"})
    new = reissue_award(issuer, old.id.removeprefix("urn:uuid:"), {"name": "Ana Lima"}).awarded.record
    with pytest.raises(Conflict) as superseded:
        reissue_award(issuer, old.id, {"name": "Ana L."})
    assert superseded.value.code is Code.STATUS_CHANGE_INVALID and new.id in superseded.value.message


def test_a_reissued_certification_keeps_its_place_in_renewals(make_issuer):
    issuer = make_issuer()
    old = issue_single(issuer, CERTIFICATION, IssueRequest(email="jane@example.org", name="Jane Doe",
                                                           date=date(2024, 1, 22))).record
    new = reissue_award(issuer, old.id, {"name": "Jane Q. Doe"}).awarded.record
    assert new.valid_until == old.valid_until
    (row,) = renewals_due(issuer, due_within="90d")
    assert (row.credential_id, row.recipient_name) == (new.id, "Jane Q. Doe")


def test_pathway_progress_counts_the_reissued_credential_once(make_issuer):
    from pathlib import Path

    from issuer.awarding.pathways import add_pathway, progress

    issuer = make_issuer()
    root = Path(__file__).resolve().parents[3] / "templates" / "pathways"
    for toml in sorted((root / "achievements").glob("*.toml")):
        issuer.add_achievement(toml, replace=True)
    add_pathway(issuer, root / "youth-services.toml")
    old = issue_single(issuer, "family-engagement", IssueRequest(email="ana@example.org", name="Ana",
                                                                 date=date(2026, 9, 1))).record
    new = reissue_award(issuer, old.id, {"date": "2026-09-02"}).awarded.record
    (pathway,) = progress(issuer, "ana@example.org").pathways
    done = [c.id for c in pathway.done]
    assert new.id in done and old.id not in done and pathway.ceus_counted == (new.credits or 0)
