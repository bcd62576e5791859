"""The registry on real databases: SQLite files and a throwaway PostgreSQL cluster."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from errors import Code, ConfigError, Conflict, InputError, NotFound, ServiceUnavailable
from issuer.store import registry as registry_module
from issuer.store.models import Base, NewCredential, StatusAllocationRow
from issuer.store.registry import Registry
from issuer.badge.status import StatusEntry
from verifier.status import MIN_LIST_SIZE, bit_is_set

DID = "did:web:badges.example.org"
STATUS_URL = "https://badges.example.org/status/{purpose}/{seq}"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sign(entries: Sequence[StatusEntry]) -> str:
    """A stand-in signer: the real one puts the entries in credentialStatus the same way."""
    return json.dumps({"credentialStatus": [entry.to_dict() for entry in entries]})


def new(n: int | str, *, achievement: str = "ceu-101", issued_on: date = date(2026, 3, 1),
        credits: float | None = 1.5, suspension: bool = False, name: str | None = None) -> NewCredential:
    return NewCredential(
        id=f"urn:uuid:{achievement}-{n}-{issued_on}", achievement=achievement,
        recipient_hash=f"sha256${n:0>64}" if isinstance(n, str) else f"sha256${n:064d}",
        lookup_key=f"lookup-{n}", issued_on=issued_on, valid_from=NOW, credits=credits,
        recipient_name=name or f"Learner {n}", suspension=suspension,
    )


def prepare(registry: Registry) -> int:
    issuer = registry.ensure_issuer(DID, name="Continuing Education", url="https://example.org")
    for slug in ("ceu-101", "ceu-202"):
        registry.put_achievement(issuer.id, slug, {"name": slug.upper(), "creditsAvailable": 1.5})
    return issuer.id


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    registry = Registry.from_url(db_url)
    registry.migrate()
    yield registry
    registry.dispose()


@pytest.fixture
def issuer_id(registry: Registry) -> int:
    return prepare(registry)


def test_migrate_on_an_empty_database_gives_exactly_the_models(registry):
    with registry.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    assert diff == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    registry.migrate()  # a second run is a no-op


def test_ensure_issuer_creates_once_then_updates(registry):
    first = registry.ensure_issuer(DID, name="Old", url="https://example.org")
    second = registry.ensure_issuer(DID, name="New", url="https://example.org", email="ce@example.org",
                                    profile={"type": ["Profile"]})
    assert second.id == first.id
    assert registry.get_issuer(DID) == second
    assert second.name == "New" and second.profile == {"type": ["Profile"]}
    assert registry.get_issuer("did:web:nobody") is None


def test_keys_are_public_only_and_can_be_retired(registry, issuer_id):
    registry.add_key(issuer_id, f"{DID}#key-1", "z6MkOne", file="keys/key-1.pem", now=NOW)
    registry.add_key(issuer_id, f"{DID}#key-2", "z6MkTwo", now=NOW)
    retired = registry.retire_key(issuer_id, f"{DID}#key-1", now=NOW)
    assert retired.retired_at == NOW
    assert [k.key_id for k in registry.list_keys(issuer_id)] == [f"{DID}#key-1", f"{DID}#key-2"]
    assert [k.key_id for k in registry.list_keys(issuer_id, include_retired=False)] == [f"{DID}#key-2"]
    with pytest.raises(Conflict) as raised:
        registry.add_key(issuer_id, f"{DID}#key-2", "z6MkTwo")
    assert raised.value.code is Code.DATABASE_ERROR
    with pytest.raises(NotFound):
        registry.retire_key(issuer_id, f"{DID}#missing")


def test_achievements_put_replaces_and_lists_by_slug(registry, issuer_id):
    registry.put_achievement(issuer_id, "ceu-101", {"name": "Renamed"})
    assert registry.get_achievement(issuer_id, "ceu-101").definition == {"name": "Renamed"}
    assert [a.slug for a in registry.list_achievements(issuer_id)] == ["ceu-101", "ceu-202"]
    assert registry.get_achievement(issuer_id, "nope") is None


def test_issue_stores_the_signed_credential_with_its_status_entry(registry, issuer_id):
    issued = registry.issue(issuer_id, new(1), sign, status_url=STATUS_URL, actor="alice", now=NOW)
    record = issued.record
    assert issued.created and record.status == "active" and record.credits == 1.5
    (entry,) = json.loads(record.credential)["credentialStatus"]
    assert entry["statusListCredential"] == "https://badges.example.org/status/revocation/1"
    assert entry["statusListIndex"] == str(record.status_index)
    assert record.suspension_list_id is None
    stored = registry.get_credential(record.id)
    assert stored == registry.find_credentials(issuer_id)[0]
    assert stored.valid_from == NOW and stored.issued_on == date(2026, 3, 1)
    assert [(e.kind, e.actor) for e in registry.events(credential_id=record.id)] == [("issued", "alice")]
    assert registry.get_credential(record.id, issuer_id=issuer_id + 1) is None


def test_issue_same_person_achievement_and_date_twice_stores_one_row(registry, issuer_id):
    calls = []

    def counting_sign(entries):
        calls.append(entries)
        return sign(entries)

    first = registry.issue(issuer_id, new(7), counting_sign, status_url=STATUS_URL)
    again = registry.issue(issuer_id, new(7), counting_sign, status_url=STATUS_URL)
    assert first.created and not again.created
    assert again.record == first.record and len(calls) == 1
    assert len(registry.find_credentials(issuer_id)) == 1
    other_day = registry.issue(issuer_id, new(7, issued_on=date(2026, 3, 2)), sign, status_url=STATUS_URL)
    assert other_day.created


def test_issue_with_suspension_gets_a_slot_in_each_list(registry, issuer_id):
    record = registry.issue(issuer_id, new(1, suspension=True), sign, status_url=STATUS_URL).record
    purposes = [e["statusPurpose"] for e in json.loads(record.credential)["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    lists = {(l.purpose, l.seq): l for l in registry.list_status_lists(issuer_id)}
    assert lists[("suspension", 1)].id == record.suspension_list_id
    assert lists[("suspension", 1)].url == "https://badges.example.org/status/suspension/1"
    assert lists[("revocation", 1)].size == MIN_LIST_SIZE


def test_status_indexes_are_random_and_unique_over_2000_credentials(registry, issuer_id):
    indexes = [registry.issue(issuer_id, new(i), sign, status_url=STATUS_URL).record.status_index
               for i in range(2000)]
    assert len(set(indexes)) == 2000
    assert len(registry.list_status_lists(issuer_id)) == 1
    steps = [b - a for a, b in zip(indexes, indexes[1:])]
    assert steps.count(1) < 10, "indexes look sequential"
    assert indexes != sorted(indexes)
    assert max(indexes) - min(indexes) > MIN_LIST_SIZE // 2  # spread over the whole list


def test_a_crowded_list_is_retired_and_the_next_one_opened(db_url):
    registry = Registry.from_url(db_url, randbelow=lambda size: 7)  # every draw collides after the first
    registry.migrate()
    issuer_id = prepare(registry)
    first = registry.issue(issuer_id, new(1), sign, status_url=STATUS_URL).record
    second = registry.issue(issuer_id, new(2), sign, status_url=STATUS_URL).record
    assert (first.status_index, second.status_index) == (7, 7)
    assert first.status_list_id != second.status_list_id
    assert [l.seq for l in registry.list_status_lists(issuer_id)] == [1, 2]
    registry.dispose()


def test_a_failing_signer_leaves_no_credential_and_no_reserved_slot(registry, issuer_id):
    def broken_sign(entries):
        raise RuntimeError("HSM unplugged")

    with pytest.raises(RuntimeError):
        registry.issue(issuer_id, new(1), broken_sign, status_url=STATUS_URL)
    assert registry.find_credentials(issuer_id) == []
    with registry.session() as s:
        assert s.scalar(select(func.count()).select_from(StatusAllocationRow)) == 0


def test_issue_for_an_unknown_achievement_is_a_wrapped_conflict(registry, issuer_id):
    with pytest.raises(Conflict) as raised:
        registry.issue(issuer_id, new(1, achievement="never-defined"), sign, status_url=STATUS_URL)
    assert raised.value.code is Code.DATABASE_ERROR
    assert "Traceback" not in str(raised.value) and "\n" not in str(raised.value)


def test_issue_with_a_bad_status_url_template_is_refused(registry, issuer_id):
    with pytest.raises(ConfigError) as raised:
        registry.issue(issuer_id, new(1), sign, status_url="https://badges.example.org/status")
    assert raised.value.code is Code.CONFIG_INVALID


def _bit(registry, issuer_id, purpose, index):
    (lst,) = [l for l in registry.list_status_lists(issuer_id) if l.purpose == purpose]
    return bit_is_set(lst.bits, index), lst.version


def test_suspend_reinstate_revoke_flip_the_right_bits_and_write_events(registry, issuer_id):
    record = registry.issue(issuer_id, new(1, suspension=True), sign, status_url=STATUS_URL).record
    bystander = registry.issue(issuer_id, new(2, suspension=True), sign, status_url=STATUS_URL).record
    rev, sus = record.status_index, record.suspension_index

    assert registry.set_status(record.id, "suspend", actor="bob", reason="audit").status == "suspended"
    assert _bit(registry, issuer_id, "suspension", sus)[0] and not _bit(registry, issuer_id, "revocation", rev)[0]
    assert registry.set_status(record.id, "reinstate", actor="bob").status == "active"
    assert not _bit(registry, issuer_id, "suspension", sus)[0]
    revoked = registry.set_status(record.id, "revoke", actor="carol", reason="fraud", now=NOW)
    assert revoked.status == "revoked" and registry.get_credential(record.id).status == "revoked"
    assert _bit(registry, issuer_id, "revocation", rev) == (True, 2)

    for purpose, index in (("revocation", bystander.status_index), ("suspension", bystander.suspension_index)):
        assert not _bit(registry, issuer_id, purpose, index)[0]
    events = registry.events(credential_id=record.id)
    assert [(e.kind, e.actor, e.reason) for e in events] == [
        ("issued", "badgesmith", None), ("suspended", "bob", "audit"), ("reinstated", "bob", None),
        ("revoked", "carol", "fraud")]
    assert events[-1].at == NOW and events[-1].details["index"] == rev


@pytest.mark.parametrize(("steps", "action"), [
    (["revoke"], "revoke"), (["revoke"], "reinstate"), (["revoke"], "suspend"),
    ([], "reinstate"), (["suspend"], "suspend"),
])
def test_invalid_status_changes_raise_status_change_invalid(registry, issuer_id, steps, action):
    record = registry.issue(issuer_id, new(1, suspension=True), sign, status_url=STATUS_URL).record
    for step in steps:
        registry.set_status(record.id, step, actor="bob")
    before = registry.list_status_lists(issuer_id)
    with pytest.raises(Conflict) as raised:
        registry.set_status(record.id, action, actor="bob")
    assert raised.value.code is Code.STATUS_CHANGE_INVALID
    assert registry.list_status_lists(issuer_id) == before
    assert len(registry.events(credential_id=record.id)) == 1 + len(steps)


def test_suspending_a_credential_issued_without_a_suspension_slot_is_refused(registry, issuer_id):
    record = registry.issue(issuer_id, new(1), sign, status_url=STATUS_URL).record
    with pytest.raises(Conflict) as raised:
        registry.set_status(record.id, "suspend", actor="bob")
    assert raised.value.code is Code.STATUS_CHANGE_INVALID


def test_status_change_of_unknown_credential_or_action(registry, issuer_id):
    with pytest.raises(NotFound) as raised:
        registry.set_status("urn:uuid:missing", "revoke", actor="bob")
    assert raised.value.code is Code.CREDENTIAL_NOT_FOUND
    with pytest.raises(InputError):
        registry.set_status("urn:uuid:missing", "delete", actor="bob")


def test_find_credentials_filters_by_achievement_learner_and_dates(registry, issuer_id):
    for n, achievement, day in [(1, "ceu-101", 1), (1, "ceu-202", 5), (2, "ceu-101", 10)]:
        registry.issue(issuer_id, new(n, achievement=achievement, issued_on=date(2026, 3, day)), sign,
                       status_url=STATUS_URL)
    ids = lambda **kw: [(r.lookup_key, r.achievement) for r in registry.find_credentials(issuer_id, **kw)]
    assert ids(achievement="ceu-101") == [("lookup-1", "ceu-101"), ("lookup-2", "ceu-101")]
    assert ids(lookup_key="lookup-1") == [("lookup-1", "ceu-101"), ("lookup-1", "ceu-202")]
    assert ids(since=date(2026, 3, 5), until=date(2026, 3, 5)) == [("lookup-1", "ceu-202")]


def test_report_sums_ceus_per_achievement_and_learner_in_range_without_revoked(registry, issuer_id):
    rows = [(1, "ceu-101", 1, 1.5), (1, "ceu-202", 2, 3.0), (2, "ceu-101", 3, 1.5),
            (3, "ceu-101", 4, 0.25), (2, "ceu-202", 30, 10.0)]  # the last one is outside the range
    for n, achievement, day, credits in rows:
        registry.issue(issuer_id, new(n, achievement=achievement, issued_on=date(2026, 3, day), credits=credits,
                                      name=f"Learner {n}"), sign, status_url=STATUS_URL)
    revoked = registry.find_credentials(issuer_id, lookup_key="lookup-3")[0]
    registry.set_status(revoked.id, "revoke", actor="bob")
    report = registry.report(issuer_id, since=date(2026, 3, 1), until=date(2026, 3, 15))
    assert [(t.achievement, t.credentials, t.credits) for t in report.by_achievement] == [
        ("ceu-101", 2, 3.0), ("ceu-202", 1, 3.0)]
    assert [(t.recipient_name, t.credentials, t.credits) for t in report.by_learner] == [
        ("Learner 1", 2, 4.5), ("Learner 2", 1, 1.5)]
    assert registry.report(issuer_id, since=date(2027, 1, 1)).by_learner == ()


def test_an_unreachable_postgresql_server_is_a_config_error():
    registry = Registry.from_url("postgresql://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(ConfigError) as raised:
        registry.migrate()
    assert raised.value.code is Code.DATABASE_ERROR
    assert "secret" not in str(raised.value) and "\n" not in str(raised.value)


def test_a_database_without_tables_is_a_config_error(tmp_path):
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(ConfigError) as raised:
        registry.list_achievements(1)
    assert raised.value.code is Code.DATABASE_ERROR


def test_a_bad_database_url_is_a_config_error():
    with pytest.raises(ConfigError) as raised:
        Registry.from_url("nosuchdb://x")
    assert raised.value.code is Code.DATABASE_ERROR


def _end_other_sessions(registry: Registry) -> None:
    """What a server restart does to the pooled connections: the server ends them."""
    admin = create_engine(registry.engine.url)
    try:
        with admin.connect() as connection:
            ended = connection.execute(text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        assert ended >= 1
    finally:
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("idle_after", [0.0, 3600.0], ids=["pinged-as-idle", "server-wrote-to-it"])
def test_a_pooled_connection_the_server_ended_is_replaced_unnoticed(registry, issuer_id, monkeypatch, idle_after):
    # 0.0: every reused connection counts as idle and is pinged. 3600: none does, but the server's
    # goodbye (a restart ends sessions the same way) waits on the socket, and that alone gets it pinged.
    monkeypatch.setattr(registry_module, "_PING_AFTER_IDLE_S", idle_after)
    assert registry.get_issuer(DID).id == issuer_id
    _end_other_sessions(registry)
    assert registry.get_issuer(DID).id == issuer_id  # the ping found it dead: a new connection served this


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_connection_ended_in_use_fails_its_session_with_database_error_and_the_next_reconnects(registry,
                                                                                               issuer_id):
    with pytest.raises(ConfigError) as raised, registry.session(write=False) as s:
        s.execute(select(1))
        _end_other_sessions(registry)
        s.execute(select(1))
    assert raised.value.code is Code.DATABASE_ERROR and "\n" not in str(raised.value)
    assert isinstance(raised.value, ServiceUnavailable) and raised.value.http_status == 503  # worth a retry
    assert registry.get_issuer(DID).id == issuer_id


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_reads_on_postgresql_run_without_a_transaction_and_writes_within_one(registry, issuer_id):
    # Two round trips fewer per read session (BEGIN, COMMIT); writes stay one transaction each.
    for write, expected in ((False, "IDLE"), (True, "INTRANS")):
        with registry.session(write=write) as s:
            assert s.scalar(select(func.count()).select_from(Base.metadata.tables["issuers"])) == 1
            assert s.connection().connection.driver_connection.info.transaction_status.name == expected


# -- two processes racing on one database -------------------------------------------------


def _issue_many(url: str, worker: int, barrier, results) -> None:
    registry = Registry.from_url(url)
    issuer_id = registry.ensure_issuer(DID, name="Continuing Education", url="https://example.org").id
    barrier.wait()
    created = []
    for i in range(200):
        # Each worker has its own 200 learners and races the other on 100 shared ones.
        for n in (f"w{worker}-{i}", f"shared-{i % 100}"):
            issued = registry.issue(issuer_id, new(n, suspension=i % 2 == 0), sign, status_url=STATUS_URL)
            if issued.created:
                created.append(issued.record.id)
    registry.dispose()
    results.put(created)


def test_two_processes_issuing_at_once_never_share_an_index_or_issue_twice(db_url):
    registry = Registry.from_url(db_url)
    registry.migrate()
    issuer_id = prepare(registry)
    context = multiprocessing.get_context("spawn")  # no inherited connections
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_issue_many, args=(db_url, w, barrier, results)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    created = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    records = registry.find_credentials(issuer_id)
    assert len(records) == 400 + 100 == len(created[0]) + len(created[1])
    assert len({(r.achievement, r.lookup_key, r.issued_on) for r in records}) == len(records)
    slots = [(r.status_list_id, r.status_index) for r in records]
    slots += [(r.suspension_list_id, r.suspension_index) for r in records if r.suspension_list_id]
    assert len(set(slots)) == len(slots)
    with registry.session() as s:
        assert s.scalar(select(func.count()).select_from(StatusAllocationRow)) == len(slots)
    assert [(l.purpose, l.seq) for l in registry.list_status_lists(issuer_id)] == [("revocation", 1),
                                                                                   ("suspension", 1)]
    registry.dispose()


def test_losing_the_race_on_the_idempotency_key_returns_the_winner(db_url):
    """While we sign, another server stores the same award: ours rolls back, theirs comes back."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this race cannot happen there")
    registry, rival = Registry.from_url(db_url), Registry.from_url(db_url)
    registry.migrate()
    issuer_id = prepare(registry)
    # Open the list first: a list created inside our transaction would make the rival wait for us.
    registry.issue(issuer_id, new(0), sign, status_url=STATUS_URL)
    winner = []

    def slow_sign(entries):
        winner.append(rival.issue(issuer_id, new(1), sign, status_url=STATUS_URL).record)
        return sign(entries)

    issued = registry.issue(issuer_id, new(1), slow_sign, status_url=STATUS_URL)
    assert not issued.created and issued.record == winner[0]
    with registry.session() as s:
        assert s.scalar(select(func.count()).select_from(StatusAllocationRow)) == 2
    registry.dispose()
    rival.dispose()


