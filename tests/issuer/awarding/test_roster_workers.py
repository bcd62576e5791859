"""A roster run's worker processes start only when there is enough to sign and never outlive it; its claim
pages are shown or withdrawn."""

from __future__ import annotations

import pytest

from issuer.awarding import awards
from issuer.awarding.awards import issue_roster
from issuer.awarding.claims import open_offer_ends
from issuer.awarding.roster_workers import POOL_MIN_ROWS, RosterWorkers
from issuer.awarding.wallet_links import LINK_PROTOCOL

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


def test_a_run_that_stops_before_its_summary_withdraws_the_claim_pages_it_made(make_issuer, tmp_path, monkeypatch):
    """Their links and PINs were never shown: the re-run makes new pages, not "still open" ones."""
    issuer = make_issuer()
    roster = _roster(tmp_path, POOL_MIN_ROWS + 10)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(awards, "write_summary_csv", full_disk)
    with pytest.raises(OSError):
        issue_roster(issuer, COURSE, roster)
    ids = [r.id for r in issuer.registry.find_credentials(issuer.issuer_id)]
    assert len(ids) == POOL_MIN_ROWS + 10  # the credentials stay issued
    assert open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL) == {}
    monkeypatch.undo()
    rerun = issue_roster(issuer, COURSE, roster)
    assert (rerun.existing, rerun.claim_pages, rerun.claim_pages_open) == (POOL_MIN_ROWS + 10, POOL_MIN_ROWS + 10, 0)
    # Shown in that summary, they stay: a third run reports them open and makes none.
    assert len(open_offer_ends(issuer, ids, protocol=LINK_PROTOCOL)) == POOL_MIN_ROWS + 10
    third = issue_roster(issuer, COURSE, roster)
    assert (third.claim_pages, third.claim_pages_open) == (0, POOL_MIN_ROWS + 10)
