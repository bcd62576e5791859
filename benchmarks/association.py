"""An association at scale (issue 18): 100,000 credentials across 10 divisions on one database; one JSON line.

    .venv/bin/python benchmarks/association.py [--credentials 100000] [--divisions 10] [--learners 20000]
                                               [--samples 200] [--db URL] [--keep]

The association and its divisions are made as ``badgesmith association init``
and ``badgesmith init --association`` make them (a SQLite file in a temporary
folder, or ``--db`` for PostgreSQL); each division gets 10 achievements, and
the association a pathway needing a course from each of three divisions. The
credentials are bulk inserts (not 100,000 signatures), spread evenly over the
divisions and over ``--learners`` members keyed with the association's lookup
secret, 2 % of them revoked. Then, with the clock running:

- ``record_ms``: ``issuer.association.learner_record.association_view`` for random
  members: every division's credentials, CEUs per year and per division, progress
  on the association pathway (median and p95 wall time, and CPU time per record;
  target <= 10 ms).
- ``report_s``: ``issuer.association.report.association_report`` over the whole
  database, once per grouping (division, learner, organization, achievement), wall
  and CPU seconds (target <= 2 s each). The credentials name 300 organisations, and
  1 % of them are superseded by a correction (revoked, ``superseded_by`` set), so
  the report's exclusions are exercised.
- ``catalog_ms``: ``issuer.association.catalog.build_catalog`` and a keyword search,
  what ``/catalog`` does per request (median wall and CPU ms over 20 runs).

Report CPU time and the load (``uptime``) on a shared machine, not wall rates alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, time as day_start, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from issuer.association.learner_record import association_view  # noqa: E402
from issuer.association.catalog import CatalogQuery, build_catalog  # noqa: E402
from issuer.association.report import GROUPS, association_report  # noqa: E402
from issuer.association.pathways import achievement_key, add_association_pathway  # noqa: E402
from issuer.association.setup import Association, create_association, create_division, open_association  # noqa: E402
from issuer.badge.achievement import Achievement  # noqa: E402
from issuer.badge.recipient import lookup_key  # noqa: E402
from issuer.instance.urls import achievement_url  # noqa: E402
from issuer.store.models import CredentialRow  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
PER_DIVISION = 10
BATCH = 5000


def _division_achievements(d: int) -> list[Achievement]:
    return [Achievement(f"course-{d}-{i}", f"Division {d} course {i}", "A webinar.", "Attend.", "Course",
                        credits_available=1 + i % 3, tags=(f"division-{d}",)) for i in range(PER_DIVISION)]


def setup(folder: Path, database_url: str | None, credentials: int, divisions: int,
          learners: int) -> tuple[Association, list[str]]:
    """The association in ``folder`` with ``divisions`` divisions and ``credentials`` credentials; the members."""
    made = create_association(folder / "association", name="National Library Association",
                              url="https://nla.example", database_url=database_url)
    home = made.issuer.settings.home
    made.close()
    division_ids, settings_of = [], []
    for d in range(divisions):
        division = create_division(folder / f"division-{d}", association=str(home), name=f"Division {d}",
                                   url=f"https://division-{d}.nla.example")
        for a in _division_achievements(d):
            division.registry.put_achievement(division.issuer_id, a.id, {
                "ob": a.to_ob(achievement_url(division.settings, a.id)), "valid_for": None, "renewal": None,
                "images": {}})
        division_ids.append(division.issuer_id)
        settings_of.append(division.settings)
        division.close()
    association = open_association(home)
    association.issuer.now = lambda: NOW
    leadership = folder / "leadership.toml"
    leadership.write_text('id = "leadership-certificate"\nname = "Leadership Certificate"\n'
                          'achievement_type = "Certificate"\ndescription = "Three divisions."\n'
                          'criteria = "Complete the pathway."\n', "utf-8")
    association.issuer.add_achievement(leadership)
    parts = [achievement_key(settings_of[d].url, f"course-{d}-0") for d in range(min(3, divisions))]
    pathway = folder / "pathway.toml"
    pathway.write_text('id = "leadership"\nname = "Leadership"\nawards = "leadership-certificate"\n'
                       f"[requirements]\nall = {json.dumps(parts)}\n", "utf-8")
    add_association_pathway(association, pathway)
    emails = [f"member{i}@example.org" for i in range(learners)]
    _bulk(association, division_ids, emails, credentials)
    return association, emails


def _bulk(association: Association, division_ids: list[int], emails: list[str], credentials: int) -> None:
    rng = random.Random(18)
    keys = [lookup_key(email, association.lookup_secret) for email in emails]
    first_day = date(2022, 12, 1)
    rows = []
    with association.registry.engine.begin() as connection:
        for n in range(credentials):
            division = n % len(division_ids)
            learner = rng.randrange(len(emails))
            day = first_day + timedelta(days=rng.randrange(4 * 365))
            rows.append({
                "id": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}", "issuer_id": division_ids[division],
                "achievement": f"course-{division}-{n // len(division_ids) % PER_DIVISION}",
                "recipient_hash": "sha256$" + "0" * 64, "lookup_key": keys[learner],
                "recipient_name": f"Member {learner}", "recipient_email": emails[learner],
                "credits": 1 + n % 3, "issued_on": day,
                "valid_from": datetime.combine(day, day_start(0), tzinfo=timezone.utc), "valid_until": None,
                "format": "di", "status": "revoked" if rng.random() < 0.02 else "active",
                "credential": "{}", "created_at": NOW, "award_key": f"bench:{n}",
                "organization": f"Library system {learner % 300}"})
            if rng.random() < 0.01:  # a correction replaced it (Registry.supersede: revoked, key given up)
                rows[-1].update(status="revoked", award_key=None, superseded_by=f"urn:uuid:{uuid.uuid4()}")
            if len(rows) == BATCH:
                connection.execute(insert(CredentialRow), rows)
                rows = []
        if rows:
            connection.execute(insert(CredentialRow), rows)


def _timed(run, samples: list) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for sample in samples:
        started, started_cpu = time.perf_counter(), time.process_time()
        run(sample)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def _summary(wall: list[float], cpu: list[float]) -> dict[str, float]:
    wall = sorted(wall)
    return {"median": round(statistics.median(wall), 3), "p95": round(wall[int(len(wall) * 0.95) - 1], 3),
            "cpu_median": round(statistics.median(cpu), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--divisions", type=int, default=10)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--db", help="a PostgreSQL URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="badgesmith-association-"))
    started = time.perf_counter()
    association, emails = setup(folder, args.db, args.credentials, args.divisions, args.learners)
    setup_s = time.perf_counter() - started
    rng = random.Random(5)
    members = [lookup_key(email, association.lookup_secret) for email in rng.sample(emails, args.samples)]
    association_view(association, members[0])  # warm: definitions cached, statements compiled
    gc.collect()
    record = _summary(*_timed(lambda key: association_view(association, key), members))
    report = {}
    for by in GROUPS:
        wall, cpu = _timed(lambda group: association_report(association, by=group, since=date(2023, 1, 1),
                                                            until=NOW.date()), [by])
        report[by] = {"wall": round(wall[0] / 1000, 3), "cpu": round(cpu[0] / 1000, 3)}
    catalog = _summary(*_timed(lambda q: build_catalog(association).search(CatalogQuery(q=q)), ["course 3"] * 20))
    result = {"benchmark": "association", "credentials": args.credentials, "divisions": args.divisions,
              "learners": args.learners, "database": association.registry.engine.dialect.name,
              "setup_s": round(setup_s, 1), "record_ms": record, "record_target_ms": 10,
              "report_s": report, "report_target_s": 2, "catalog_ms": catalog, "load": os.getloadavg()}
    association.close()
    print(json.dumps(result))
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
