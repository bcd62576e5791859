"""The registry: issuers, keys, achievements, credentials, status lists, events.

``Registry(engine)`` wraps one SQLAlchemy engine (a SQLite file by default,
PostgreSQL when several servers share it). Every public method is one
transaction. SQLAlchemy failures leave this module only as ``ConfigError`` or
``Conflict`` with ``Code.DATABASE_ERROR`` and one sentence.

Issuing reserves random status-list slots, calls the injected ``sign`` with
them and stores the signed credential in the same transaction, so a slot is
never published for a credential that was not stored (and vice versa).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from select import select as ready_to_read
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own busy handler queues writers
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine, create_engine, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (DisconnectionError, IntegrityError, InterfaceError, InvalidatePoolError, OperationalError,
                            SQLAlchemyError, TimeoutError as PoolTimeout)
from sqlalchemy.orm import Session, defer

from errors import BadgesmithError, Code, ConfigError, Conflict, InputError, NotFound, ServiceUnavailable
from issuer.badge.status import Purpose, StatusEntry, new_bitstring
from issuer.store.models import (
    AchievementRecord, AchievementRow, AchievementTotal, Base, CredentialRecord, CredentialRow,
    CreditReport, EventRecord, EventRow, IssuerRecord, IssuerRow, Issued, KeyRecord, KeyRow,
    LearnerTotal, NewCredential, SignedStatusListRow, StatusAllocationRow, StatusListRecord, StatusListRow, WalletCopyRow,
    utcnow,
)
from verifier.status import MIN_LIST_SIZE, set_bit

Sign = Callable[[Sequence[StatusEntry]], str]
SignMany = Callable[[list[tuple[NewCredential, tuple[StatusEntry, ...]]]], list[str]]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# At fill ratio f, 40 straight collisions happen with probability f**40: a
# list is retired (is_full) at roughly 80-90 % use, never by counting rows,
# so concurrent issuers never contend on a counter.
_TRIES_PER_LIST = 40
_ACTIONS = {  # action -> (allowed from, new status, purpose whose bit flips, bit value)
    "revoke": ({"active", "suspended"}, "revoked", "revocation", True),
    "suspend": ({"active"}, "suspended", "suspension", True),
    "reinstate": ({"suspended"}, "active", "suspension", False),
}
_EVENT_KIND = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}
# A pooled connection idle for longer than this is pinged before use (a firewall's idle timeout, a
# server gone quiet); one back in use sooner is pinged only if the server has written to it meanwhile
# (see _ping_when_idle): issuing and pathway evaluation open a session or two per credential, and a
# ping on each was one round trip more every time.
_PING_AFTER_IDLE_S = 1.0


class _LostRace(Exception):
    """Another transaction stored the same idempotency key first."""


class Registry:
    """Storage for one or more issuers on one database engine."""

    def __init__(
        self,
        engine: Engine,
        *,
        randbelow: Callable[[int], int] = secrets.randbelow,
        list_size: int = MIN_LIST_SIZE,
    ) -> None:
        """``randbelow`` picks status indexes (inject a fake to force collisions)."""
        self.engine = engine
        reading: dict[str, Any] = {"badgesmith_read_only": True}
        if engine.dialect.name == "postgresql":
            # No BEGIN and COMMIT round trips around reads: at READ COMMITTED (the default, which
            # Badgesmith keeps) each statement sees its own snapshot inside a transaction too.
            reading["isolation_level"] = "AUTOCOMMIT"
        self._reader = engine.execution_options(**reading)
        self._randbelow = randbelow
        self._list_size = list_size
        new_bitstring(list_size)  # fail now, not at the first issue, on a bad size
        self._gate = _WriterGate(engine)
        if engine.dialect.name == "sqlite":
            _prepare_sqlite(engine)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Registry:
        """A registry on ``sqlite:///path`` or ``postgresql+psycopg://…``."""
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]  # psycopg 3, not psycopg2
        try:
            engine = create_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(Code.DATABASE_ERROR, f"The database URL is not usable: {_first_line(exc)}.") from exc
        _ping_when_idle(engine)
        return cls(engine, **options)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (creates it on an empty database)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.engine.connect() as connection:
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:
                    # Batch migrations rebuild tables that others reference; SQLite only allows
                    # that with enforcement off, and the pragma is ignored inside a transaction.
                    connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
                try:
                    with connection.begin():
                        if connection.dialect.name == "postgresql":
                            # Servers sharing the database may start together: one migrates, the rest wait.
                            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7262319)")
                        config.attributes["connection"] = connection
                        command.upgrade(config, "head")
                        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                            raise ConfigError(Code.DATABASE_ERROR,
                                              "A migration left rows pointing at nothing; nothing was changed.")
                finally:
                    if sqlite:
                        connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
        except SQLAlchemyError as exc:
            raise _database_error(exc) from exc

    def create_all(self) -> None:
        """Create the tables straight from the models (throwaway databases; prefer ``migrate``)."""
        try:
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise _database_error(exc) from exc

    def dispose(self) -> None:
        """Close pooled connections (before forking, and at shutdown)."""
        self.engine.dispose()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error.

        ``write=False`` lets SQLite readers run beside a writer (no
        ``BEGIN IMMEDIATE``); on PostgreSQL it runs each statement in
        autocommit, so a read session must not write.
        """
        bind = self.engine if write else self._reader
        try:
            with self._gate.held(write), Session(bind, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise _database_error(exc) from exc

    # -- issuers, keys, achievements ------------------------------------------------

    def ensure_issuer(
        self, did: str, *, name: str, url: str, email: str | None = None,
        profile: dict[str, Any] | None = None, now: datetime | None = None,
        kind: str = "issuer", association_did: str | None = None, brand: dict[str, Any] | None = None,
    ) -> IssuerRecord:
        """Create the issuer row for ``did`` or update its name, url, email, profile, kind, association
        (a division's: NotFound ASSOCIATION_NOT_FOUND when ``association_did`` is no association here)
        and brand."""
        now = now or utcnow()
        values = dict(name=name, url=url, email=email, profile=profile or {}, kind=kind, brand=brand)
        with self.session() as s:
            if association_did is not None:
                values["association_id"] = s.scalar(select(IssuerRow.id).where(
                    IssuerRow.did == association_did, IssuerRow.kind == "association"))
                if values["association_id"] is None:
                    raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"The association {association_did} is not in "
                                   "this database: a division uses its association's database ([database] url).",
                                   did=association_did)
            row = s.scalar(select(IssuerRow).where(IssuerRow.did == did))
            if row is None:
                # Two instances starting at once may both insert: one wins, both then read it.
                _insert_ignore(s, IssuerRow, dict(did=did, created_at=now, updated_at=now, **values))
                row = s.scalar(select(IssuerRow).where(IssuerRow.did == did))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = now
            return IssuerRecord.from_row(row)

    def key_holders(self, public_multikey: str) -> list[IssuerRecord]:
        """Every issuer that recorded this public key (one, unless a key was copied to another issuer)."""
        query = select(IssuerRow).where(IssuerRow.id.in_(
            select(KeyRow.issuer_id).where(KeyRow.public_multikey == public_multikey)))
        with self.session(write=False) as s:
            return [IssuerRecord.from_row(row) for row in s.scalars(query)]

    def association_members(self, issuer_id: int) -> list[IssuerRecord]:
        """The issuers of ``issuer_id``'s association (the association and every division, itself included);
        just its own row when it belongs to none."""
        with self.session(write=False) as s:
            row = s.get(IssuerRow, issuer_id)
            if row is None:
                return []
            head = row.id if row.kind == "association" else row.association_id
            if head is None:
                return [IssuerRecord.from_row(row)]
            query = select(IssuerRow).where((IssuerRow.id == head) | (IssuerRow.association_id == head))
            return [IssuerRecord.from_row(r) for r in s.scalars(query.order_by(IssuerRow.id))]

    def get_issuer(self, did: str) -> IssuerRecord | None:
        """The issuer with this DID, or None."""
        with self.session(write=False) as s:
            row = s.scalar(select(IssuerRow).where(IssuerRow.did == did))
            return None if row is None else IssuerRecord.from_row(row)

    def add_key(self, issuer_id: int, key_id: str, public_multikey: str, *,
                file: str | None = None, now: datetime | None = None) -> KeyRecord:
        """Record a public key (never private material); ``file`` names its keystore file."""
        row = KeyRow(issuer_id=issuer_id, key_id=key_id, public_multikey=public_multikey,
                     file=file, created_at=now or utcnow())
        try:
            with self.session() as s:
                s.add(row)
        except Conflict as exc:
            raise Conflict(Code.DATABASE_ERROR, f"The key {key_id} is already recorded for this issuer.") from exc
        return KeyRecord.from_row(row)

    def retire_key(self, issuer_id: int, key_id: str, *, now: datetime | None = None) -> KeyRecord:
        """Mark a key retired: it still verifies old credentials but signs nothing new."""
        with self.session() as s:
            row = s.scalar(select(KeyRow).where(KeyRow.issuer_id == issuer_id, KeyRow.key_id == key_id))
            if row is None:
                raise NotFound(Code.KEY_NOT_FOUND, f"No key {key_id} is recorded for this issuer.")
            row.retired_at = row.retired_at or now or utcnow()
            return KeyRecord.from_row(row)

    def list_keys(self, issuer_id: int, *, include_retired: bool = True) -> list[KeyRecord]:
        """The issuer's keys, oldest first."""
        query = select(KeyRow).where(KeyRow.issuer_id == issuer_id).order_by(KeyRow.created_at, KeyRow.id)
        if not include_retired:
            query = query.where(KeyRow.retired_at.is_(None))
        with self.session(write=False) as s:
            return [KeyRecord.from_row(row) for row in s.scalars(query)]

    def put_achievement(self, issuer_id: int, slug: str, definition: dict[str, Any], *,
                        now: datetime | None = None) -> AchievementRecord:
        """Create or replace the achievement ``slug``."""
        now = now or utcnow()
        with self.session() as s:
            row = put_definition(s, AchievementRow, _achievement_query(issuer_id, slug), issuer_id=issuer_id,
                                 slug=slug, definition=definition, now=now)
            return AchievementRecord.from_row(row)

    def get_achievement(self, issuer_id: int, slug: str) -> AchievementRecord | None:
        """The achievement ``slug``, or None."""
        with self.session(write=False) as s:
            row = s.scalar(_achievement_query(issuer_id, slug))
            return None if row is None else AchievementRecord.from_row(row)

    def list_achievements(self, issuer_id: int) -> list[AchievementRecord]:
        """All of the issuer's achievements, by slug."""
        query = select(AchievementRow).where(AchievementRow.issuer_id == issuer_id).order_by(AchievementRow.slug)
        with self.session(write=False) as s:
            return [AchievementRecord.from_row(r) for r in s.scalars(query)]

    # -- issuing ----------------------------------------------------------------------

    def issue(self, issuer_id: int, new: NewCredential, sign: Sign, *, status_url: str,
              actor: str = "badgesmith", now: datetime | None = None,
              purposes: Sequence[Purpose] | None = None) -> Issued:
        """Reserve status slots, sign, store: all in one transaction.

        ``status_url`` is the URL template of the issuer's lists, with
        ``{purpose}`` and ``{seq}`` placeholders. ``sign`` receives the
        revocation entry (and the suspension entry when ``new.suspension``)
        and returns the signed credential text. When the idempotency key
        (issuer, achievement, lookup key, issued_on) is already stored, the
        stored credential comes back with ``created=False`` and nothing is signed.
        ``purposes`` overrides which entries are allocated (the VC API asks for
        none, or for exactly the one its caller names); a credential without an
        achievement has no idempotency key and is always new.
        """
        if "{purpose}" not in status_url or "{seq}" not in status_url:
            raise ConfigError(Code.CONFIG_INVALID, "The status list URL template needs {purpose} and {seq}.")
        if new.format not in ("di", "jwt"):
            raise InputError(Code.USAGE, f"Credential format {new.format!r} is not 'di' or 'jwt'.")
        now = now or utcnow()
        try:
            with self.session() as s:
                existing = s.scalar(_idempotency_query(issuer_id, new)) if new.achievement is not None else None
                if existing is not None:
                    return Issued(CredentialRecord.from_row(existing), created=False)
                if purposes is None:
                    purposes = ["revocation", "suspension"] if new.suspension else ["revocation"]
                slots = [self._allocate(s, issuer_id, p, new.id, status_url, now) for p in purposes]
                text = sign(tuple(entry for _, entry in slots))
                values = _credential_values(issuer_id, new, slots, text, now)
                if not _insert_ignore(s, CredentialRow, values):
                    raise _LostRace  # rolls back the reserved slots too
                s.add(EventRow(issuer_id=issuer_id, credential_id=new.id, kind="issued", actor=actor, at=now,
                               details={"achievement": new.achievement}))
                return Issued(CredentialRecord(**values), created=True)
        except _LostRace:
            with self.session(write=False) as s:
                existing = s.scalar(_idempotency_query(issuer_id, new)) if new.achievement is not None else None
            if existing is None:
                raise Conflict(Code.DATABASE_ERROR,
                               f"A credential with id {new.id} already exists; issue it with a new id.") from None
            return Issued(CredentialRecord.from_row(existing), created=False)

    def issue_batch(self, issuer_id: int, news: Sequence[NewCredential], sign_many: SignMany, *,
                    status_url: str, actor: str = "badgesmith", now: datetime | None = None) -> list[Issued]:
        """``issue`` for many credentials in ONE transaction (rosters): one commit per batch.

        Rows whose idempotency key is already stored come back unchanged with
        ``created=False``. For the others, status slots are reserved, then
        ``sign_many`` receives ``[(new, entries), …]`` and returns the signed
        texts in the same order (so they can be signed on several cores), and
        everything is stored together. If a concurrent issuer stored one of the
        same keys meanwhile, the batch rolls back and is retried row by row.
        """
        if "{purpose}" not in status_url or "{seq}" not in status_url:
            raise ConfigError(Code.CONFIG_INVALID, "The status list URL template needs {purpose} and {seq}.")
        now = now or utcnow()
        results: dict[int, Issued] = {}
        try:
            with self.session() as s:
                todo: list[tuple[int, NewCredential, list[tuple[int, StatusEntry]]]] = []
                seen: set[tuple[str, str, str]] = set()
                stored = _stored_awards(s, issuer_id, news)
                for position, new in enumerate(news):
                    key = (new.achievement, new.lookup_key, new.key)
                    existing = (stored.get(key) if new.achievement is not None
                                else s.scalar(_idempotency_query(issuer_id, new)))
                    if existing is not None or key in seen:
                        if existing is None:
                            raise _LostRace  # the same person twice in one batch: let issue() sort it out
                        results[position] = Issued(CredentialRecord.from_row(existing), created=False)
                        continue
                    seen.add(key)
                    todo.append((position, new, []))
                for purpose in ("revocation", "suspension"):
                    wanting = [slots for _, new, slots in todo if purpose == "revocation" or new.suspension]
                    ids = [new.id for _, new, _ in todo if purpose == "revocation" or new.suspension]
                    for slots, slot in zip(wanting, self._allocate_many(s, issuer_id, purpose, ids, status_url, now)):
                        slots.append(slot)
                texts = sign_many([(new, tuple(entry for _, entry in slots)) for _, new, slots in todo])
                if len(texts) != len(todo):
                    raise ConfigError(Code.SELF_CHECK_FAILED, "The batch signer returned the wrong number of credentials.")
                rows = [_credential_values(issuer_id, new, slots, text, now) for (_, new, slots), text in zip(todo, texts)]
                if rows and _insert_all_or_none(s, CredentialRow, rows) != len(rows):
                    raise _LostRace
                if rows:
                    s.execute(EventRow.__table__.insert(), [
                        dict(issuer_id=issuer_id, credential_id=values["id"], kind="issued", actor=actor, reason=None,
                             at=now, details={"achievement": values["achievement"]}) for values in rows])
                # The record straight from the values stored: an ORM row built only to read them back
                # cost a roster 0.09 ms a credential.
                for (position, _, _), values in zip(todo, rows):
                    results[position] = Issued(CredentialRecord(**values), created=True)
        except _LostRace:
            return [self.issue(issuer_id, new, lambda entries, new=new: sign_many([(new, tuple(entries))])[0],
                               status_url=status_url, actor=actor, now=now) for new in news]
        return [results[position] for position in range(len(news))]

    def _allocate(self, s: Session, issuer_id: int, purpose: Purpose, credential_id: str,
                  status_url: str, now: datetime) -> tuple[int, StatusEntry]:
        for _ in range(3):
            lst = self._open_list(s, issuer_id, purpose, status_url, now)
            for _ in range(_TRIES_PER_LIST):
                # Random, never sequential: neighbouring indexes must not reveal issue order.
                index = self._randbelow(lst.size)
                if _insert_ignore(s, StatusAllocationRow, dict(status_list_id=lst.id, status_index=index,
                                                               credential_id=credential_id)):
                    return lst.id, StatusEntry(lst.url, index, purpose)
            s.execute(update(StatusListRow).where(StatusListRow.id == lst.id).values(is_full=True))
        raise Conflict(Code.STATUS_LIST_FULL, f"No free {purpose} status index could be found; try again.")

    def _allocate_many(self, s: Session, issuer_id: int, purpose: Purpose, credential_ids: list[str],
                       status_url: str, now: datetime) -> list[tuple[int, StatusEntry]]:
        """Random, distinct slots for many credentials with one INSERT per round (a roster batch)."""
        taken: dict[str, tuple[int, StatusEntry]] = {}
        remaining = list(credential_ids)
        for _ in range(3):
            lst = self._open_list(s, issuer_id, purpose, status_url, now)
            for _ in range(_TRIES_PER_LIST):
                if not remaining:
                    return [taken[c] for c in credential_ids]
                draws: dict[int, str] = {}
                for credential_id in remaining:
                    index = self._randbelow(lst.size)
                    if index not in draws:  # a clash within the batch waits for the next round
                        draws[index] = credential_id
                inserted = _insert_many(s, StatusAllocationRow, [
                    dict(status_list_id=lst.id, status_index=i, credential_id=c) for i, c in draws.items()],
                    StatusAllocationRow.status_index)
                for index in inserted:
                    taken[draws[index]] = (lst.id, StatusEntry(lst.url, index, purpose))
                remaining = [c for c in remaining if c not in taken]
            if remaining:
                s.execute(update(StatusListRow).where(StatusListRow.id == lst.id).values(is_full=True))
        if remaining:
            raise Conflict(Code.STATUS_LIST_FULL, f"No free {purpose} status index could be found; try again.")
        return [taken[c] for c in credential_ids]

    def _open_list(self, s: Session, issuer_id: int, purpose: Purpose, status_url: str,
                   now: datetime) -> StatusListRow:
        mine = (StatusListRow.issuer_id == issuer_id, StatusListRow.purpose == purpose)
        for _ in range(2):
            # The 16 KiB bitstring is not needed to allocate: don't load it.
            row = s.scalar(select(StatusListRow).options(defer(StatusListRow.bits))
                           .where(*mine, StatusListRow.is_full.is_(False)).order_by(StatusListRow.seq).limit(1))
            if row is not None:
                return row
            # Read the newest list as a row, not max(seq) alone: a concurrent server may have committed its
            # first list since the select above (READ COMMITTED), and then that list is the one to use, not
            # a reason to open a second.
            top = s.scalar(select(StatusListRow).options(defer(StatusListRow.bits))
                           .where(*mine).order_by(StatusListRow.seq.desc()).limit(1))
            if top is not None and not top.is_full:
                return top
            seq = (top.seq if top is not None else 0) + 1
            url = status_url.format(purpose=purpose, seq=seq)
            _insert_ignore(s, StatusListRow, dict(
                issuer_id=issuer_id, purpose=purpose, seq=seq, url=url, size=self._list_size,
                bits=new_bitstring(self._list_size), is_full=False, version=1, created_at=now, updated_at=now))
            # Inserted by us or by a concurrent server: either way the next select finds it.
        raise ConfigError(Code.CONFIG_INVALID, f"The status list URL {url} is already used by another issuer.")

    # -- reading and changing credentials ------------------------------------------------

    def get_credential(self, credential_id: str, *, issuer_id: int | None = None) -> CredentialRecord | None:
        """The stored credential, or None (also None when it belongs to another issuer)."""
        with self.session(write=False) as s:
            row = s.get(CredentialRow, credential_id)
            if row is None or issuer_id not in (None, row.issuer_id):
                return None
            return CredentialRecord.from_row(row)

    def find_credentials(self, issuer_id: int, *, achievement: str | None = None, lookup_key: str | None = None,
                         since: date | None = None, until: date | None = None,
                         status: str | None = None) -> list[CredentialRecord]:
        """Credentials matching every given filter (dates inclusive), oldest first."""
        query = select(CredentialRow).where(*_credential_filters(issuer_id, achievement, lookup_key, since, until))
        if status is not None:
            query = query.where(CredentialRow.status == status)
        query = query.order_by(CredentialRow.issued_on, CredentialRow.created_at)
        with self.session(write=False) as s:
            return [CredentialRecord.from_row(r) for r in s.scalars(query)]

    def set_status(self, credential_id: str, action: str, *, actor: str, reason: str | None = None,
                   issuer_id: int | None = None, now: datetime | None = None) -> CredentialRecord:
        """Revoke, suspend or reinstate: flip the list bit and append an event, atomically.

        Revocation is final; ``reinstate`` only lifts a suspension. Anything
        else raises ``Conflict`` with ``STATUS_CHANGE_INVALID``.
        """
        if action not in _ACTIONS:
            raise InputError(Code.STATUS_CHANGE_INVALID,
                             f"Unknown status action {action!r}; use revoke, suspend or reinstate.")
        now = now or utcnow()
        with self.session() as s:
            # Lock the row so two servers revoking at once cannot both pass the check.
            row = s.get(CredentialRow, credential_id, with_for_update=True)
            if row is None or issuer_id not in (None, row.issuer_id):
                raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"No credential {credential_id} is stored here.")
            _change_status(s, row, action, actor=actor, reason=reason, now=now)
            return CredentialRecord.from_row(row)

    def find_awards(self, issuer_id: int, achievement: str,
                    keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], CredentialRecord]:
        """The stored award for each (lookup key, award key) of ``achievement`` that has one (rosters:
        one query per 500 people, not one per row)."""
        people = sorted({lookup for lookup, _ in keys})
        wanted = set(keys)
        found: dict[tuple[str, str], CredentialRecord] = {}
        # Core rows, not ORM objects: a re-run plans 10,000 people, and ORM bookkeeping was most of its time.
        columns = [getattr(CredentialRow, name) for name in CredentialRecord.__dataclass_fields__]
        with self.session(write=False) as s:
            for start in range(0, len(people), 500):
                query = select(*columns).where(
                    CredentialRow.issuer_id == issuer_id, CredentialRow.achievement == achievement,
                    CredentialRow.lookup_key.in_(people[start:start + 500]), CredentialRow.award_key.is_not(None))
                for row in s.execute(query):
                    record = CredentialRecord(*row)
                    if (record.lookup_key, record.award_key) in wanted:
                        found[(record.lookup_key, record.award_key)] = record
        return found

    def supersede(self, issuer_id: int, previous_id: str, new: NewCredential, sign: Sign, *, status_url: str,
                  actor: str = "badgesmith", now: datetime | None = None) -> Issued:
        """A correction, in one transaction: ``new`` takes the award key of ``previous_id``, which is
        revoked with the reason "superseded by <new id>". The event log keeps both.

        Refused (``STATUS_CHANGE_INVALID``) when the previous credential is no
        longer the current award (already superseded or revoked).
        """
        now = now or utcnow()
        with self.session() as s:
            old = s.get(CredentialRow, previous_id, with_for_update=True)
            if old is None or old.issuer_id != issuer_id:
                raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"No credential {previous_id} is stored here.")
            if old.award_key is None or old.status == "revoked":
                raise Conflict(Code.STATUS_CHANGE_INVALID, f"{previous_id} is not a current award (it is "
                               f"{'superseded' if old.superseded_by else old.status}); nothing was re-issued.")
            if (old.achievement, old.lookup_key, old.award_key) != (new.achievement, new.lookup_key, new.key):
                raise Conflict(Code.STATUS_CHANGE_INVALID, f"{new.id} is not the same award as {previous_id}.")
            old.award_key, old.superseded_by = None, new.id
            s.flush()  # the key is free before the correction claims it
            purposes = ["revocation", "suspension"] if new.suspension else ["revocation"]
            slots = [self._allocate(s, issuer_id, p, new.id, status_url, now) for p in purposes]
            values = _credential_values(issuer_id, new, slots, sign(tuple(entry for _, entry in slots)), now)
            if not _insert_ignore(s, CredentialRow, values):
                raise Conflict(Code.DATABASE_ERROR, f"A credential with id {new.id} already exists; nothing "
                               "was re-issued.")
            s.add(EventRow(issuer_id=issuer_id, credential_id=new.id, kind="issued", actor=actor, at=now,
                           details={"achievement": new.achievement, "supersedes": previous_id}))
            s.flush()
            _change_status(s, old, "revoke", actor=actor, reason=f"superseded by {new.id}", now=now)
            return Issued(CredentialRecord(**values), created=True)

    def add_event(self, issuer_id: int, kind: str, *, actor: str, credential_id: str | None = None,
                  reason: str | None = None, details: dict[str, Any] | None = None,
                  now: datetime | None = None) -> None:
        """Append an event of another kind (renewed, notified, key retired …)."""
        with self.session() as s:
            s.add(EventRow(issuer_id=issuer_id, credential_id=credential_id, kind=kind, actor=actor,
                           reason=reason, at=now or utcnow(), details=details or {}))

    def events(self, *, issuer_id: int | None = None, credential_id: str | None = None) -> list[EventRecord]:
        """Events in the order they happened, optionally for one issuer or credential."""
        query = select(EventRow).order_by(EventRow.id)
        if issuer_id is not None:
            query = query.where(EventRow.issuer_id == issuer_id)
        if credential_id is not None:
            query = query.where(EventRow.credential_id == credential_id)
        with self.session(write=False) as s:
            return [EventRecord.from_row(e) for e in s.scalars(query)]

    def report(self, issuer_id: int, *, since: date | None = None, until: date | None = None) -> CreditReport:
        """CEUs awarded per achievement and per learner, issued_on in [since, until], revoked excluded."""
        # CEUs are awarded by achievements: VC API credentials (no achievement) are not in the report.
        where = (*_credential_filters(issuer_id, None, None, since, until), CredentialRow.status != "revoked",
                 CredentialRow.achievement.is_not(None))
        count, credits = func.count(CredentialRow.id), func.coalesce(func.sum(CredentialRow.credits), 0)
        name = func.max(CredentialRow.recipient_name)
        email = func.max(CredentialRow.recipient_email)
        with self.session(write=False) as s:
            per_achievement = s.execute(select(CredentialRow.achievement, count, credits).where(*where)
                                        .group_by(CredentialRow.achievement).order_by(CredentialRow.achievement))
            per_learner = s.execute(select(CredentialRow.lookup_key, name, email, count, credits).where(*where)
                                    .group_by(CredentialRow.lookup_key).order_by(name, CredentialRow.lookup_key))
            return CreditReport(
                tuple(AchievementTotal(a, n, float(c)) for a, n, c in per_achievement),
                tuple(LearnerTotal(k, who, mail, n, float(c)) for k, who, mail, n, c in per_learner),
            )

    # -- status lists ------------------------------------------------------------------------

    def get_status_list(self, issuer_id: int, purpose: str, seq: int) -> StatusListRecord | None:
        """One of the issuer's lists (what ``status_url`` names), or None."""
        with self.session(write=False) as s:
            row = s.scalar(select(StatusListRow).where(StatusListRow.issuer_id == issuer_id,
                                                       StatusListRow.purpose == purpose, StatusListRow.seq == seq))
            return None if row is None else StatusListRecord.from_row(row)

    def list_status_lists(self, issuer_id: int) -> list[StatusListRecord]:
        """All of the issuer's lists, by purpose and sequence."""
        query = (select(StatusListRow).where(StatusListRow.issuer_id == issuer_id)
                 .order_by(StatusListRow.purpose, StatusListRow.seq))
        with self.session(write=False) as s:
            return [StatusListRecord.from_row(row) for row in s.scalars(query)]


    def keep_signed_status_list(self, status_list_id: int, version: int, credential: str) -> None:
        """Keep ``credential``, the list as its issuer signed it at ``version``, for the rest of its association."""
        values = {"status_list_id": status_list_id, "version": version, "credential": credential}
        with self.session() as s:
            # Never over a copy of a later version (two processes signing at once); readers check the version.
            replaced = s.execute(update(SignedStatusListRow).where(
                SignedStatusListRow.status_list_id == status_list_id, SignedStatusListRow.version <= version)
                .values(version=version, credential=credential)).rowcount
            if not replaced:
                _insert_ignore(s, SignedStatusListRow, values)

    def signed_status_list_versions(self, issuer_id: int) -> dict[int, int]:
        """The version each of the issuer's kept signed lists was signed at, by list id."""
        query = (select(SignedStatusListRow.status_list_id, SignedStatusListRow.version)
                 .join(StatusListRow, StatusListRow.id == SignedStatusListRow.status_list_id)
                 .where(StatusListRow.issuer_id == issuer_id))
        with self.session(write=False) as s:
            return {list_id: version for list_id, version in s.execute(query)}

    def current_signed_status_list(self, url: str, issuer_ids: Sequence[int]) -> str | None:
        """The kept signed text of the list at ``url`` of one of ``issuer_ids``, only if signed at its current
        version (a copy signed before a later status change is never current); else None."""
        query = (select(SignedStatusListRow.credential)
                 .join(StatusListRow, StatusListRow.id == SignedStatusListRow.status_list_id)
                 .where(StatusListRow.url == url, StatusListRow.issuer_id.in_(list(issuer_ids)),
                        SignedStatusListRow.version == StatusListRow.version))
        with self.session(write=False) as s:
            return s.scalar(query)


