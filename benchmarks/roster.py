"""Issue an N-row roster end to end into a temporary instance; print one JSON line.

    .venv/bin/python benchmarks/roster.py [N] [--profile FILE.prof] [--keep]

End to end means what ``badgesmith issue SLUG --roster FILE.csv`` does:
validate every row, then per row build, sign (eddsa-rdfc-2022), self-check
with the verifier, store in the SQLite registry (random status index, one
transaction), bake the PNG and SVG, write the JSON and the QR PNG; then the
summary CSV and the signed status list. The instance, its key and the CSV are
made before the clock starts. Target (issue 4): 10,000 rows in 30 s or less
on the project machine (2 cores).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from issuer.awarding.awards import issue_roster  # noqa: E402
from issuer.instance.folder import init_instance  # noqa: E402
from issuer.awarding.issuing import Issuer  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.keystore import save_key  # noqa: E402

COURSE = Path(__file__).resolve().parents[1] / "templates" / "achievements" / "ceu-course.toml"


def write_roster(path: Path, rows: int) -> None:
    """A roster of distinct attendees of the 1.5-CEU course, all on one past date."""
    lines = ["email,name,credits,date,organization"]
    lines += [f"learner{i}@example.org,Learner {i},1.5,2026-10-01,Branch {i % 17}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(rows: int, folder: Path, profile: Path | None) -> dict[str, float | int]:
    """Set up an instance in ``folder``, then time issuing the roster."""
    home = folder / "instance"
    settings = init_instance(home, name="Lakeshore Library Association",
                             url="https://badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    roster = folder / "attendees.csv"
    write_roster(roster, rows)
    issuer = Issuer.open(home)
    try:
        issuer.add_achievement(COURSE)
        profiler = cProfile.Profile() if profile else None
        cpu = time.process_time()
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        summary = issue_roster(issuer, "storytime-early-literacy", roster)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finally:
        issuer.close()
    assert summary.created == rows, f"expected {rows} new credentials, got {summary.created}"
    # The main process signs and self-checks; on a loaded machine its CPU time per row is what to compare.
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
            "main_cpu_ms_per_row": round(cpu * 1000 / rows, 3), "load_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=10_000)
    parser.add_argument("--profile", type=Path, help="Write cProfile stats of the issuing run here.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary instance (its path goes to stderr).")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="badgesmith-bench-"))
    try:
        print(json.dumps(run(args.rows, folder, args.profile)))
    finally:
        if args.keep:
            print(f"instance kept in {folder}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
