"""Bad rows with reasons, ``--dry-run``, and a row check that agrees with signing (issue 16)."""

from __future__ import annotations

from datetime import date

import pytest

from errors import BadgesmithError, Code, ConfigError
from issuer.awarding.awards import CHANGED, EXISTING, NEW, _shape, check_roster, issue_roster
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.roster import read_roster

COURSE = "storytime-early-literacy"
TODAY = date(2026, 11, 23)
# Evidence addresses a coordinator might paste; some hold characters no IRI may hold.
EVIDENCE = ['https://lla.example/a"b', "https://lla.example/a<b>", "https://lla.example/{id}",
            "https://lla.example/a|b", "https://lla.example/a\\b", "https://lla.example/a^b",
            "https://lla.example/a`b", "https://lla.example/%7Bid%7D", "https://lla.example/é",
            "https://lla.example/rec?x=1&y=2#t=30", "https://lla.example:8443/x"]


@pytest.mark.parametrize("evidence", EVIDENCE)
def test_the_row_check_and_signing_agree_on_evidence(make_issuer, evidence):
    """A row the check accepts signs; a row it refuses would have failed at signing."""
    issuer = make_issuer()
    text = f"email,evidence\nana@example.org,{evidence}\n".encode()
    parsed = read_roster(text, achievement=_shape(COURSE, issuer.achievement(COURSE)), today=TODAY)
    request = IssueRequest(email="ana@example.org", evidence=evidence)
    if parsed.is_valid:
        assert issuer.issue(COURSE, request).created
    else:
        assert parsed.errors[0].field == "evidence" and "percent-encode" in parsed.errors[0].message
        with pytest.raises(ConfigError) as caught:
            issuer.issue(COURSE, request)
        assert caught.value.code == Code.SELF_CHECK_FAILED
        assert issuer.registry.find_credentials(issuer.issuer_id) == []


def test_dry_run_lists_every_bad_row_and_counts_new_existing_and_changed(make_issuer, tmp_path):
    issuer = make_issuer()
    issuer.issue(COURSE, IssueRequest(email="ana@example.org", date=date(2026, 10, 1)))
    issuer.issue(COURSE, IssueRequest(email="bo@example.org", date=date(2026, 10, 1)))
    roster = tmp_path / "att.csv"
    roster.write_text("email,date,evidence\nana@example.org,2026-10-01,\nbo@example.org,2026-10-02,\n"
                      "cy@example.org,,\nnot-an-email,,\ndi@example.org,,https://x.example/\"q\"\n", "utf-8")
    check = check_roster(issuer, COURSE, roster)
    assert [p.state for p in check.plans] == [EXISTING, CHANGED, NEW]
    assert not check.is_valid and [(e.line, e.field) for e in check.errors] == [(5, "email"), (6, "evidence")]
    data = check.to_dict()
    assert (data["new"], data["already_issued"], data["changed"], data["invalid_rows"]) == (1, 1, 1, 2)
    assert data["changed_rows"][0]["differences"] == ["date: 2026-10-01 -> 2026-10-02"]
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 2  # nothing issued
    assert check_roster(issuer, COURSE, roster, correct=True).to_dict()["corrected"] == 1


def test_a_run_that_fails_part_way_says_what_it_stored_and_a_rerun_resumes(make_issuer, tmp_path, monkeypatch):
    from issuer.awarding import awards

    monkeypatch.setattr(awards, "_BATCH_ROWS", 100)  # 120 rows: a batch stored, then one that fails
    issuer = make_issuer()
    roster = tmp_path / "att.csv"
    roster.write_text("email\n" + "".join(f"p{i}@example.org\n" for i in range(120)), "utf-8")
    original, calls = issuer.issue_many, []

    def failing_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConfigError(Code.SELF_CHECK_FAILED, "The credential Badgesmith just signed does not verify "
                              "(x); it was not stored.")
        return original(*args, **kwargs)

    issuer.issue_many = failing_second_batch
    with pytest.raises(BadgesmithError) as caught:
        issue_roster(issuer, COURSE, roster)
    error = caught.value
    assert error.code == Code.SELF_CHECK_FAILED and "nothing was stored" not in error.message
    assert "lines 102-121" in error.message and "100 of its 120 new credential(s) were stored" in error.message
    assert (error.details["stored"], error.details["not_stored"]) == (100, 20)
    # The stored batch has all its files though they are handed to the workers after the next batch's
    # signing share (awards._issue_rows), and the rolled-back batch has none.
    from issuer.awarding.outputs import file_stem

    folder = issuer.settings.out_dir / COURSE
    stems = {file_stem(r) for r in issuer.registry.find_credentials(issuer.issuer_id)}
    assert len(stems) == 100
    assert all((folder / f"{stem}{end}").stat().st_size > 0 for stem in stems
               for end in (".png", ".svg", ".json", "-qr.png"))
    assert len([p for p in folder.iterdir() if p.suffix == ".json"]) == 100
    issuer.issue_many = original
    summary = issue_roster(issuer, COURSE, roster)
    assert (summary.created, summary.existing) == (20, 100)