# -- module internals -------------------------------------------------------------------------


class _WriterGate:
    """Queues SQLite writers of one database file (every process) on an flock.

    SQLite's busy handler makes a waiting writer sleep 1, 2, 5, 10 … 100 ms
    between tries, so two gunicorn workers issuing at once spend most of their
    time asleep. Waiting on a file lock instead wakes the next writer the moment
    the previous one has committed. Re-entrant per thread; a no-op for
    PostgreSQL, in-memory SQLite and where ``fcntl`` does not exist.
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._path = f"{database}-writers.lock" if database and database != ":memory:" and fcntl else None
        self._local = threading.local()

    @contextmanager
    def held(self, write: bool) -> Iterator[None]:
        if not write or self._path is None or getattr(self._local, "depth", 0):
            yield
            return
        try:
            handle = open(self._path, "a")
        except OSError:  # a read-only folder: fall back to SQLite's own queueing
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


def put_definition(s: Session, model: Any, query: Any, *, issuer_id: int, slug: str, definition: dict[str, Any],
                   now: datetime) -> Any:
    """Insert or update the definition row (an achievement's, a pathway's) that ``query`` selects, in ``s``.

    Insert-or-ignore first, so two servers adding the same slug at once both
    end up updating the one row.
    """
    row = s.scalar(query)
    if row is None:
        _insert_ignore(s, model, dict(issuer_id=issuer_id, slug=slug, definition=definition,
                                      created_at=now, updated_at=now))
        row = s.scalar(query)
    row.definition, row.updated_at = definition, now
    return row


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping`` without a round trip on every checkout.

    A pooled connection is pinged before use when it sat idle longer than
    ``_PING_AFTER_IDLE_S``, or when the server wrote to it while it sat in the
    pool: an idle PostgreSQL session receives nothing unless the server ends
    it (a restart or ``pg_terminate_backend`` sends a FATAL notice and closes
    the socket), and looking for that is a system call, not a round trip. As
    with ``pool_pre_ping``, a failed ping drops every connection opened
    before it and the session goes on with a new one; a connection that
    breaks while in use fails its session with ``DATABASE_ERROR`` (with or
    without pings), and the next session connects afresh.
    """
    def checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info["badgesmith_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("badgesmith_idle_since")  # None: a new connection, nothing to ping
        if since is None or (time.monotonic() - since <= _PING_AFTER_IDLE_S
                             and not _server_wrote(dbapi_connection, engine.dialect.loaded_dbapi.Error)):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise InvalidatePoolError(f"pre-ping failed: {_first_line(exc)}") from exc  # the pool reconnects

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def _server_wrote(dbapi_connection: Any, driver_error: type[Exception]) -> bool:
    """Whether an idle connection's socket has input (or its end) waiting; False without a socket (SQLite)."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False
    try:
        return bool(ready_to_read([fileno()], [], [], 0)[0])
    except (OSError, ValueError, driver_error):  # closed, or a descriptor select() cannot take: ping
        return True


def _prepare_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and starts
    # transactions lazily (read locks that deadlock on upgrade between
    # processes); take over: BEGIN IMMEDIATE serialises writers cleanly.
    if event.contains(engine, "connect", _sqlite_connect):
        return
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get("badgesmith_read_only")
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _insert_many(s: Session, model: type[Base], rows: list[dict[str, Any]], returning: Any) -> list[Any]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING ``returning`` for many rows (SQLite and PostgreSQL):
    the ``returning`` values of the rows actually inserted.

    One statement compiled once and cached (executemany; SQLAlchemy sends the rows as multi-row
    VALUES batches): a statement with the rows inlined as VALUES is compiled anew for every batch,
    which cost a roster more than storing the rows.
    """
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    return list(s.execute(insert(model.__table__).on_conflict_do_nothing().returning(returning), rows).scalars())


def _insert_all_or_none(s: Session, model: type[Base], rows: list[dict[str, Any]]) -> int:
    """Insert many rows; the number actually inserted (fewer: a key was taken)."""
    (key,) = model.__table__.primary_key
    return len(_insert_many(s, model, rows, key))


def _insert_ignore(s: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """INSERT unless a unique key is taken; True when the row was inserted.

    ON CONFLICT DO NOTHING waits for a concurrent inserter of the same key and
    then yields, so the transaction stays usable (no savepoint round trip).
    """
    dialect = s.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # RETURNING, not rowcount: drivers report -1 for INSERT .. ON CONFLICT.
        table = model.__table__
        statement = insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key)
        return s.execute(statement).first() is not None
    try:
        with s.begin_nested():
            s.execute(model.__table__.insert().values(**values))
        return True
    except IntegrityError:
        return False


def _database_error(exc: SQLAlchemyError) -> BadgesmithError:
    cause = _first_line(getattr(exc, "orig", None) or exc)
    if isinstance(exc, IntegrityError):
        return Conflict(Code.DATABASE_ERROR, f"The change conflicts with what the database holds: {cause}.")
    # Not answering (down, restarting, a connection dropped, SQLite locked too long): worth trying again (503).
    unavailable = isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout))
    return (ServiceUnavailable if unavailable else ConfigError)(
        Code.DATABASE_ERROR, f"The database could not be used ({cause}); check the database URL and server.")


