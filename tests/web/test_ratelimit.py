"""Rate limits: parsing, a spent budget and its Retry-After, per-key budgets, thread safety, and one budget
shared by processes (gunicorn workers) through a SQLite file or PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from errors import ConfigError
from verifier.ratelimit import Rate, RateLimited, RateLimiter, SqlStorage, limiter_from_config, storage_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text,capacity,period", [("60/minute", 60, 60.0), ("10/second", 10, 1.0),
                                                  ("1000/day", 1000, 86400.0), ("5/10minutes", 5, 600.0),
                                                  (" 3 / hour ", 3, 3600.0)])
def test_rate_from_text(text, capacity, period):
    assert Rate.from_text(text) == Rate(capacity, period)


@pytest.mark.parametrize("text", ["sixty", "60", "0/minute", "60/fortnight", ""])
def test_rate_from_bad_text_is_a_config_error(text):
    with pytest.raises(ConfigError) as caught:
        Rate.from_text(text)
    assert caught.value.code.value == "CONFIG_INVALID"


@pytest.mark.parametrize("value", [None, "", "off", "OFF", "0"])
def test_limiter_from_config_off(value):
    assert limiter_from_config(value) is None


def test_an_unknown_storage_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        storage_for("carrier-pigeon://loft")
    assert caught.value.code.value == "CONFIG_INVALID" and "RATE_LIMIT_STORAGE" in caught.value.message


def test_a_spent_budget_is_refused_with_retry_after_until_the_window_ends():
    limiter = RateLimiter(Rate(3, 60.0), storage="memory://")
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited) as caught:
        limiter.take("a")
    assert 59 <= caught.value.retry_after <= 60 and caught.value.http_status == 429
    assert caught.value.to_dict() == {"code": "RATE_LIMITED", "retry_after": caught.value.retry_after,
                                      "message": f"Too many verification requests; please try again in "
                                                 f"{caught.value.retry_after} seconds."}


def test_the_budget_comes_back_when_the_window_ends():
    limiter = RateLimiter(Rate(2, 1.0), storage="memory://")
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(RateLimited) as caught:
        limiter.take("a")
    assert caught.value.retry_after == 1
    time.sleep(1.1)
    limiter.take("a")


def test_budgets_are_per_key_and_per_kind_of_request():
    storage = storage_for("memory://")
    verification = RateLimiter(Rate(1, 60.0), storage=storage)
    tokens = RateLimiter(Rate(1, 60.0), storage=storage, what="token requests")
    verification.take("10.0.0.1")
    verification.take("10.0.0.2")
    tokens.take("10.0.0.1")  # the same address, another budget
    with pytest.raises(RateLimited) as caught:
        verification.take("10.0.0.1")
    assert "verification requests" in caught.value.message


@pytest.mark.parametrize("storage", ["memory://", "sqlite"])
def test_limiter_is_thread_safe(storage, tmp_path):
    url = f"sqlite:///{tmp_path / 'limits.sqlite3'}" if storage == "sqlite" else storage
    limiter = RateLimiter(Rate(100, 3600.0), storage=url)
    allowed, refused = [], []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(50):
            try:
                limiter.take("same-client")
                allowed.append(1)
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 100 and len(refused) == 300


WORKER = """
import sys
from verifier.ratelimit import Rate, RateLimited, RateLimiter
limiter = RateLimiter(Rate(30, 3600.0), storage=sys.argv[1])  # each process opens the storage itself
print("ready", flush=True)
sys.stdin.readline()
allowed = 0
for _ in range(25):
    try:
        limiter.take("203.0.113.7")
        allowed += 1
    except RateLimited:
        pass
print(allowed)
"""


def _allowed_per_process(storage_url: str, processes: int) -> list[int]:
    """Start ``processes`` copies of WORKER on one storage, let them go at once; how many each was allowed."""
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, storage_url], cwd=ROOT, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(processes)]
    try:
        assert [worker.stdout.readline().strip() for worker in workers] == ["ready"] * processes
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        return [int(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()


def test_two_processes_share_one_budget(db_url):
    """Two workers, 25 requests each from one client, a budget of 30: 30 pass in all, not 30 each."""
    counts = _allowed_per_process(db_url, 2)
    assert sum(counts) == 30 and all(count >= 5 for count in counts), counts


def test_sqlite_storage_writes_ahead_and_many_processes_count_exactly(tmp_path):
    """The SQLite file is in WAL mode (no journal file and fsyncs per hit: issue 14), and still one budget:
    four processes, 25 requests each, a budget of 30: exactly 30 pass."""
    import sqlite3

    counts = _allowed_per_process(f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}", 4)
    assert sum(counts) == 30, counts
    with sqlite3.connect(tmp_path / "ratelimits.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT hits FROM badgesmith_rate_limits").fetchall() == [(100,)]


def test_a_sqlite_hit_leaves_the_file_unlocked(tmp_path):
    """Hits on a SQLite file run on the process's own connection, one thread at a time (issue 14); each one
    commits at once, so another process can write straight after it, and the engine's reads see every
    thread's hits."""
    import sqlite3

    storage = storage_for(f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}")
    assert storage.incr("k", 60) == 1
    other = sqlite3.connect(tmp_path / "ratelimits.sqlite3", timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # "database is locked" if the hit's write transaction were still open
    other.execute("ROLLBACK")
    counted = []
    thread = threading.Thread(target=lambda: counted.append(storage.incr("k", 60)))
    thread.start()
    thread.join()
    assert counted == [2] and storage.incr("k", 60) == 3 and storage.get("k") == 3
    other.close()


def test_a_sqlite_hit_waits_for_another_writer_then_counts_and_gives_up_only_after_its_deadline(tmp_path,
                                                                                               monkeypatch):
    """A hit while another process holds the counter file's write lock polls until it is free (SQLite's own
    busy handler slept whole milliseconds, the p99 of /api/verify); a lock held past the deadline is an error."""
    import sqlite3
    import time as clock

    from verifier import ratelimit

    storage = storage_for(f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}")
    assert storage.incr("k", 60) == 1
    other = sqlite3.connect(tmp_path / "ratelimits.sqlite3", timeout=0, isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.2, lambda: other.execute("ROLLBACK")).start()
    started = clock.monotonic()
    assert storage.incr("k", 60) == 2  # waited for the lock, then counted once
    assert 0.15 < clock.monotonic() - started < 2
    monkeypatch.setattr(ratelimit, "_BUSY_SECONDS", 0.1)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError):
            storage.incr("k", 60)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert storage.get("k") == 2


