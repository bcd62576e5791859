"""Rate limits that every server process shares: the ``limits`` library, in a storage all workers reach.

Verification is the expensive thing the public web app does (canonicalisation,
signature checks, status-list fetches), so ``POST /verify`` and
``POST /api/verify`` spend one request of a client's budget; so does
``POST /oauth/token`` (per address and per client id: each attempt costs a
scrypt). Budgets are ``limits``' fixed windows (Flask-Limiter's default
strategy): ``capacity`` requests per ``period`` from a client's first request,
then 429 until the window ends.

The counters live in a storage named by a URL, so N gunicorn workers (or N
machines) share one budget instead of allowing N times the rate:

- ``sqlite:////path/ratelimits.sqlite3``: one machine; every worker uses the
  file (the web app's default for an instance: ``<instance>/ratelimits.sqlite3``);
- ``postgresql://…``: several machines; a table ``badgesmith_rate_limits`` in a
  database they all reach (the registry's own database will do);
- ``redis://host:6379`` (``pip install redis``), ``memcached://…``: ``limits``' own storages;
- ``memory://``: this process only (tests, a site with no instance folder).
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, delete, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from errors import BadgesmithError, Code, ConfigError

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


class RateLimited(BadgesmithError):
    """Too many requests from one client; ``retry_after`` says when to try again (seconds)."""

    http_status = 429

    def __init__(self, retry_after: int, *, what: str = "verification requests") -> None:
        super().__init__(Code.RATE_LIMITED, f"Too many {what}; please try again in {retry_after} seconds.",
                         retry_after=retry_after)
        self.retry_after = retry_after


class RateLimitUnavailable(BadgesmithError):
    """The shared request counter cannot be reached (its file, database or server): 503, try again shortly.

    Refused rather than let through: a counter that cannot count is no reason to drop the limit that
    keeps expensive requests (verifications, scrypt-checked tokens, mailed sign-in links) in bounds.
    """

    http_status = 503
    oauth_error = "temporarily_unavailable"  # RFC 6749 §4.1.2.1's name for a server that cannot answer now

    def __init__(self, *, what: str = "verification requests") -> None:
        super().__init__(Code.RATE_LIMIT_UNAVAILABLE,
                         f"The server cannot count {what} just now; please try again in "
                         f"{UNAVAILABLE_RETRY_AFTER} seconds.", retry_after=UNAVAILABLE_RETRY_AFTER)
        self.retry_after = UNAVAILABLE_RETRY_AFTER


UNAVAILABLE_RETRY_AFTER = 5  # seconds
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rate:
    """``capacity`` requests per ``period`` seconds."""

    capacity: int
    period: float

    @classmethod
    def from_text(cls, text: str) -> Rate:
        """Parse ``"60/minute"``, ``"10/second"``, ``"1000/day"`` or ``"5/10minutes"``."""
        match = _RATE.match(text or "")
        if not match or int(match.group(1)) < 1:
            raise ConfigError(Code.CONFIG_INVALID,
                              f"RATE_LIMIT {text!r} is not a rate such as '60/minute' (or 'off').")
        count, multiple, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3).lower()
        return cls(capacity=count, period=float(multiple * _UNITS[unit]))


_INCREMENT_SQL = (
    "INSERT INTO badgesmith_rate_limits (key, hits, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "hits = CASE WHEN badgesmith_rate_limits.expires_at <= :now THEN :amount "
    "ELSE badgesmith_rate_limits.hits + :amount END, "
    "expires_at = CASE WHEN badgesmith_rate_limits.expires_at <= :now THEN :expires "
    "ELSE badgesmith_rate_limits.expires_at END "
    "RETURNING hits")
# Built once: text() parses its bind parameters with a regular expression each time it is made,
# a fifth of a hit's CPU when made per request.
_INCREMENT = text(_INCREMENT_SQL)
_PRUNE_SQL = "DELETE FROM badgesmith_rate_limits WHERE expires_at <= ?"


class SqlStorage(Storage):
    """A ``limits`` storage in a SQL database (SQLite file or PostgreSQL): one row per client and window.

    Each hit is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, atomic
    in both databases, so processes sharing the database share the count.
    Expired rows are deleted now and then.

    On a SQLite file every verification request spends a hit, so hits skip
    SQLAlchemy: each process keeps one ``sqlite3`` connection to the file
    (autocommit, the same pragmas) and runs the same statement on it, 0.02 ms
    of CPU instead of 0.09 ms. Everything else goes through the engine.
    """

    STORAGE_SCHEME = ["sqlite", "postgresql", "postgresql+psycopg"]
    _PRUNE_EVERY = 1000

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: object) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if uri.startswith("postgresql://"):
            uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
        sqlite = uri.startswith("sqlite")
        self._engine = create_engine(uri, connect_args={"timeout": 30} if sqlite else {},
                                     pool_pre_ping=not sqlite)
        if sqlite:
            event.listen(self._engine, "connect", _sqlite_connect)
        self._table = Table("badgesmith_rate_limits", MetaData(),
                            Column("key", String(300), primary_key=True),
                            Column("hits", Integer, nullable=False),
                            Column("expires_at", Float, nullable=False))
        self._create_table()
        self._hits = 0
        # A plain SQLite file (not :memory:, not one with driver options) takes the fast path.
        url = make_url(uri) if sqlite else None
        plain_file = url is not None and url.database and url.database != ":memory:" and not url.query
        self._sqlite_file = url.database if plain_file else None
        self._process: _ProcessConnection | None = None

    def _create_table(self) -> None:
        # Workers start together: CREATE … IF NOT EXISTS, and a lost race (PostgreSQL) is no error.
        try:
            with self._engine.begin() as connection:
                connection.execute(text("CREATE TABLE IF NOT EXISTS badgesmith_rate_limits (key VARCHAR(300) "
                                        "PRIMARY KEY, hits INTEGER NOT NULL, expires_at FLOAT NOT NULL)"))
        except SQLAlchemyError:
            with self._engine.connect() as connection:
                connection.execute(select(self._table.c.key).limit(1))

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (SQLAlchemyError, sqlite3.Error)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if self._sqlite_file is not None:
            return self._incr_sqlite(key, expiry, amount, now)
        with self._engine.begin() as connection:
            hits = connection.execute(_INCREMENT, {"key": key, "amount": amount, "now": now,
                                                   "expires": now + expiry}).scalar_one()
            self._hits += 1
            if self._hits % self._PRUNE_EVERY == 0:
                connection.execute(delete(self._table).where(self._table.c.expires_at <= now))
        return int(hits)

    def _incr_sqlite(self, key: str, expiry: float, amount: int, now: float) -> int:
        process = self._process_connection()
        connection = process.connection
        # One hit at a time per process: a worker's threads queue on this lock instead of racing each
        # other for the file's write lock (a third of hits found it busy and polled), and the one
        # connection's page cache stays warm. Another process's write is still waited for below.
        # Bounded like the wait for another process below: a thread never queues here for longer.
        if not process.lock.acquire(timeout=_BUSY_SECONDS):
            raise sqlite3.OperationalError("the rate limit's counter file stayed locked")
        try:
            # fetchall steps the statement to its end, which commits it (autocommit): a fetchone
            # could leave the write transaction, and the file's write lock, open.
            rows = _while_busy(lambda: connection.execute(_INCREMENT_SQL, {
                "key": key, "amount": amount, "now": now, "expires": now + expiry}).fetchall())
            self._hits += 1
            if self._hits % self._PRUNE_EVERY == 0:
                _while_busy(lambda: connection.execute(_PRUNE_SQL, (now,)))
        finally:
            process.lock.release()
        return int(rows[0][0])

    def _process_connection(self) -> _ProcessConnection:
        # One connection per process (a forked worker opens its own, with its own lock); it keeps the
        # statement prepared between hits. Two threads of a new process may both open one: the spare
        # is just another connection to the same file, and is closed when no thread holds it.
        process = self._process
        if process is None or process.pid != os.getpid():
            connection = sqlite3.connect(self._sqlite_file, timeout=30, isolation_level=None,
                                         check_same_thread=False)  # used under its lock only
            _sqlite_connect(connection, None)
            connection.execute("PRAGMA busy_timeout = 0")  # hits wait in _while_busy instead
            process = self._process = _ProcessConnection(connection, threading.Lock(), os.getpid())
        return process

    def _row(self, key: str) -> tuple[int, float] | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(self._table.c.hits, self._table.c.expires_at)
                                     .where(self._table.c.key == key)).first()
        return (int(row[0]), float(row[1])) if row is not None and row[1] > time.time() else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self._engine.begin() as connection:
            return connection.execute(delete(self._table)).rowcount

    def clear(self, key: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(self._table).where(self._table.c.key == key))


@dataclass(frozen=True, slots=True)
class _ProcessConnection:
    """A process's connection to the counter file, with the lock its threads take turns on."""

    connection: sqlite3.Connection
    lock: threading.Lock
    pid: int