def test_two_issuers_with_the_same_status_url_are_a_config_error(registry, issuer_id):
    other = registry.ensure_issuer("did:web:other.example.org", name="Other", url="https://other.example.org").id
    registry.put_achievement(other, "ceu-101", {"name": "CEU"})
    registry.issue(issuer_id, new(1), sign, status_url=STATUS_URL)
    with pytest.raises(ConfigError) as raised:
        registry.issue(other, new(1), sign, status_url=STATUS_URL)
    assert raised.value.code is Code.CONFIG_INVALID


def sign_many(batch) -> list[str]:
    return [sign(entries) for _, entries in batch]


def test_issue_batch_stores_new_rows_and_returns_existing_ones_unchanged(registry, issuer_id):
    first = registry.issue(issuer_id, new(3), sign, status_url=STATUS_URL).record
    results = registry.issue_batch(issuer_id, [new(n) for n in range(1, 51)], sign_many, status_url=STATUS_URL)
    assert [r.created for r in results] == [n != 3 for n in range(1, 51)]
    assert results[2].record.id == first.id
    indexes = [r.record.status_index for r in results]
    assert len(set(indexes)) == 50
    again = registry.issue_batch(issuer_id, [new(n) for n in range(1, 51)], sign_many, status_url=STATUS_URL)
    assert not any(r.created for r in again)
    assert len(registry.find_credentials(issuer_id)) == 50
    assert len([e for e in registry.events(issuer_id=issuer_id) if e.kind == "issued"]) == 50