def test_a_sqlite_hit_queued_behind_this_process_own_threads_gives_up_at_the_same_deadline(tmp_path, monkeypatch):
    """A worker's threads take turns on one connection: a thread never waits there longer than a hit would
    wait for another process (the busy deadline), and the count is left as it was."""
    import sqlite3

    from verifier import ratelimit

    storage = storage_for(f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}")
    assert storage.incr("k", 60) == 1
    monkeypatch.setattr(ratelimit, "_BUSY_SECONDS", 0.2)
    process = storage._process_connection()
    process.lock.acquire()  # another thread of this worker, stuck inside its hit
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError):
            storage.incr("k", 60)
        assert 0.15 < time.monotonic() - started < 2
    finally:
        process.lock.release()
    assert storage.incr("k", 60) == 2


def test_sql_storage_counts_expire_and_clear(db_url):
    storage = storage_for(db_url)
    assert isinstance(storage, SqlStorage) and storage.check()
    assert storage.incr("k", 60) == 1 and storage.incr("k", 60, amount=2) == 3
    assert storage.get("k") == 3 and time.time() < storage.get_expiry("k") <= time.time() + 60
    assert storage.incr("short", 1) == 1
    time.sleep(1.05)
    assert storage.get("short") == 0 and storage.incr("short", 1) == 1  # a new window starts from one
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.reset() == 1


def test_two_apps_on_one_instance_share_the_verification_budget(tmp_path):
    """Two gunicorn workers are two apps on one instance folder: by default they count in its SQLite file."""
    from app import create_app

    (tmp_path / "badgesmith.toml").write_text('[web]\nrate_limit = "3/minute"\n', "utf-8")
    workers = [create_app({"HOME": str(tmp_path)}).test_client() for _ in range(2)]
    answers = [workers[n % 2].post("/api/verify", data=b"{}", content_type="application/json").status_code
               for n in range(4)]
    assert 429 not in answers[:3] and answers[3] == 429
    assert (tmp_path / "ratelimits.sqlite3").is_file()


def _break_counter(storage_url: str) -> None:
    """Take the counter's table away under a running limiter, as a restored backup or a careless admin might."""
    from sqlalchemy import create_engine, text

    engine = create_engine(storage_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE badgesmith_rate_limits"))
    finally:
        engine.dispose()


def test_a_counter_that_cannot_count_refuses_with_503_and_logs_why_without_its_url(db_url, caplog):
    """A storage failure is RATE_LIMIT_UNAVAILABLE (503, Retry-After), not a 500 and not a request let through."""
    from verifier.ratelimit import RateLimitUnavailable

    limiter = RateLimiter(Rate(100, 3600.0), storage=db_url)
    limiter.take("198.51.100.4")
    _break_counter(db_url)
    with pytest.raises(RateLimitUnavailable) as refused:
        limiter.take("198.51.100.4")
    assert refused.value.code.value == "RATE_LIMIT_UNAVAILABLE" and refused.value.http_status == 503
    assert refused.value.retry_after == 5 and "verification requests" in refused.value.message
    logged = [record.getMessage() for record in caplog.records if record.name == "verifier.ratelimit"]
    assert logged and "badgesmith_rate_limits" in logged[0]  # the storage's own reason: a missing table
    netloc = urlsplit(db_url).netloc  # PostgreSQL's user, password and host
    assert db_url not in caplog.text and (not netloc or netloc not in caplog.text)


def test_a_sqlite_counter_file_locked_past_the_deadline_is_unavailable(tmp_path, monkeypatch):
    import sqlite3

    from verifier import ratelimit

    url = f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}"
    limiter = RateLimiter(Rate(100, 3600.0), storage=url)
    limiter.take("k")
    monkeypatch.setattr(ratelimit, "_BUSY_SECONDS", 0.1)
    other = sqlite3.connect(tmp_path / "ratelimits.sqlite3", timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ratelimit.RateLimitUnavailable):
            limiter.take("k")
    finally:
        other.execute("ROLLBACK")
        other.close()
    limiter.take("k")  # free again: counting goes on


def test_the_web_app_answers_503_when_its_counter_breaks(tmp_path):
    from app import create_app

    (tmp_path / "badgesmith.toml").write_text('[web]\nrate_limit = "30/minute"\n', "utf-8")
    client = create_app({"HOME": str(tmp_path)}).test_client()
    assert client.post("/api/verify", data=b"{}", content_type="application/json").status_code == 200
    _break_counter(f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}")
    answer = client.post("/api/verify", data=b"{}", content_type="application/json")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"]["code"] == "RATE_LIMIT_UNAVAILABLE"
    page = client.post("/verify", data={"text": "{}"})
    assert page.status_code == 503 and b"try again in 5 seconds" in page.data