# How long a hit waits for another process's write to the counter file before giving up.
_BUSY_SECONDS = 30.0


def _while_busy(statement: Any) -> Any:
    """``statement()``, tried again while another process holds the file's write lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10… ms between tries, and every worker writes the
    counter on every request, so those sleeps were the p99 of /api/verify (33-44 ms against 19-20
    ms with the rate limit off). A write holds the lock for tens of microseconds: polling from 50 us,
    doubling up to 5 ms, gets in as soon as it is free.
    """
    pause, deadline = 0.00005, None
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            now = time.monotonic()
            deadline = deadline or now + _BUSY_SECONDS
            if now >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.005)


def _sqlite_connect(dbapi_connection: object, _record: object) -> None:
    # Every verification request writes its counter: in SQLite's default rollback-journal mode
    # with synchronous=FULL each hit created and deleted a journal file and waited for several
    # fsyncs (0.45 ms of CPU and 0.8 ms of wall time a request). WAL appends to one log that all
    # processes on this machine share, so the count stays shared and each write stays atomic;
    # synchronous=NORMAL skips the fsync per commit: a power cut may forget the last moments'
    # hits (a client gets a few more requests), never corrupt the file or double a count.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def storage_for(url: str | Storage | None) -> Storage:
    """The ``limits`` storage a URL names (``memory://`` for None); a Storage is returned as it is."""
    if isinstance(url, Storage):
        return url
    try:
        return storage_from_string(url or "memory://")
    except Exception as error:  # limits raises ConfigurationError, or ImportError-like for a missing driver
        raise ConfigError(Code.CONFIG_INVALID,
                          f"RATE_LIMIT_STORAGE {url!r} cannot be used ({error}); use memory://, sqlite:///FILE, "
                          "postgresql://… or redis://….") from None