def _change_status(s: Session, row: CredentialRow, action: str, *, actor: str, reason: str | None,
                   now: datetime) -> None:
    """Flip the list bit of ``row`` for ``action`` and append the event (inside the caller's transaction)."""
    allowed, new_status, purpose, value = _ACTIONS[action]
    if row.status not in allowed:
        raise Conflict(Code.STATUS_CHANGE_INVALID,
                       f"Cannot {action} a credential that is {row.status}.", status=row.status)
    list_id, index = ((row.status_list_id, row.status_index) if purpose == "revocation"
                      else (row.suspension_list_id, row.suspension_index))
    if list_id is None or index is None:
        raise Conflict(Code.STATUS_CHANGE_INVALID,
                       f"Cannot {action} this credential: it was issued without a {purpose} entry.")
    lst = _flip(s, list_id, index, value, now)
    row.status = new_status
    s.add(EventRow(issuer_id=row.issuer_id, credential_id=row.id, kind=_EVENT_KIND[action],
                   actor=actor, reason=reason, at=now, details={"list": lst.url, "index": index}))
    # Wallet copies (issue 20) stand or fall with their award, in the same transaction.
    for copy in s.scalars(select(WalletCopyRow).where(WalletCopyRow.award_id == row.id)):
        slot = ((copy.status_list_id, copy.status_index) if purpose == "revocation"
                else (copy.suspension_list_id, copy.suspension_index))
        if slot[0] is not None and slot[1] is not None:
            _flip(s, slot[0], slot[1], value, now)
        copy.status = new_status


