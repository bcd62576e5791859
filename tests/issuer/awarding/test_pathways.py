"""issuer.awarding.pathways: the Youth Services Certificate example (three micro-credentials + 10 CEUs) awarded once,
one-off and by roster, on SQLite and PostgreSQL, with progress before and after, bad pathway files refused
naming the line, revocation never silently undoing an award, and two processes racing for the same award."""

from __future__ import annotations

import json
import multiprocessing
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from errors import Code, InputError, NotFound
from issuer.awarding.awards import issue_roster, issue_single
from issuer.awarding.status_changes import change_status
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.pathway_definition import load_pathway
from issuer.awarding.pathway_rules import AllOf, Credits, Earn, Held, Listing, NOf, evaluate
from issuer.awarding.pathway_store import PathwayStore
from issuer.awarding.pathways import (add_pathway, audit_pathways, award_due, award_pathways, awards_due, list_pathways,
                             progress)
from tests.issuer.series import make_repeatable

ROOT = Path(__file__).resolve().parents[3]
PATHWAYS = ROOT / "templates" / "pathways"
EXAMPLE = PATHWAYS / "youth-services.toml"
CERTIFICATE = "youth-services-certificate"
EMAIL = "ana@example.org"
# All but the last component: 1.5 + 1.5 + 4 + 2 = 9 of the 10 CEUs, two of the three micro-credentials.
BEFORE_LAST = [("storytime-early-literacy", date(2026, 9, 1)), ("storytime-early-literacy", date(2026, 10, 1)),
               ("inclusive-teen-programming", date(2026, 10, 5)), ("family-engagement", date(2026, 10, 6))]
LAST = ("early-literacy-programming", date(2026, 11, 1))  # 2 CEUs


def _with_pathway(issuer: Issuer) -> Issuer:
    for toml in sorted((PATHWAYS / "achievements").glob("*.toml")):
        issuer.add_achievement(toml)
    add_pathway(issuer, EXAMPLE)
    return make_repeatable(issuer, "storytime-early-literacy")  # given twice below: a series


@pytest.fixture
def ys(make_issuer) -> Issuer:
    """An issuer (SQLite) with the example pathway and its achievements."""
    return _with_pathway(make_issuer())


def _give(issuer: Issuer, email: str, slug: str, day: date, **extra):
    return issue_single(issuer, slug, IssueRequest(email=email, name="Ana Lima", date=day, **extra))


def _certificates(issuer: Issuer) -> list:
    return issuer.registry.find_credentials(issuer.issuer_id, achievement=CERTIFICATE)


# -- the published Achievement --------------------------------------------------------------------


def test_pathway_add_publishes_what_the_certificate_is_made_of(ys):
    ob = ys.achievement(CERTIFICATE)["ob"]
    targets = {a["targetCode"]: a for a in ob["alignment"] if a.get("targetType") == "ceterms:Credential"}
    assert set(targets) == {"inclusive-teen-programming", "early-literacy-programming", "family-engagement"}
    assert targets["family-engagement"]["targetUrl"] == "https://badges.lakeshore.example/achievements/family-engagement"
    narrative = ob["criteria"]["narrative"]
    assert narrative.startswith("Awarded automatically when the pathway below is complete.")
    assert "Inclusive Teen Programming" in narrative and "10 CEUs tagged youth-services within 2 years" in narrative
    add_pathway(ys, EXAMPLE)  # re-adding composes from the issuer's own text, not on top of it
    assert ys.achievement(CERTIFICATE)["ob"] == ob
    assert [p.id for p in list_pathways(ys)] == ["youth-services"]


# -- progress and the award -----------------------------------------------------------------------


def test_progress_before_the_last_component_shows_what_is_left(ys):
    for slug, day in BEFORE_LAST:
        assert _give(ys, EMAIL, slug, day).pathways == ()
    mine = progress(ys, "  Ana@Example.org ")  # the address as the learner types it
    (youth,) = mine.pathways
    assert (mine.email, mine.name, mine.as_of) == (EMAIL, "Ana Lima", date(2026, 11, 23))
    assert not youth.complete and not youth.awarded and youth.award_credential is None
    assert youth.left == ("Early Literacy Programming", "1 more CEU tagged youth-services (earned within 2 years)")
    assert (youth.ceus_counted, youth.ceus_required) == (9.0, 10.0)
    assert sorted(c.achievement for c in youth.done) == sorted(slug for slug, _ in BEFORE_LAST)
    tree = youth.requirements.to_dict()
    assert (tree["kind"], tree["done"], tree["needed"]) == ("all", 2.0, 4.0)
    assert [(c["kind"], c["met"]) for c in tree["children"]] == [
        ("achievement", True), ("achievement", False), ("achievement", True), ("credits", False)]
    json.dumps(mine.to_dict())  # the learner page gets plain JSON