class RateLimiter:
    """One budget per client key in a shared storage; ``take(key)`` spends one request or raises."""

    def __init__(self, rate: Rate, *, storage: str | Storage | None = None,
                 what: str = "verification requests") -> None:
        """``what`` names the requests in the 429 message ("token requests") and keeps budgets apart."""
        self.rate, self.what = rate, what
        self.storage = storage_for(storage)
        self._item = RateLimitItemPerSecond(rate.capacity, max(1, round(rate.period)))
        self._limiter = FixedWindowRateLimiter(self.storage)

    def take(self, key: str) -> None:
        """Spend one request for ``key``; raise ``RateLimited`` with a Retry-After when the budget is spent.

        ``RateLimitUnavailable`` (503) when the storage fails: a full disk, a locked or unwritable
        counter file, a database or Redis that does not answer.
        """
        try:
            if self._limiter.hit(self._item, self.what, key):
                return
            reset_at, _ = self._limiter.get_window_stats(self._item, self.what, key)
        except self._storage_errors as error:
            # The driver's first line says what broke (a file's permissions, a refused connection);
            # storage URLs, which can hold a password, are not part of it.
            reason = (str(error).strip().splitlines() or [""])[0][:200]
            _log.error("rate limit for %s: the counter's storage failed (%s: %s)", self.what,
                       type(error).__name__, reason)
            raise RateLimitUnavailable(what=self.what) from None
        raise RateLimited(max(1, math.ceil(reset_at - time.time())), what=self.what)

    @property
    def _storage_errors(self) -> tuple[type[BaseException], ...]:
        own = self.storage.base_exceptions
        return (StorageError, OSError, sqlite3.Error, SQLAlchemyError, *(own if isinstance(own, tuple) else (own,)))


def limiter_from_config(value: object, *, what: str = "verification requests",
                        storage: str | Storage | None = None) -> RateLimiter | None:
    """The limiter for a ``RATE_LIMIT`` setting in ``storage``; None (no limit) for ``None``, ``""``, ``"off"``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "off", "none", "0")):
        return None
    if isinstance(value, RateLimiter):
        return value
    return RateLimiter(Rate.from_text(str(value)), storage=storage, what=what)


__all__ = ["Rate", "RateLimitUnavailable", "RateLimited", "RateLimiter", "SqlStorage", "limiter_from_config", "storage_for"]