def test_issue_batch_with_suspension_gets_slots_in_both_lists(registry, issuer_id):
    results = registry.issue_batch(issuer_id, [new(n, suspension=True) for n in range(5)], sign_many,
                                   status_url=STATUS_URL)
    assert all(r.record.suspension_index is not None for r in results)
    stored = json.loads(results[0].record.credential)["credentialStatus"]
    assert [e["statusPurpose"] for e in stored] == ["revocation", "suspension"]


def test_issue_batch_failing_signer_stores_nothing(registry, issuer_id):
    def broken(batch):
        raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        registry.issue_batch(issuer_id, [new(n) for n in range(5)], broken, status_url=STATUS_URL)
    assert registry.find_credentials(issuer_id) == []


def test_issue_batch_moves_on_when_a_list_is_crowded(db_url):
    registry = Registry.from_url(db_url, randbelow=lambda size: 7)  # every draw is the same index
    registry.migrate()
    issuer_id = prepare(registry)
    results = registry.issue_batch(issuer_id, [new(n) for n in range(3)], sign_many, status_url=STATUS_URL)
    assert len({(r.record.status_list_id, r.record.status_index) for r in results}) == 3
    registry.dispose()


# -- an association's members, and status lists kept as their issuer signed them ---------------------------
# What issuer.awarding.documents serves inside an association's folder (README "verify inside an instance"):
# a kept copy is current only at its list's version, and a copy of an older version never replaces a newer one.

