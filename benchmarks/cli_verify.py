"""One-shot `badgesmith verify badge.png`: wall time and peak memory from process start to exit.

    .venv/bin/python benchmarks/cli_verify.py [RUNS]

Bakes one signed credential into a PNG (status list in a --documents folder,
--offline), byte-compiles the project as `pip install` does, then runs the
installed `badgesmith` command RUNS times (after 2 unmeasured runs). Prints
one JSON line: median and worst wall seconds, peak RSS in MiB (the largest
of any run, from wait4). Target (issue 14): <= 0.3 s, <= 80 MiB.

The badge is made by a child process: Linux counts a forked child's memory
from the fork, so a measuring process that had imported the issuer side
(about 80 MiB) would be what wait4 reports.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIST_URL = "https://badges.lakeshore.example/status/revocation/1"


def _bake(folder: Path) -> None:
    """(In a child process) the baked PNG, its status list and the documents folder."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from sign_verify import ISSUER_SEED, demo_credentials

    from issuer.badge.art import render_badge_png
    from issuer.badge.bake import bake_png
    from issuer.badge.sign import sign_credential
    from issuer.badge.status import build_status_list_credential, new_bitstring
    from keys.ed25519 import KeyPair
    from schemas.loader import offline_loader

    key = KeyPair.from_seed(ISSUER_SEED)
    loader = offline_loader()
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    status = sign_credential(build_status_list_credential(LIST_URL, key.public_key.did_key, "revocation",
                                                          new_bitstring(), now), key, loader=loader, created=now)
    credential = sign_credential(demo_credentials(1, key)[0], key, loader=loader, created=now)
    art = render_badge_png("Storytime for Early Literacy", "Course", "1.5 CEUs", "Lakeshore Library Association")
    (folder / "badge.png").write_bytes(bake_png(art, json.dumps(credential)))
    (folder / "docs").mkdir()
    (folder / "docs" / "list.json").write_text(json.dumps(status))
    (folder / "docs" / "index.json").write_text(json.dumps({LIST_URL: "list.json"}))


def _run(command: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, f"badgesmith verify exited {child.returncode}"
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def main(runs: int = 20) -> None:
    for name in ("cli.py", "app.py", "errors.py", "keys", "schemas", "verifier", "issuer"):
        path = ROOT / name
        (compileall.compile_dir if path.is_dir() else compileall.compile_file)(str(path), quiet=2)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, __file__, "--bake", folder], check=True)
        command = [str(Path(sys.executable).parent / "badgesmith"), "verify", str(Path(folder, "badge.png")),
                   "--offline", "--documents", str(Path(folder, "docs")), "--now", "2026-11-24T00:00:00Z"]
        for _ in range(2):
            _run(command)
        walls, peaks = zip(*(_run(command) for _ in range(runs)))
    print(json.dumps({
        "runs": runs,
        "wall_median_s": round(statistics.median(walls), 3),
        "wall_max_s": round(max(walls), 3),
        "peak_rss_mib": round(max(peaks), 1),
        "load_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bake"]:
        _bake(Path(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