def _flip(s: Session, list_id: int, index: int, value: bool, now: datetime) -> StatusListRow:
    lst = s.get(StatusListRow, list_id, with_for_update=True)  # read-modify-write of the bits
    lst.bits = set_bit(lst.bits, index, value)
    lst.version += 1
    lst.updated_at = now
    return lst


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text[:200].rstrip(".")


def _achievement_query(issuer_id: int, slug: str) -> Any:
    return select(AchievementRow).where(AchievementRow.issuer_id == issuer_id, AchievementRow.slug == slug)


def _stored_awards(s: Session, issuer_id: int, news: Sequence[NewCredential]) -> dict[tuple[str, str, str], Any]:
    """The stored credentials of a batch's awards by (achievement, lookup key, award key): one query per
    500 people instead of one per row."""
    wanted = {(n.achievement, n.lookup_key, n.key) for n in news if n.achievement is not None}
    people = sorted({lookup for _, lookup, _ in wanted})
    found: dict[tuple[str, str, str], Any] = {}
    for start in range(0, len(people), 500):
        for row in s.scalars(select(CredentialRow).where(
                CredentialRow.issuer_id == issuer_id,
                CredentialRow.achievement.in_(sorted({a for a, _, _ in wanted})),
                CredentialRow.lookup_key.in_(people[start:start + 500]))):
            key = (row.achievement, row.lookup_key, row.award_key)
            if key in wanted:
                found[key] = row
    return found