def test_issuing_the_last_component_awards_the_certificate_once(make_issuer, db_url):
    issuer = _with_pathway(make_issuer(db_url))
    components = [_give(issuer, EMAIL, slug, day, organization="Lakeshore PL").record for slug, day in BEFORE_LAST]
    last = _give(issuer, EMAIL, *LAST)
    (award,) = last.pathways
    assert award.created and award.record.achievement == CERTIFICATE
    assert award.record.issued_on == LAST[1]  # the day the pathway was completed
    assert award.record.organization == "Lakeshore PL" and award.record.recipient_name == "Ana Lima"
    assert award.files.png.exists()
    credential = json.loads(award.record.credential)
    evidence = {e["id"]: e for e in credential["evidence"]}
    for record in [*components, last.record]:
        page = issuer.credential_page(record.id)
        assert record.id in evidence[page]["description"]
    assert evidence[issuer.credential_page(last.record.id)]["name"] == "Early Literacy Programming"
    assert any(a.get("targetCode") == "family-engagement"
               for a in credential["credentialSubject"]["achievement"]["alignment"])

    again = _give(issuer, EMAIL, *LAST)  # a repeat of the same award
    assert not again.created and again.pathways == ()
    _give(issuer, EMAIL, "storytime-early-literacy", date(2026, 11, 20))  # more credits later
    assert award_pathways(issuer, EMAIL) == []
    assert [r.id for r in _certificates(issuer)] == [award.record.id]
    (youth,) = progress(issuer, EMAIL).pathways
    assert youth.complete and youth.awarded and youth.award_credential == award.record.id and youth.left == ()


def test_a_pathway_defined_after_people_completed_it_is_awarded_by_the_catch_up(make_issuer, db_url):
    issuer = make_repeatable(make_issuer(db_url), "storytime-early-literacy")
    for toml in sorted((PATHWAYS / "achievements").glob("*.toml")):
        issuer.add_achievement(toml)
    for slug, day in [*BEFORE_LAST, LAST]:
        _give(issuer, EMAIL, slug, day)
    for slug, day in BEFORE_LAST:  # one component short
        _give(issuer, "bo@example.org", slug, day)
    _give(issuer, "cy@example.org", *LAST)
    add_pathway(issuer, EXAMPLE)
    assert _certificates(issuer) == []  # defining a pathway awards nothing by itself
    (due,) = awards_due(issuer)
    assert (due.pathway, due.email, due.name, due.completed_on) == ("youth-services", EMAIL, "Ana Lima", LAST[1])
    (award,) = award_due(issuer)
    assert award.record.achievement == CERTIFICATE and award.record.issued_on == LAST[1]
    assert awards_due(issuer) == [] and award_due(issuer) == []
    assert [r.id for r in _certificates(issuer)] == [award.record.id]


def test_a_roster_run_twice_awards_each_completed_pathway_once(ys, tmp_path):
    learners = [f"learner{i}@example.org" for i in range(3)]
    for email in learners[:2]:  # the third has nothing else: the roster row alone completes nothing
        for slug, day in BEFORE_LAST:
            _give(ys, email, slug, day)
    roster = tmp_path / "elp.csv"
    roster.write_text("email,name,date,organization\n" + "".join(
        f"{email},Learner {i},2026-11-01,{'Harbor County Library' if i else ''}\n"
        for i, email in enumerate(learners)), "utf-8")
    first = issue_roster(ys, LAST[0], roster)
    assert first.created == 3 and len(first.pathway_awards) == 2
    assert {a.record.recipient_name for a in first.pathway_awards} == {"Learner 0", "Learner 1"}
    second = issue_roster(ys, LAST[0], roster)
    assert (second.created, second.existing, second.pathway_awards) == (0, 3, [])
    assert len(_certificates(ys)) == 2
    assert first.to_dict()["pathway_awards"][0]["achievement"] == CERTIFICATE


