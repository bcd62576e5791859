"""A roster run's worker processes start only when there is enough to sign and never outlive it; its claim
pages are shown or withdrawn."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest

from issuer.awarding import awards
from issuer.awarding.awards import issue_roster
from issuer.awarding.claims import open_offer_ends
from issuer.awarding.roster_workers import POOL_MIN_ROWS, RosterWorkers
from issuer.awarding.wallet_links import LINK_PROTOCOL
from tests.issuer.awarding.test_awarding import _offer_count

COURSE = "storytime-early-literacy"


def _roster(tmp_path, rows: int, name: str = "attendees.csv"):
    path = tmp_path / name
    path.write_text("email,name\n" + "".join(f"p{i}@example.org,Person {i}\n" for i in range(rows)), "utf-8")
    return path


def _watched(monkeypatch) -> list[RosterWorkers]:
    """Every RosterWorkers a run starts, kept to look at afterwards."""
    made: list[RosterWorkers] = []
    original = RosterWorkers.__init__

    def watched(self):
        original(self)
        made.append(self)

    monkeypatch.setattr(RosterWorkers, "__init__", watched)
    return made


def _closed(workers: RosterWorkers) -> bool:
    try:
        workers.pool.submit(print)
    except RuntimeError:  # "cannot schedule new futures after shutdown"
        return True
    return False


def test_workers_start_sign_when_both_have_started_and_close(tmp_path):
    workers = RosterWorkers()
    try:
        workers.wait_started()
        assert workers.ready() is workers.pool
        assert workers.pool.submit(sum, [1, 2]).result(timeout=30) == 3
    finally:
        workers.close()
    assert _closed(workers)


def test_a_run_closes_its_workers_and_a_rerun_with_nothing_new_starts_none(make_issuer, tmp_path, monkeypatch):
    made = _watched(monkeypatch)
    issuer = make_issuer()
    roster = _roster(tmp_path, POOL_MIN_ROWS + 10)
    first = issue_roster(issuer, COURSE, roster)
    assert first.created == POOL_MIN_ROWS + 10 and len(made) == 1 and _closed(made[0])
    rerun = issue_roster(issuer, COURSE, roster)
    assert (rerun.created, rerun.existing) == (0, POOL_MIN_ROWS + 10) and len(made) == 1
    short = issue_roster(issuer, COURSE, _roster(tmp_path, POOL_MIN_ROWS - 1, "few.csv"))
    assert short.created == 0 and len(made) == 1  # the same people: already issued


def _stop_a_run(issuer, roster, monkeypatch, error: BaseException, at: str, **also) -> list[str]:
    """Run ``roster`` with ``awards.<at>`` raising ``error`` (and ``also`` replaced); the awards it issued."""

    def stop(*args, **kwargs):
        raise error

    monkeypatch.setattr(awards, at, stop)
    for name, value in also.items():
        monkeypatch.setattr(awards, name, value)
    with pytest.raises(type(error)):
        issue_roster(issuer, COURSE, roster)
    monkeypatch.undo()
    return [r.id for r in issuer.registry.find_credentials(issuer.issuer_id)]


def test_a_run_that_stops_before_its_summary_withdraws_the_claim_pages_it_made(make_issuer, tmp_path, monkeypatch):
    """Their links and PINs were never shown: the re-run makes new pages, not "still open" ones."""
    issuer = make_issuer()
    roster = _roster(tmp_path, POOL_MIN_ROWS + 10)
    ids = _stop_a_run(issuer, roster, monkeypatch, OSError(28, "No space left on device"), "write_summary_csv")
    assert len(ids) == POOL_MIN_ROWS + 10  # the credentials stay issued
    assert open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL) == {} and _offer_count(issuer) == 0
    rerun = issue_roster(issuer, COURSE, roster)
    assert (rerun.existing, rerun.claim_pages, rerun.claim_pages_open) == (POOL_MIN_ROWS + 10, POOL_MIN_ROWS + 10, 0)
    # Shown in that summary, they stay: a third run reports them open and makes none.
    assert len(open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL)) == POOL_MIN_ROWS + 10
    third = issue_roster(issuer, COURSE, roster)
    assert (third.claim_pages, third.claim_pages_open) == (0, POOL_MIN_ROWS + 10)


def test_a_run_killed_before_its_summary_leaves_no_claim_page_open(make_issuer, tmp_path, monkeypatch):
    """A SIGKILL runs no clean-up: the pages it made were never opened (made pending), so the re-run makes new
    ones and shows their PINs, instead of reporting "still open" pages whose PINs nobody saw."""
    issuer = make_issuer()
    roster = _roster(tmp_path, POOL_MIN_ROWS + 10)
    # The process ends where its summary would be written, and withdraws nothing.
    ids = _stop_a_run(issuer, roster, monkeypatch, KeyboardInterrupt(), "write_summary_csv",
                      withdraw_claim_pages=lambda *args: 0)
    assert len(ids) == POOL_MIN_ROWS + 10 and _offer_count(issuer) == POOL_MIN_ROWS + 10  # made, pending
    assert open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL) == {}
    rerun = issue_roster(issuer, COURSE, roster)
    assert (rerun.existing, rerun.claim_pages, rerun.claim_pages_open) == (POOL_MIN_ROWS + 10, POOL_MIN_ROWS + 10, 0)
    ends = open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL)
    assert len(ends) == POOL_MIN_ROWS + 10 and min(ends.values()) > issuer.now() + timedelta(days=29)
    with rerun.summary_csv.open(newline="", encoding="utf-8") as handle:
        assert all(row["claim_pin"] for row in csv.DictReader(handle))


def test_a_summary_whose_pages_cannot_be_opened_is_not_left_behind(make_issuer, tmp_path, monkeypatch):
    issuer = make_issuer()
    ids = _stop_a_run(issuer, _roster(tmp_path, POOL_MIN_ROWS + 10), monkeypatch, OSError(5, "Input/output error"),
                      "start_claim_pages")
    assert not list((issuer.settings.out_dir / COURSE).glob("*summary*.csv"))  # it showed pages that never open
    assert open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL) == {} and _offer_count(issuer) == 0  # withdrawn