YOUTH_STATUS_URL = "https://youth.lla.example/status/{purpose}/{seq}"


def _member_ids(registry: Registry, issuer_id: int) -> set[int]:
    return {m.id for m in registry.association_members(issuer_id)}


def test_association_members_are_the_association_and_its_divisions_only(registry):
    lla = registry.ensure_issuer("did:web:lla.example", name="LLA", url="https://lla.example", kind="association")
    youth = registry.ensure_issuer("did:web:youth.lla.example", name="Youth", url="https://youth.lla.example",
                                   association_did=lla.did)
    academic = registry.ensure_issuer("did:key:z6MkAcademic", name="Academic", url="https://academic.lla.example",
                                      association_did=lla.did)
    alone = registry.ensure_issuer("did:web:alone.example", name="Alone", url="https://alone.example")
    family = {lla.id, youth.id, academic.id}
    assert _member_ids(registry, lla.id) == _member_ids(registry, youth.id) == family
    assert _member_ids(registry, academic.id) == family
    assert _member_ids(registry, alone.id) == {alone.id}
    assert registry.association_members(10_000) == []


def test_a_kept_list_is_served_only_at_its_current_version(registry):
    youth = registry.ensure_issuer("did:web:youth.lla.example", name="Youth", url="https://youth.lla.example")
    other = registry.ensure_issuer("did:web:other.example", name="Other", url="https://other.example")
    new = NewCredential(id="urn:uuid:youth-1", achievement="storytime", recipient_hash="sha256$" + "1" * 64,
                        lookup_key="lookup-1", issued_on=date(2026, 3, 1), valid_from=NOW, credits=1.0,
                        recipient_name="Jane Doe")
    registry.put_achievement(youth.id, "storytime", {"name": "Storytime"})
    registry.issue(youth.id, new, lambda entries: '{"signed": "by youth"}', status_url=YOUTH_STATUS_URL, now=NOW)
    (status_list,) = registry.list_status_lists(youth.id)
    assert registry.current_signed_status_list(status_list.url, [youth.id]) is None  # nothing kept yet
    registry.keep_signed_status_list(status_list.id, status_list.version, '{"v": 1}')
    assert registry.signed_status_list_versions(youth.id) == {status_list.id: 1}
    assert registry.current_signed_status_list(status_list.url, [youth.id]) == '{"v": 1}'
    assert registry.current_signed_status_list(status_list.url, [other.id]) is None  # only for its own issuer
    registry.set_status(new.id, "revoke", actor="staff", issuer_id=youth.id, now=NOW)
    assert registry.current_signed_status_list(status_list.url, [youth.id]) is None  # v1 is out of date now
    registry.keep_signed_status_list(status_list.id, 2, '{"v": 2}')
    registry.keep_signed_status_list(status_list.id, 1, '{"v": 1}')  # a slower process, signed earlier
    assert registry.current_signed_status_list(status_list.url, [youth.id]) == '{"v": 2}'
    assert registry.signed_status_list_versions(youth.id) == {status_list.id: 2}
