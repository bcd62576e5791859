"""Roster dry runs and re-runs (issue 16): what a coordinator waits for when checking or repeating a roster.

    .venv/bin/python benchmarks/roster_rerun.py [N] [--profile DIR] [--keep]

Into a temporary instance (made before any clock starts), with an N-row roster
(default 10,000): the dry run of the new roster (``issue --roster --dry-run``:
read and check every row, plan each against the registry), the first run
(issuing everything; timed for information only, benchmarks/roster.py is its
benchmark), then the dry run again and the re-run of the issued roster
(``issue --roster`` again: every row already issued, nothing signed, every
file checked, a new summary CSV). Targets: a 10,000-row dry run in 2 s or less,
a re-run in 5 s or less. Prints one JSON line with wall seconds, this
process's CPU seconds and the load (the machine is shared: compare CPU).
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

from benchmarks.roster import COURSE, write_roster  # noqa: E402
from issuer.awarding.awards import check_roster, issue_roster  # noqa: E402
from issuer.awarding.issuing import Issuer  # noqa: E402
from issuer.instance.folder import init_instance  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.keystore import save_key  # noqa: E402

SLUG = "storytime-early-literacy"


def _timed(name: str, profile: Path | None, work):
    """(result, {name_s, name_cpu_s}) of ``work()``, profiled into ``profile/name.prof`` when asked."""
    profiler = cProfile.Profile() if profile else None
    cpu, start = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    result = work()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile / f"{name}.prof")
    return result, {f"{name}_s": round(time.perf_counter() - start, 2),
                    f"{name}_cpu_s": round(time.process_time() - cpu, 2)}


def run(rows: int, folder: Path, profile: Path | None) -> dict[str, float | int]:
    home = folder / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    roster = folder / "attendees.csv"
    write_roster(roster, rows)
    issuer = Issuer.open(home)
    out: dict[str, float | int] = {"rows": rows}
    try:
        issuer.add_achievement(COURSE)
        check, times = _timed("dry_run_new", profile, lambda: check_roster(issuer, SLUG, roster))
        assert check.is_valid and check.count("new") == rows
        out.update(times)
        first, times = _timed("first_run", None, lambda: issue_roster(issuer, SLUG, roster))
        assert first.created == rows
        out.update(times)
        check, times = _timed("dry_run_issued", profile, lambda: check_roster(issuer, SLUG, roster))
        assert check.count("already issued") == rows
        out.update(times)
        again, times = _timed("rerun", profile, lambda: issue_roster(issuer, SLUG, roster))
        assert (again.created, again.existing) == (0, rows)
        out.update(times)
    finally:
        issuer.close()
    out["load_1min"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=10_000)
    parser.add_argument("--profile", type=Path, help="Write cProfile stats of each timed step into this folder.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary instance (its path goes to stderr).")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
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