def test_the_award_verifies_in_badgesmith_verify(ys):
    for slug, day in BEFORE_LAST:
        _give(ys, EMAIL, slug, day)
    (award,) = _give(ys, EMAIL, *LAST).pathways
    result = CliRunner().invoke(main, ["--debug", "verify", str(award.files.png), "--json", "--offline", "--now",
                                       "2026-11-23T12:00:00Z", "--email", EMAIL,
                                       "--documents", str(ys.settings.out_dir / "status")],
                                catch_exceptions=False)
    report = json.loads(result.stdout)
    assert result.exit_code == 0, [c for c in report["checks"] if c["outcome"] != "passed"]
    assert report["credential"]["achievement"]["name"] == "Youth Services Certificate"


# -- revocation and the audit ---------------------------------------------------------------------


def test_revoking_a_component_keeps_the_award_and_the_audit_lists_it(ys):
    records = [_give(ys, EMAIL, slug, day).record for slug, day in BEFORE_LAST]
    (award,) = _give(ys, EMAIL, *LAST).pathways
    assert audit_pathways(ys) == []
    change_status(ys, records[2].id, "revoke", reason="plagiarised program plan")
    assert ys.registry.get_credential(award.record.id).status == "active"
    (finding,) = audit_pathways(ys)
    assert (finding.pathway, finding.kind, finding.credential_id) == ("youth-services", "unmet", award.record.id)
    assert finding.withdrawn == (records[2].id,) and "Inclusive Teen Programming" in finding.left
    assert award_pathways(ys, EMAIL) == []  # never re-awarded, never revoked automatically
    change_status(ys, award.record.id, "revoke", reason="component revoked")
    assert audit_pathways(ys) == []  # decided


# -- bad input ------------------------------------------------------------------------------------


