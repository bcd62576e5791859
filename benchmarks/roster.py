"""Issue an N-row roster end to end into a temporary instance; print one JSON line.

    .venv/bin/python benchmarks/roster.py [N] [--profile FILE.prof] [--keep] [--no-stages]

End to end means what ``badgesmith issue SLUG --roster FILE.csv`` does:
validate every row, then per row build, sign (eddsa-rdfc-2022), self-check,
store in the SQLite registry (random status index, one transaction per 200
rows), bake the PNG and SVG, write the JSON and the QR PNG; then the summary
CSV and the signed status list. The instance, its key and the CSV are made
before the clock starts. Target (issue 14): 10,000 rows in 15 s or less on the
project machine (2 cores).

The machine is shared, so besides the wall time it prints CPU per row: the
main process's (``main_cpu_ms_per_row``) and each worker process's (read
from ``/proc`` while the run goes: ``worker_cpu_ms_per_row``), and, unless
``--no-stages``, a per-stage breakdown of one core's CPU per row measured
afterwards on 500 rows in this process (``stages_ms_per_row``: build, sign,
self-check, baking, QR, ...), which is what to compare between two versions.
``file_create_us`` is the kernel's CPU time to create a file, measured just
before the run: a run started within minutes of another run's 40,000 files
being deleted finds the disk in a state where that is ten times what it
usually is, and pays for it (``worker_system_cpu_ms_per_row``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from issuer.awarding.awards import issue_roster  # noqa: E402
from issuer.instance.folder import init_instance  # noqa: E402
from issuer.awarding.issuing import Issuer  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.keystore import save_key  # noqa: E402

COURSE = Path(__file__).resolve().parents[1] / "templates" / "achievements" / "ceu-course.toml"
SLUG = "storytime-early-literacy"
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def write_roster(path: Path, rows: int) -> None:
    """A roster of distinct attendees of the 1.5-CEU course, all on one past date."""
    lines = ["email,name,credits,date,organization"]
    lines += [f"learner{i}@example.org,Learner {i},1.5,2026-10-01,Branch {i % 17}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Descendants:
    """CPU seconds (user + system) of every process descended from this one (the forkserver's workers
    are grandchildren), sampled from /proc every 20 ms while the run goes: the last sample of a worker
    is at most 20 ms before it exits. The sampling costs this process about 0.01 ms of CPU per row."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.system: dict[int, float] = {}  # the kernel's share of it (file writes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Descendants:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.02):
            pending = _children(me)
            while pending:
                pid = pending.pop()
                try:
                    with open(f"/proc/{pid}/stat", "rb") as stat:
                        fields = stat.read().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / _TICKS)
                self.system[pid] = max(self.system.get(pid, 0.0), int(fields[12]) / _TICKS)
                pending.extend(_children(pid))


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of any of its threads), from /proc: a few reads, not a scan."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as children:
                found.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return found


def file_create_us(folder: Path, files: int = 300) -> float:
    """The kernel's CPU time (µs) to create one small file in a new folder beside the run's: what a roster's
    four files a row cost on this disk now. On the project's VM it is about 20-100 µs, but 300-700 µs for
    minutes after some 40,000 files were deleted (a previous run's clean-up): ext4 then takes far longer to
    find a free inode. Printed with the run so that a slow figure says whether the disk was in that state."""
    probe = folder / "create-probe"
    probe.mkdir()
    before = os.times()
    for i in range(files):
        os.close(os.open(probe / f"{i}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    after = os.times()
    for i in range(files):
        os.unlink(probe / f"{i}.json")
    probe.rmdir()
    return round((after.system - before.system) * 1e6 / files)


def stages(issuer: Issuer, rows: int = 500) -> dict[str, float]:
    """One core's CPU per row (ms) of each step of issuing a roster row, on ``rows`` rows (best of 3)."""
    from issuer.awarding.issuing import IssueRequest
    from issuer.awarding.outputs import _pretty, achievement_image
    from issuer.badge.bake import bake_png, bake_svg
    from issuer.badge.qr import qr_png

    definition = issuer.achievement(SLUG)
    now = issuer.now()
    requests = [IssueRequest(email=f"stage{i}@example.org", name=f"Learner {i}", credits=1.5) for i in range(rows)]
    status = [[{"id": f"{issuer.settings.url}/status/revocation/1#{i}", "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation", "statusListIndex": str(i),
                "statusListCredential": f"{issuer.settings.url}/status/revocation/1"}] for i in range(rows)]
    out: dict[str, float] = {}

    def timed(name: str, work):
        best = None
        for _ in range(3):
            cpu = time.process_time()
            result = work()
            cpu = time.process_time() - cpu
            best = cpu if best is None else min(best, cpu)
        out[name] = round(best * 1000 / rows, 3)
        return result

    prepared = timed("prepare", lambda: [issuer._prepare(SLUG, r, suspension=False, definition=definition)
                                         for r in requests])
    signer = issuer.signer()
    unsigned = timed("build", lambda: [signer.build(definition, task.request, credential_id=task.credential_id,
                                                    status=s, salt=task.salt, now=now)
                                       for (_, task), s in zip(prepared, status)])
    signed = timed("sign", lambda: [signer.signed(u, fmt="di", now=now) for u in unsigned])
    timed("self_check", lambda: [signer.self_check(s, now=now) for s in signed])
    texts = [s.text for s in signed]
    png, svg = achievement_image(issuer.settings, definition, "png"), achievement_image(issuer.settings, definition, "svg")
    timed("bake_png", lambda: [bake_png(png, t) for t in texts])
    pretty = timed("json_pretty", lambda: [_pretty(t) for t in texts])
    if svg is not None:
        timed("bake_svg", lambda: [bake_svg(svg, p) for p in pretty])
    timed("qr", lambda: [qr_png(issuer.credential_page(new.id)) for new, _ in prepared])
    return out


def run(rows: int, folder: Path, profile: Path | None, with_stages: bool = True) -> dict[str, object]:
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
        create_us = file_create_us(folder)
        profiler = cProfile.Profile() if profile else None
        with Descendants() as workers:
            cpu = time.process_time()
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            summary = issue_roster(issuer, SLUG, roster)
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile)
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
        breakdown = stages(issuer) if with_stages else None
    finally:
        issuer.close()
    assert summary.created == rows, f"expected {rows} new credentials, got {summary.created}"
    result: dict[str, object] = {
        "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
        "main_cpu_ms_per_row": round(cpu * 1000 / rows, 3),
        # the forkserver itself does next to nothing; its workers are the file (and signing) processes
        "worker_cpu_ms_per_row": sorted((round(c * 1000 / rows, 3) for c in workers.cpu.values() if c > 0.05),
                                        reverse=True),
        "worker_system_cpu_ms_per_row": sorted((round(workers.system[p] * 1000 / rows, 3) for p, c in
                                                workers.cpu.items() if c > 0.05), reverse=True),
        "total_cpu_ms_per_row": round((cpu + sum(workers.cpu.values())) * 1000 / rows, 3),
        "file_create_us": create_us,
        "load_1min": round(os.getloadavg()[0], 2)}
    if breakdown is not None:
        result["stages_ms_per_row"] = breakdown
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=10_000)
    parser.add_argument("--profile", type=Path, help="Write cProfile stats of the issuing run (main process) here.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary instance (its path goes to stderr).")
    parser.add_argument("--no-stages", action="store_true", help="Skip the per-stage breakdown after the run.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="badgesmith-bench-"))
    try:
        print(json.dumps(run(args.rows, folder, args.profile, not args.no_stages)))
    finally:
        if args.keep:
            print(f"instance kept in {folder}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
