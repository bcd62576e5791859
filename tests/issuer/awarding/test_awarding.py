"""issuer.awarding.awards: one-off and roster awards with the files a division hands out, status changes that
republish the signed list, and rosters that are refused whole, skipped over, repeated or resumed safely."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from cli import main
from errors import Code, Conflict, InputError
from issuer.awarding.awards import RosterOptions, issue_roster, issue_single
from issuer.awarding.status_changes import change_status
from issuer.records.listing import credential_rows, credit_report
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.roster import read_roster
from verifier.sources import Limits, extract

COURSE = "storytime-early-literacy"
ROSTER_DATE = "2026-10-01"
BAD_LINES = {10: "email", 50: "credits", 90: "date", 130: "email"}  # 130 repeats line 2


CONFERENCE = "annual-conference-2025"  # 12 CEUs


def rows_all(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _roster_text(rows: int = 200, *, bad: bool = True) -> str:
    """``rows`` attendees of the 1.5-CEU course; with ``bad``, the four bad rows of BAD_LINES."""
    lines = ["email,name,credits,date,organization"]
    for i in range(rows):
        line = i + 2
        email, credits, day = f"learner{i}@example.org", "1.5" if i % 3 else "1", ROSTER_DATE
        if bad and line == 10:
            email = "learner-at-example.org"
        elif bad and line == 50:
            credits = "2"
        elif bad and line == 90:
            day = "2026-12-25"
        elif bad and line == 130:
            email = "learner0@example.org"
        lines.append(f"{email},Learner {i},{credits},{day},Branch {i % 7}")
    return "\n".join(lines) + "\n"


def _badges(issuer) -> list[Path]:
    folder = issuer.settings.out_dir / COURSE
    return sorted(p for p in folder.glob("*.png") if not p.name.endswith("-qr.png")) if folder.exists() else []


def _cli_verify(path: Path, issuer) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["--debug", "verify", str(path), "--json", "--offline", "--now",
                                       "2026-11-23T12:00:00Z", "--documents", str(issuer.settings.out_dir / "status")],
                                catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


# -- one-off awards and their files -----------------------------------------------------------------


def test_issue_single_writes_baked_png_svg_json_and_a_qr_code_of_the_page(make_issuer):
    import zxingcpp

    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana Lima"))
    files = awarded.files
    uuid = awarded.record.id.removeprefix("urn:uuid:")
    assert awarded.created
    assert awarded.page_url == f"https://badges.lakeshore.example/credentials/{uuid}"
    assert files.png.name == f"ana-lima-{uuid[:8]}.png" and files.png.parent == issuer.settings.out_dir / COURSE
    with Image.open(files.png) as image:
        image.load()
        assert image.format == "PNG" and image.size[0] > 0
    stored = json.loads(awarded.record.credential)
    assert extract(files.png.read_bytes(), limits=Limits()).credential == stored
    assert files.svg is not None and extract(files.svg.read_bytes(), limits=Limits()).credential == stored
    assert json.loads(files.credential.read_text("utf-8")) == stored
    with Image.open(files.qr) as qr:
        decoded = zxingcpp.read_barcodes(qr)
    assert [code.text for code in decoded] == [awarded.page_url]
    assert {p.name for p in (issuer.settings.out_dir / "status").iterdir()} >= {"index.json", "revocation-1.json"}


def test_png_only_art_bakes_no_svg(make_issuer, tmp_path):
    art = tmp_path / "art.png"
    Image.new("RGB", (64, 64), (31, 95, 139)).save(art)
    toml = tmp_path / "png-course.toml"
    toml.write_text('id = "png-course"\nname = "PNG Course"\ndescription = "d"\ncriteria = "c"\n'
                    'achievement_type = "Course"\nimage = "art.png"\n', "utf-8")
    issuer = make_issuer()
    issuer.add_achievement(toml)
    awarded = issue_single(issuer, "png-course", IssueRequest(email="ana@example.org"))
    assert awarded.files.svg is None
    assert extract(awarded.files.png.read_bytes(), limits=Limits()).container == "png"
    assert {p.suffix for p in awarded.files.as_list()} == {".png", ".json"}


def test_jwt_award_writes_a_jwt_file_and_bakes_the_token(make_issuer):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", format="jwt"))
    assert awarded.files.credential.suffix == ".jwt"
    assert awarded.files.credential.read_text().strip() == awarded.record.credential
    assert extract(awarded.files.png.read_bytes(), limits=Limits()).jwt == awarded.record.credential
    assert extract(awarded.files.svg.read_bytes(), limits=Limits()).jwt == awarded.record.credential


def test_issue_single_again_returns_the_stored_credential_and_restores_missing_files(make_issuer):
    issuer = make_issuer()
    first = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana Lima"))
    first.files.qr.unlink()
    again = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana Lima"))
    assert not again.created and again.record.id == first.record.id
    assert again.files == first.files and first.files.qr.exists()


def test_baked_badge_verifies_offline_with_the_published_status_lists(make_issuer, verify_file):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana Lima"))
    for path in (awarded.files.png, awarded.files.svg, awarded.files.credential):
        report = verify_file(path, issuer, email="ana@example.org")
        assert report.verified, [c for c in report.checks if c.outcome == "failed"]
        assert report.check("status").code == "STATUS_OK"
        assert report.check("recipient").outcome == "passed"


# -- status changes ---------------------------------------------------------------------------------


def test_revoke_flips_verification_in_the_pipeline_and_the_cli(make_issuer, db_url, verify_file):
    issuer = make_issuer(db_url)
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"))
    other = issue_single(issuer, COURSE, IssueRequest(email="bo@example.org"))
    assert _cli_verify(awarded.files.png, issuer)[0] == 0
    done = change_status(issuer, awarded.record.id, "revoke", reason="issued in error")
    assert done.changed and done.record.status == "revoked" and done.path.name == "revocation-1.json"
    report = verify_file(awarded.files.png, issuer)
    assert not report.verified and report.check("status").code == Code.REVOKED.value
    code, data = _cli_verify(awarded.files.png, issuer)
    assert code == 1 and data["verified"] is False
    assert [c["code"] for c in data["checks"] if c["outcome"] == "failed"] == ["REVOKED"]
    assert verify_file(other.files.png, issuer).verified  # its neighbour on the list is untouched
    assert [e.kind for e in issuer.registry.events(credential_id=awarded.record.id)] == ["issued", "revoked"]


def test_suspend_and_reinstate_flip_the_status_check(make_issuer, db_url, verify_file):
    issuer = make_issuer(db_url)
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"), suspension=True)
    assert verify_file(awarded.files.png, issuer).check("status").outcome == "passed"
    change_status(issuer, awarded.record.id, "suspend", reason="under review")
    report = verify_file(awarded.files.png, issuer)
    assert report.check("status").code == Code.SUSPENDED.value and not report.verified
    assert (issuer.settings.out_dir / "status" / "suspension-1.json").exists()
    change_status(issuer, awarded.record.id, "reinstate", reason=None)
    assert verify_file(awarded.files.png, issuer).check("status").outcome == "passed"


def test_suspendable_credential_verifies_before_suspension_and_after_reinstatement(make_issuer, verify_file):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"), suspension=True)

    def failed_checks():
        return [c.check for c in verify_file(awarded.files.png, issuer).checks if c.outcome == "failed"]

    assert failed_checks() == []
    change_status(issuer, awarded.record.id, "suspend", reason="under review")
    assert failed_checks() == ["status"]
    change_status(issuer, awarded.record.id, "reinstate", reason=None)
    assert failed_checks() == []


@pytest.mark.parametrize("steps, refused", [
    (["suspend"], "suspend"),  # issued without a suspension entry
    (["revoke", "reinstate"], "reinstate"),
])
def test_invalid_status_transitions_are_conflicts(make_issuer, steps, refused):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"))
    for step in steps[:-1]:
        change_status(issuer, awarded.record.id, step, reason="r")
    with pytest.raises(Conflict) as caught:
        change_status(issuer, awarded.record.id, refused, reason="r")
    assert caught.value.code == Code.STATUS_CHANGE_INVALID


@pytest.mark.parametrize("steps, again", [(["revoke"], "revoke"), ([], "reinstate"), (["suspend"], "suspend")])
def test_asking_for_the_state_a_credential_is_in_changes_nothing(make_issuer, steps, again):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"), suspension=True)
    for step in steps:
        assert change_status(issuer, awarded.record.id, step, reason="r").changed
    events = issuer.registry.events(credential_id=awarded.record.id)
    lists = [(s.purpose, s.version) for s in issuer.registry.list_status_lists(issuer.issuer_id)]
    done = change_status(issuer, awarded.page_url, again, reason="again")
    assert not done.changed and done.path is None and done.record.id == awarded.record.id
    assert issuer.registry.events(credential_id=awarded.record.id) == events  # nothing logged
    assert [(s.purpose, s.version) for s in issuer.registry.list_status_lists(issuer.issuer_id)] == lists


def test_suspending_a_revoked_suspendable_credential_is_a_conflict(make_issuer):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"), suspension=True)
    change_status(issuer, awarded.record.id, "revoke", reason="r")
    with pytest.raises(Conflict) as caught:
        change_status(issuer, awarded.record.id, "suspend", reason="r")
    assert caught.value.code == Code.STATUS_CHANGE_INVALID


def test_unknown_status_action_is_a_usage_error(make_issuer):
    issuer = make_issuer()
    awarded = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org"))
    with pytest.raises(InputError) as caught:
        change_status(issuer, awarded.record.id, "delete", reason=None)
    assert caught.value.code == Code.USAGE


# -- rosters ----------------------------------------------------------------------------------------


def test_roster_with_bad_rows_is_refused_listing_exactly_those_lines_and_issues_nothing(make_issuer, tmp_path):
    issuer = make_issuer()
    roster = tmp_path / "attendees.csv"
    roster.write_text(_roster_text(), "utf-8")
    with pytest.raises(InputError) as caught:
        issue_roster(issuer, COURSE, roster)
    error = caught.value
    assert error.code == Code.ROSTER_INVALID
    assert {(e["line"], e["field"]) for e in error.details["errors"]} == set(BAD_LINES.items())
    assert "line 10, 50, 90, 130" in error.message and "--skip-invalid" in error.message
    assert issuer.registry.find_credentials(issuer.issuer_id) == []
    assert issuer.registry.list_status_lists(issuer.issuer_id) == []
    assert not (issuer.settings.out_dir / COURSE).exists()


def test_roster_with_an_unknown_column_is_refused_naming_it_when_strict(make_issuer, tmp_path):
    issuer = make_issuer()
    roster = tmp_path / "typo.csv"
    roster.write_text("email,name,credts\nana@example.org,Ana,1\n", "utf-8")
    with pytest.raises(InputError) as caught:
        issue_roster(issuer, COURSE, roster, skip_invalid=True, options=RosterOptions(strict=True))
    assert caught.value.code == Code.ROSTER_INVALID
    assert "'credts'" in caught.value.message and "credits" in caught.value.message
    assert caught.value.details["line"] == 1
    assert issuer.registry.find_credentials(issuer.issuer_id) == []


def test_roster_skip_invalid_issues_the_good_rows_and_a_second_run_issues_nothing(make_issuer, db_url, tmp_path):
    issuer = make_issuer(db_url)
    roster = tmp_path / "attendees.csv"
    roster.write_text(_roster_text(), "utf-8")
    summary = issue_roster(issuer, COURSE, roster, skip_invalid=True)
    assert (summary.created, summary.existing) == (196, 0)
    assert [s.split(",")[0] for s in summary.skipped] == [f"line {n}" for n in sorted(BAD_LINES)]
    stored = issuer.registry.find_credentials(issuer.issuer_id)
    assert len(stored) == 196 and len(_badges(issuer)) == 196
    assert sum(r.credits for r in stored) == pytest.approx(sum(1 if i % 3 == 0 else 1.5 for i in range(200)
                                                              if i + 2 not in BAD_LINES))

    with summary.summary_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.summary_csv == issuer.settings.out_dir / COURSE / "attendees-summary-20261123T120000Z.csv"
    assert {r["status"] for r in rows_all(summary.summary_csv) if r["line"] in map(str, BAD_LINES)} == {"skipped"}
    rows = [r for r in rows if r["status"] != "skipped"]
    assert list(rows[0]) == ["line", "email", "name", "credential_id", "page_url", "status", "differences", "files",
                             "claim_link", "claim_pin", "claim_note"]
    # One wallet claim page per award, opened by its own PIN (issue 20); skipped rows have none.
    assert len({r["claim_link"] for r in rows}) == 196 and all(re.fullmatch(r"\d{6}", r["claim_pin"]) for r in rows)
    assert all(r["claim_link"].startswith(f"{issuer.settings.url}/wallet/claim/") for r in rows)
    assert not any(r["claim_link"] for r in rows_all(summary.summary_csv) if r["status"] == "skipped")
    assert [int(r["line"]) for r in rows] == [n for n in range(2, 202) if n not in BAD_LINES]
    assert {r["status"] for r in rows} == {"new"}
    assert {r["credential_id"] for r in rows} == {r.id for r in stored}
    assert all(Path(f).exists() for r in rows for f in r["files"].split(" "))

    again = issue_roster(issuer, COURSE, roster, skip_invalid=True)
    assert (again.created, again.existing) == (0, 196)
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 196
    assert [a.record.id for a in again.awarded] == [a.record.id for a in summary.awarded]
    assert again.summary_csv != summary.summary_csv and summary.summary_csv.exists()  # never overwritten
    assert again.summary_csv.name == "attendees-summary-20261123T120000Z-2.csv"
    assert {r["status"] for r in rows_all(again.summary_csv)} == {"already issued", "skipped"}
    # Every award's claim page from the first run is still open: the re-run makes none and says where it is.
    assert (again.claim_pages, again.claim_pages_open) == (0, 196) and _offer_count(issuer) == 196
    issued = [r for r in rows_all(again.summary_csv) if r["status"] == "already issued"]
    assert not any(r["claim_link"] or r["claim_pin"] for r in issued)
    assert all(f"badgesmith claim-link {r['credential_id']} --claim-page" in r["claim_note"]
               and "open until 2026-12-23" in r["claim_note"] for r in issued)


def _offer_count(issuer) -> int:
    from sqlalchemy import func, select

    from issuer.store.models import WalletOfferRow

    with issuer.registry.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(WalletOfferRow))


def _claim_secret(row) -> str:
    return row["claim_link"].rsplit("/", 1)[1]


def test_a_roster_rerun_makes_claim_pages_only_for_awards_without_an_open_one(make_issuer, db_url, tmp_path, now):
    """New rows, and awards whose earlier page was closed by wrong PINs or has expired, get a page; the
    others keep the one they have (issue 20)."""
    from datetime import timedelta

    from issuer.awarding import claims

    issuer = make_issuer(db_url)
    roster = tmp_path / "attendees.csv"
    roster.write_text(_roster_text(3, bad=False), "utf-8")
    first = {r["email"]: r for r in rows_all(issue_roster(issuer, COURSE, roster).summary_csv)}
    closed = first["learner1@example.org"]
    wrong = "000000" if closed["claim_pin"] != "000000" else "111111"
    for _ in range(claims.MAX_TX_CODE_FAILURES):
        with pytest.raises(InputError):
            claims.open_offer(issuer, _claim_secret(closed), tx_code=wrong)
    roster.write_text(_roster_text(4, bad=False), "utf-8")  # one attendee more

    again = issue_roster(issuer, COURSE, roster)
    rows = {r["email"]: r for r in rows_all(again.summary_csv)}
    assert (again.created, again.existing, again.claim_pages, again.claim_pages_open) == (1, 3, 2, 2)
    fresh = [e for e, r in rows.items() if r["claim_link"]]
    assert sorted(fresh) == ["learner1@example.org", "learner3@example.org"]
    assert rows["learner1@example.org"]["claim_link"] != closed["claim_link"]
    assert claims.open_offer(issuer, _claim_secret(rows["learner1@example.org"]),
                             tx_code=rows["learner1@example.org"]["claim_pin"]).protocol == "link"
    assert all(not r["claim_link"] and "claim-link" in r["claim_note"]
               for e, r in rows.items() if e not in fresh)
    assert _offer_count(issuer) == 5

    later = make_issuer(db_url, now=now + timedelta(days=32))  # every page of those runs ended over a day ago
    last = issue_roster(later, COURSE, roster)
    assert (last.claim_pages, last.claim_pages_open) == (4, 0)
    assert _offer_count(issuer) == 4  # the five ended ones were pruned as the new ones were made
    assert all(r["claim_link"] and not r["claim_note"] for r in rows_all(last.summary_csv))


def test_interrupted_roster_resumes_without_issuing_any_row_twice(make_issuer, db_url, tmp_path, now):
    issuer = make_issuer(db_url)
    roster = tmp_path / "attendees.csv"
    roster.write_text(_roster_text(bad=False), "utf-8")
    shape = read_roster(roster, achievement=_course_shape(issuer), today=now.date())
    for row in shape.rows[:50]:  # the run that was interrupted after 50 rows
        issuer.issue(COURSE, IssueRequest.from_row(row))
    summary = issue_roster(issuer, COURSE, roster)
    assert (summary.created, summary.existing) == (150, 50)
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 200
    assert len(_badges(issuer)) == 200  # the first 50 got their files on the resumed run
    with summary.summary_csv.open(encoding="utf-8-sig", newline="") as handle:
        statuses = [r["status"] for r in csv.DictReader(handle)]
    assert statuses == ["already issued"] * 50 + ["new"] * 150
    # The 50 stored before were in no summary: they get their claim page now, as the new rows do.
    assert (summary.claim_pages, summary.claim_pages_open) == (200, 0)
    assert all(r["claim_link"] for r in rows_all(summary.summary_csv))


def _course_shape(issuer):
    from issuer.badge.achievement import Achievement

    ob = issuer.achievement(COURSE)["ob"]
    return Achievement(id=COURSE, name=ob["name"], description="d", criteria="c", achievement_type="Course",
                       credits_available=ob["creditsAvailable"])


def test_credential_rows_and_credit_report_sum_ceus_and_leave_out_revoked(make_issuer):
    issuer = make_issuer()
    a = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana", credits=1.5,
                                                  date=date(2026, 10, 1)))
    again = issue_single(issuer, COURSE, IssueRequest(email="ana@example.org", name="Ana", credits=1,
                                                      date=date(2026, 10, 2)))
    issue_single(issuer, CONFERENCE, IssueRequest(email="ana@example.org", name="Ana", credits=1,
                                                  date=date(2026, 10, 2)))
    b = issue_single(issuer, COURSE, IssueRequest(email="bo@example.org", name="Bo", credits=1.5,
                                                  date=date(2026, 10, 2)))
    change_status(issuer, b.record.id, "revoke", reason="r")
    assert not again.created and again.record.id == a.record.id  # one award per person, whatever the date
    rows = credential_rows(issuer, email="ANA@example.org")
    assert [r["credits"] for r in rows] == [1.5, 1] and {r["status"] for r in rows} == {"active"}
    assert rows[0]["page"] == a.page_url
    report = credit_report(issuer, since=date(2026, 10, 1), until=date(2026, 10, 31))
    assert sorted((r["achievement"], r["credentials"], r["ceus"]) for r in report["by_achievement"]) == [
        (CONFERENCE, 1, 1), (COURSE, 1, 1.5)]
    assert [(r["name"], r["ceus"]) for r in report["by_learner"]] == [("Ana", 2.5)]
    assert credit_report(issuer, since=date(2026, 10, 2), until=None)["by_achievement"][0]["ceus"] == 1