BAD_FILES = {
    "unknown achievement": ('[requirements]\nall = [\n  "family-engagement",\n  "family-engagment",\n]\n',
                            7, "requirements.all[1]", "unknown achievement 'family-engagment' (did you mean "
                            "'family-engagement'?)"),
    "negative credits": ('[requirements]\ncredits = { min = -10, tags = ["youth-services"] }\n', 5,
                         "requirements.credits.min", "above 0"),
    "zero credits": ('[requirements]\ncredits = { min = 0 }\n', 5, "requirements.credits.min", "above 0"),
    "zero n": ('[requirements]\nn_of = { n = 0, of = ["family-engagement"] }\n', 5, "requirements.n_of.n",
               "1 or more"),
    "bad duration": ('[requirements]\nall = ["family-engagement"]\nwithin = "two years"\n', 6,
                     "requirements.within", "is not a duration"),
    "own award": ('[requirements]\nall = ["family-engagement", "youth-services-certificate"]\n', 5,
                  "requirements.all[1]", "which this pathway itself awards"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_pathway_file_is_refused_naming_line_and_field_and_nothing_changes(ys, tmp_path, case):
    body, line, field, words = BAD_FILES[case]
    path = tmp_path / "bad.toml"
    path.write_text('id = "bad"\nname = "Bad"\nawards = "youth-services-certificate"\n' + body, "utf-8")
    before = ys.achievement(CERTIFICATE)
    with pytest.raises(InputError) as caught:
        add_pathway(ys, path)
    error = caught.value
    assert error.code is Code.PATHWAY_INVALID, error
    assert (error.details["line"], error.details["field"]) == (line, field)
    assert error.message.startswith(f"bad.toml, line {line}: ") and words in error.message
    assert [p.id for p in list_pathways(ys)] == ["youth-services"]
    assert ys.achievement(CERTIFICATE) == before


def test_a_cycle_through_another_pathway_is_refused(ys, tmp_path):
    # "advanced" awards the certification and requires the certificate;
    # re-adding "youth-services" to require the certification closes the loop.
    advanced = tmp_path / "advanced.toml"
    advanced.write_text('id = "advanced"\nname = "Advanced"\nawards = "certified-youth-services-librarian"\n'
                        '[requirements]\nall = ["youth-services-certificate"]\n', "utf-8")
    add_pathway(ys, advanced)
    looped = tmp_path / "youth-services.toml"
    looped.write_text(EXAMPLE.read_text("utf-8").replace('"family-engagement",',
                                                         '"family-engagement",\n  "certified-youth-services-librarian",'),
                      "utf-8")
    with pytest.raises(InputError) as caught:
        add_pathway(ys, looped)
    assert caught.value.code is Code.PATHWAY_INVALID
    assert "cycle: youth-services → advanced → youth-services" in caught.value.message
    assert caught.value.details["line"] == looped.read_text().splitlines().index(
        '  "certified-youth-services-librarian",') + 1


def test_progress_for_an_unknown_or_malformed_address_is_a_clear_error(ys):
    with pytest.raises(NotFound) as caught:
        progress(ys, "nobody@example.org")
    assert caught.value.code is Code.LEARNER_NOT_FOUND and "nobody@example.org" in caught.value.message
    with pytest.raises(InputError) as caught:
        progress(ys, "not-an-address")
    assert caught.value.code is Code.RECIPIENT_INVALID


def test_a_roster_with_an_empty_organization_stores_none(ys, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("email,organization\na@example.org,\nb@example.org,  \nc@example.org,Harbor PL\n", "utf-8")
    issue_roster(ys, "storytime-early-literacy", roster)
    stored = {r.recipient_email: r.organization for r in ys.registry.find_credentials(ys.issuer_id)}
    assert stored == {"a@example.org": None, "b@example.org": None, "c@example.org": "Harbor PL"}


# -- the requirement tree on its own --------------------------------------------------------------


def _held(slug: str, day: date, credits: float = 1.0, status: str = "active") -> Held:
    return Held(f"urn:uuid:{slug}-{day}", slug, day, credits, status=status)


CATALOG = {"a": Listing("A", ("x",)), "b": Listing("B", ("x",), "LIS"), "c": Listing("C", (), "LIS")}


def test_n_of_within_needs_n_distinct_items_inside_one_window():
    node = NOf(2, (Earn("a"), Earn("b"), Earn("c")), within="1y")
    apart = [_held("a", date(2024, 1, 1)), _held("b", date(2025, 6, 1))]
    assert not evaluate(node, apart, CATALOG, today=date(2026, 1, 1)).met
    close = apart + [_held("c", date(2025, 12, 1))]
    outcome = evaluate(node, close, CATALOG, today=date(2026, 1, 1))
    assert outcome.met and outcome.completed_on == date(2025, 12, 1)
    assert {h.achievement for h in outcome.used} == {"b", "c"}


# A window is [start, start + within] on the calendar. When nothing completes the requirement, progress is
# shown in the window reaching today: from the earliest start whose window still reaches today.

def test_progress_window_reaching_today_starts_on_the_calendar_day_within_before_it():
    node = Credits(3, within="1m")
    today = date(2026, 5, 30)  # Apr 30 + 1m = May 30; Apr 29 + 1m = May 29
    outcome = evaluate(node, [_held("a", date(2026, 4, 29)), _held("a", date(2026, 4, 30)),
                              _held("a", date(2026, 5, 30))], CATALOG, today=today)
    assert not outcome.met and outcome.done == 2  # Apr 30 and May 30 count, Apr 29 does not
    assert [h.issued_on for h in outcome.used] == [date(2026, 4, 30), date(2026, 5, 30)]


def test_progress_window_reaching_a_month_end_skips_the_clamped_day():
    node = Credits(3, within="1m")
    today = date(2026, 3, 31)  # Feb 28 + 1m = Mar 28 (does not reach today); Mar 1 + 1m = Apr 1
    outcome = evaluate(node, [_held("a", date(2026, 2, 28)), _held("a", date(2026, 3, 1)),
                              _held("a", date(2026, 3, 31))], CATALOG, today=today)
    assert not outcome.met and outcome.done == 2  # Mar 1 and Mar 31 count, Feb 28 does not


def test_progress_window_counts_what_today_minus_the_next_months_length_left_out():
    node = Credits(3, within="1m")
    today = date(2026, 2, 28)  # Jan 28 + 1m = Feb 28: Jan 28 still counts (the old start was Jan 31)
    outcome = evaluate(node, [_held("a", date(2026, 1, 27)), _held("a", date(2026, 1, 28)),
                              _held("a", date(2026, 2, 28))], CATALOG, today=today)
    assert not outcome.met and outcome.done == 2


@pytest.mark.parametrize("first, today", [
    (date(2026, 1, 29), date(2026, 3, 1)),   # Jan 29 + 1m = Feb 28
    (date(2026, 4, 29), date(2026, 5, 30)),  # Apr 29 + 1m = May 29
    (date(2026, 2, 28), date(2026, 3, 31)),  # Feb 28 + 1m = Mar 28 (today minus 1m on the calendar)
])
def test_two_credentials_no_window_holds_are_not_met(first, today):
    node = AllOf((Earn("a"), Earn("b")), within="1m")
    outcome = evaluate(node, [_held("a", first), _held("b", today)], CATALOG, today=today)
    assert not outcome.met and outcome.completed_on is None and outcome.done == 1


def test_credits_filter_by_tag_or_field_and_ignore_revoked():
    held = [_held("a", date(2026, 1, 1), 3), _held("b", date(2026, 2, 1), 3), _held("c", date(2026, 3, 1), 3),
            _held("a", date(2026, 4, 1), 9, status="revoked")]
    by_tag = evaluate(Credits(6, tags=("x",)), held, CATALOG, today=date(2026, 5, 1))
    assert by_tag.met and by_tag.completed_on == date(2026, 2, 1) and by_tag.done == 6
    by_field = evaluate(Credits(7, field_of_study="lis"), held, CATALOG, today=date(2026, 5, 1))
    assert not by_field.met and by_field.done == 6
    nested = AllOf((Earn("c"), Credits(6, tags=("x",))))
    assert evaluate(nested, held, CATALOG, today=date(2026, 5, 1)).completed_on == date(2026, 3, 1)


def test_load_pathway_reads_nested_tables(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('id = "p"\nname = "P"\nawards = "d"\n[requirements]\n'
                    'all = ["a", { n_of = { n = 1, of = ["b", "c"] }, within = "6m" }]\n', "utf-8")
    pathway = load_pathway(path, achievements={"a": {}, "b": {}, "c": {}, "d": {}}, pathways={})
    assert pathway.requirements == AllOf((Earn("a"), AllOf((NOf(1, (Earn("b"), Earn("c"))),), "6m")))


# -- two processes, one PostgreSQL ----------------------------------------------------------------


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
RACERS = [f"racer{i}@example.org" for i in range(6)]


def _race(home: str, url: str, slug: str, barrier, results) -> None:
    issuer = Issuer.open(Path(home), database_url=url, now=lambda: NOW)
    barrier.wait()
    created = []
    for email in RACERS:
        awarded = issue_single(issuer, slug, IssueRequest(email=email, date=date(2026, 11, 1)))
        created += [a.record.id for a in awarded.pathways if a.created]
    issuer.close()
    results.put(created)


def test_two_processes_issuing_the_last_components_award_the_pathway_once(make_issuer, postgres_url, tmp_path):
    from sqlalchemy import create_engine, text

    url = postgres_url.rsplit("/", 1)[0] + "/pathway_race"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "pathway_race" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "pathway_race"'))
    admin.dispose()
    issuer = _with_pathway(make_issuer(url))
    for email in RACERS:  # all but two micro-credentials, which the two processes issue at once
        for slug, day in BEFORE_LAST[:3]:
            _give(issuer, email, slug, day)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_race, args=(str(issuer.settings.home), url, slug, barrier, results))
               for slug in ("family-engagement", "early-literacy-programming")]
    for worker in workers:
        worker.start()
    created = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    certificates = _certificates(issuer)
    assert len(certificates) == len(RACERS) == len(created[0]) + len(created[1])
    assert len({c.lookup_key for c in certificates}) == len(RACERS)
    awards = PathwayStore(issuer.registry).list_awards(issuer.issuer_id)
    assert sorted(a.credential_id for a in awards) == sorted(c.id for c in certificates)


def _race_award(home: str, url: str, barrier, results) -> None:
    issuer = Issuer.open(Path(home), database_url=url, now=lambda: NOW)
    barrier.wait()
    results.put([i.record.id for email in RACERS for i in award_pathways(issuer, email) if i.created])
    issuer.close()


def test_two_processes_evaluating_the_same_learners_at_once_award_once(make_issuer, db_url):
    """The pathway is added after the learners completed it: both processes find it complete and claim it."""
    issuer = make_repeatable(make_issuer(db_url), "storytime-early-literacy")
    for toml in sorted((PATHWAYS / "achievements").glob("*.toml")):
        issuer.add_achievement(toml)
    for email in RACERS:
        for slug, day in [*BEFORE_LAST, LAST]:
            _give(issuer, email, slug, day)
    add_pathway(issuer, EXAMPLE)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_race_award, args=(str(issuer.settings.home), db_url, barrier, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    created = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    certificates = _certificates(issuer)
    assert len(certificates) == len(RACERS) == len(created[0]) + len(created[1])
    assert all(c.issued_on == LAST[1] for c in certificates)


def test_a_claim_left_pending_by_a_crash_is_listed_and_finished_by_the_next_evaluation(ys):
    from issuer.badge.recipient import lookup_key

    for slug, day in [*BEFORE_LAST, LAST]:
        _give(ys, EMAIL, slug, day)
    store = PathwayStore(ys.registry)
    key = lookup_key(EMAIL, ys.settings.lookup_secret)
    # What a server that died right after claiming leaves behind (the award is made by hand here):
    with ys.registry.session() as s:
        from issuer.store.models import PathwayAwardRow

        row = s.query(PathwayAwardRow).one()
        claimed_components, row.credential_id = row.components, None
    assert [(f.kind, f.credential_id) for f in audit_pathways(ys)] == [("pending", None)]
    (finished,) = award_pathways(ys, EMAIL)
    assert not finished.created  # the same award (same date), found again rather than signed twice
    (award,) = store.list_awards(ys.issuer_id)
    assert award.credential_id == finished.record.id and award.components == claimed_components
    assert award.lookup_key == key and audit_pathways(ys) == []


def _with_second_pathway(issuer: Issuer, tmp_path: Path) -> Issuer:
    """The example pathway, and "teen" (the teen-programming micro-credential earns the certification)."""
    teen = tmp_path / "teen.toml"
    teen.write_text('id = "teen"\nname = "Teen"\nawards = "certified-youth-services-librarian"\n'
                    '[requirements]\nall = ["inclusive-teen-programming"]\n', "utf-8")
    add_pathway(_with_pathway(issuer), teen)
    return issuer


def test_a_pending_claim_beside_an_award_is_finished_not_taken_for_awarded(make_issuer, db_url, tmp_path):
    """Evaluation reads the awarded pathways with the credentials to skip the awards query; a claim whose
    credential was never issued is not among them, so it still goes through the claim and finish path."""
    from issuer.store.models import PathwayAwardRow
    from issuer.badge.recipient import lookup_key

    issuer = _with_second_pathway(make_issuer(db_url), tmp_path)
    for slug, day in [*BEFORE_LAST, LAST]:
        _give(issuer, EMAIL, slug, day)
    store = PathwayStore(issuer.registry)
    key = lookup_key(EMAIL, issuer.settings.lookup_secret)
    assert store.learner(issuer.issuer_id, key, with_awards=False).awarded == {"teen", "youth-services"}
    with issuer.registry.session() as s:  # a server died after claiming youth-services, before signing it
        row = s.query(PathwayAwardRow).filter_by(pathway="youth-services").one()
        row.credential_id = None
    assert store.learner(issuer.issuer_id, key, with_awards=False).awarded == {"teen"}
    (finished,) = award_pathways(issuer, EMAIL)
    assert finished.record.achievement == CERTIFICATE and not finished.created
    assert {a.pathway: a.credential_id for a in store.list_awards(issuer.issuer_id)}["youth-services"] \
        == finished.record.id
    assert store.learner(issuer.issuer_id, key, with_awards=False).awarded == {"teen", "youth-services"}
    assert store.learner(issuer.issuer_id, "nobody", with_awards=False).awarded == frozenset()


def test_evaluating_someone_whose_complete_pathways_were_all_awarded_is_one_query(make_issuer, db_url, tmp_path,
                                                                                  monkeypatch):
    from sqlalchemy import event

    issuer = _with_second_pathway(make_issuer(db_url), tmp_path)
    for slug, day in [*BEFORE_LAST, LAST]:
        _give(issuer, EMAIL, slug, day)
    assert award_pathways(issuer, EMAIL) == []  # warm: the definitions are cached per process
    statements = []
    event.listen(issuer.registry.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def unread(*args, **kwargs):
        raise AssertionError("the awards were read although every complete pathway was awarded")

    monkeypatch.setattr(PathwayStore, "awards_of", unread)
    assert award_pathways(issuer, EMAIL) == []
    assert len([s for s in statements if s.startswith("SELECT")]) == 1, statements  # (SQLite's BEGIN aside)