def _idempotency_query(issuer_id: int, new: NewCredential) -> Any:
    return select(CredentialRow).where(
        CredentialRow.issuer_id == issuer_id, CredentialRow.achievement == new.achievement,
        CredentialRow.lookup_key == new.lookup_key, CredentialRow.award_key == new.key)


def _credential_filters(issuer_id: int, achievement: str | None, lookup_key: str | None,
                        since: date | None, until: date | None) -> list[Any]:
    filters: list[Any] = [CredentialRow.issuer_id == issuer_id]
    if achievement is not None:
        filters.append(CredentialRow.achievement == achievement)
    if lookup_key is not None:
        filters.append(CredentialRow.lookup_key == lookup_key)
    if since is not None:
        filters.append(CredentialRow.issued_on >= since)
    if until is not None:
        filters.append(CredentialRow.issued_on <= until)
    return filters


def _credential_values(issuer_id: int, new: NewCredential, slots: list[tuple[int, StatusEntry]],
                       text: str, now: datetime) -> dict[str, Any]:
    by_purpose = {entry.purpose: (list_id, entry) for list_id, entry in slots}
    revocation_list, revocation = by_purpose.get("revocation", (None, None))
    suspension_list, suspension = by_purpose.get("suspension", (None, None))
    return dict(
        id=new.id, issuer_id=issuer_id, achievement=new.achievement, recipient_hash=new.recipient_hash,
        lookup_key=new.lookup_key, recipient_name=new.recipient_name, recipient_email=new.recipient_email,
        recipient_did=new.recipient_did,
        organization=new.organization, credits=new.credits, issued_on=new.issued_on,
        valid_from=new.valid_from, valid_until=new.valid_until, format=new.format, status="active",
        status_list_id=revocation_list, status_index=revocation.index if revocation else None,
        suspension_list_id=suspension_list, suspension_index=suspension.index if suspension else None,
        credential=text, created_at=now, award_key=new.key if new.achievement is not None else None,
        superseded_by=None,
    )


__all__ = ["MIGRATIONS_DIR", "Registry", "Sign", "SignMany", "put_definition"]
