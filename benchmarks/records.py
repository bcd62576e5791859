"""Learner records at scale: pathways progress, pathway evaluation, renewals report, transcript; one JSON line.

    .venv/bin/python benchmarks/records.py [--credentials 100000] [--learners 20000] [--db URL] [--keep]

The registry (a SQLite file in a temporary instance, or ``--db`` for
PostgreSQL) is filled with bulk inserts, not by signing 100,000 credentials:
40 achievements (courses, micro-credentials, two certifications with renewal
rules, ten pathway certificates), 10 pathways added with ``add_pathway``,
100,000 credentials over 20,000 learners spread over four years, and the
pathway awards those learners have already earned. One learner holds 50
really signed credentials for the transcript. Then, with the clock running:

- ``progress_ms``: ``issuer.awarding.pathways.progress(issuer, email)`` for random
  learners (median and p95; target <= 5 ms);
- ``evaluation_ms``: ``award_pathways(issuer, email)``, the work issuing adds
  per credential when nothing new is completed (median and p95; target <= 1 ms);
- ``renewals_report_s``: ``issuer.records.renewals.renewals_due`` over the whole
  registry (target <= 2 s), and ``coordinator_report_s`` for ``report --by organization``;
- ``transcript_ms``: ``issuer.records.transcript.issue_transcript`` of the
  50-credential learner, signed (target <= 100 ms).

A missing ``issuer/records/renewals.py`` or ``issuer/records/transcript.py`` prints null there.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, time as day_start, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from issuer.badge.achievement import Achievement, Renewal, add_duration  # noqa: E402
from issuer.instance.folder import init_instance
from issuer.instance.urls import achievement_url  # noqa: E402
from issuer.awarding.issuing import IssueRequest, Issuer  # noqa: E402
from issuer.store.models import CredentialRow, PathwayAwardRow, StatusListRow  # noqa: E402
from issuer.awarding.pathway_rules import Held, Listing, evaluate  # noqa: E402
from issuer.awarding.pathways import add_pathway, award_pathways, list_pathways, progress  # noqa: E402
from issuer.badge.recipient import lookup_key  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.keystore import save_key  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
TAGS = ("youth-services", "teen-services", "adult-services", "technology")
TRANSCRIPT_LEARNER = "transcript@example.org"


def _achievements() -> list[Achievement]:
    made = []
    for i in range(20):
        made.append(Achievement(f"course-{i}", f"Course {i}", "A webinar.", "Attend.", "Course",
                                credits_available=1 + i % 3, tags=(TAGS[i % 4],)))
    for i in range(8):
        made.append(Achievement(f"micro-{i}", f"Micro-credential {i}", "A skill.", "Assessed.", "MicroCredential",
                                credits_available=2, tags=(TAGS[i % 4],)))
    for i in range(2):
        made.append(Achievement(f"certification-{i}", f"Certification {i}", "Certified.", "Portfolio.",
                                "Certification", valid_for="3y", tags=(TAGS[i],),
                                renewal=Renewal(credits=6, within="3y", tags=(TAGS[i],))))
    for i in range(10):
        made.append(Achievement(f"certificate-{i}", f"Certificate {i}", "A pathway award.", "Complete the pathway.",
                                "Certificate"))
    return made


def _pathway_toml(i: int) -> str:
    # Ten shapes over the same components: two micro-credentials plus CEUs, or 2 of 4 courses plus CEUs.
    head = f'id = "pathway-{i}"\nname = "Pathway {i}"\nawards = "certificate-{i}"\n[requirements]\n'
    if i % 2 == 0:
        return head + (f'all = ["micro-{i % 8}", "micro-{(i + 1) % 8}"]\n'
                       f'credits = {{ min = 6, tags = ["{TAGS[i % 4]}"], within = "2y" }}\n')
    courses = ", ".join(f'"course-{(i + k) % 20}"' for k in range(4))
    return head + f'n_of = {{ n = 2, of = [{courses}], within = "3y" }}\ncredits = {{ min = 4 }}\n'


def setup(folder: Path, database_url: str | None, credentials: int, learners: int) -> tuple[Issuer, list[str]]:
    home = folder / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example",
                             database_url=database_url)
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home, now=lambda: NOW)
    made = _achievements()
    for a in made:
        issuer.registry.put_achievement(issuer.issuer_id, a.id, {
            "ob": a.to_ob(achievement_url(settings, a.id)), "valid_for": a.valid_for,
            "renewal": None if a.renewal is None else {"credits": a.renewal.credits, "within": a.renewal.within,
                                                       "tags": list(a.renewal.tags)}, "images": {}})
    for i in range(10):
        path = folder / f"pathway-{i}.toml"
        path.write_text(_pathway_toml(i), "utf-8")
        add_pathway(issuer, path)
    # 50 real, signed credentials for the transcript (this also opens the status list).
    for n in range(50):
        issuer.issue(made[n % 30].id, IssueRequest(email=TRANSCRIPT_LEARNER, name="Tess Script",
                                                   date=date(2024, 1, 1) + timedelta(days=7 * n)))
    _bulk(issuer, made, credentials, learners)
    emails = [f"learner{i}@example.org" for i in range(learners)]
    return issuer, emails


def _bulk(issuer: Issuer, made: list[Achievement], credentials: int, learners: int) -> None:
    rng = random.Random(7)
    components = [a for a in made if not a.id.startswith("certificate-")]
    catalog = {a.id: Listing(a.name, a.tags, None, None) for a in made}
    pathways = list_pathways(issuer)
    with issuer.registry.session(write=False) as s:
        list_id = s.scalar(select(StatusListRow.id).where(StatusListRow.issuer_id == issuer.issuer_id))
    secret, first_day = issuer.settings.lookup_secret, date(2022, 12, 1)
    per_learner = credentials // learners
    rows, awards, sequence = [], [], 0
    text = json.dumps({"note": "bulk-inserted for the benchmark; not a signed credential"})
    for n in range(learners):
        email = f"learner{n}@example.org"
        key = lookup_key(email, secret)
        held = []
        for k in range(per_learner):
            a = rng.choice(components)
            day = first_day + timedelta(days=rng.randrange(1450) // per_learner * per_learner + k)
            credits = float(a.credits_available or 0)
            until = (datetime.combine(add_duration(day, a.valid_for), day_start(0), tzinfo=timezone.utc)
                     if a.valid_for else None)
            sequence += 1
            rows.append(_row(issuer, f"urn:uuid:{uuid.UUID(int=sequence)}", a.id, key, email, n, day, credits, until,
                             list_id, text))
            held.append(Held(f"urn:uuid:{uuid.UUID(int=sequence)}", a.id, day, credits, until))
        for pathway in pathways:  # what the award path would have done as these were issued
            outcome = evaluate(pathway.requirements, held, catalog, today=NOW.date())
            if outcome.met:
                sequence += 1
                award_id = f"urn:uuid:{uuid.UUID(int=sequence)}"
                rows.append(_row(issuer, award_id, pathway.awards, key, email, n, outcome.completed_on, None, None,
                                 list_id, text))
                awards.append(dict(issuer_id=issuer.issuer_id, pathway=pathway.id, lookup_key=key,
                                   credential_id=award_id, awarded_on=outcome.completed_on,
                                   components=[{"id": h.id} for h in outcome.used], awarded_at=NOW))
    with issuer.registry.session() as s:
        for i in range(0, len(rows), 5000):
            s.execute(insert(CredentialRow), rows[i:i + 5000])
        for i in range(0, len(awards), 5000):
            s.execute(insert(PathwayAwardRow), awards[i:i + 5000])


def _row(issuer, id_, achievement, key, email, n, day, credits, until, list_id, text) -> dict:
    return dict(id=id_, issuer_id=issuer.issuer_id, achievement=achievement, recipient_hash="sha256$" + "0" * 64,
                lookup_key=key, recipient_name=f"Learner {n}", recipient_email=email, recipient_did=None,
                organization=f"Library system {n % 40}", credits=credits, issued_on=day,
                valid_from=datetime.combine(day, day_start(0), tzinfo=timezone.utc), valid_until=until,
                format="di", status="active", status_list_id=list_id, status_index=random.randrange(131072),
                suspension_list_id=None, suspension_index=None, credential=text, created_at=NOW)


def _timed(call, items) -> list[float]:
    times = []
    for item in items:
        start = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median": round(statistics.median(ordered), 3), "p95": round(ordered[int(len(ordered) * 0.95)], 3)}


def measure(issuer: Issuer, emails: list[str]) -> dict:
    rng = random.Random(11)
    sample = rng.sample(emails, 500)
    _timed(lambda e: progress(issuer, e), sample[:20])  # warm the connection pool and caches
    result: dict = {"progress_ms": _summary(_timed(lambda e: progress(issuer, e), sample))}
    new_awards = []
    result["evaluation_ms"] = _summary(_timed(lambda e: new_awards.extend(award_pathways(issuer, e)), sample))
    assert not new_awards, "the bulk data left completed pathways unawarded: the timing would include signing"
    try:
        from issuer.records.renewals import renewals_due
    except ImportError:
        result["renewals_report_s"], result["renewals_due"] = None, None
    else:
        start = time.perf_counter()
        due = renewals_due(issuer, due_within="90d")
        result["renewals_report_s"] = round(time.perf_counter() - start, 3)
        result["renewals_due"] = len(due)
    from issuer.records.reports import coordinator_report

    start = time.perf_counter()
    report = coordinator_report(issuer, by="organization", since=date(2026, 1, 1))
    result["coordinator_report_s"] = round(time.perf_counter() - start, 3)
    result["coordinator_report_groups"] = len(report.rows)
    try:
        from issuer.records.transcript import issue_transcript
    except ImportError:
        result["transcript_ms"] = None
    else:
        issue_transcript(issuer, TRANSCRIPT_LEARNER)  # warm: contexts parsed, templates compiled
        times = _timed(lambda e: issue_transcript(issuer, e), [TRANSCRIPT_LEARNER] * 5)
        result["transcript_ms"] = round(statistics.median(times), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--db", help="A database URL (e.g. an empty postgresql://… database); default SQLite.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary instance (its path goes to stderr).")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="badgesmith-records-"))
    issuer = None
    try:
        start = time.perf_counter()
        issuer, emails = setup(folder, args.db, args.credentials, args.learners)
        with issuer.registry.session(write=False) as s:
            from sqlalchemy import func

            stored = s.scalar(select(func.count()).select_from(CredentialRow))
            awarded = s.scalar(select(func.count()).select_from(PathwayAwardRow))
        gc.collect()
        gc.freeze()  # the setup's million objects are not what is being timed: keep the collector off them
        result = {"database": issuer.registry.engine.dialect.name, "credentials": stored,
                  "learners": args.learners, "pathways": 10, "pathway_awards": awarded,
                  "setup_s": round(time.perf_counter() - start, 1), **measure(issuer, emails)}
        print(json.dumps(result))
    finally:
        if issuer is not None:
            issuer.close()
        if args.keep:
            print(f"instance kept in {folder}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
