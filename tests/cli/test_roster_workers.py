"""A roster run killed with ``kill -9`` leaves no worker process behind (issue 12).

The run is a real ``badgesmith issue … --roster`` in its own session; once its
file-writing workers exist, the main process is SIGKILLed and every process of
that session (workers, forkserver, resource tracker) must be gone within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"


def _session(sid: int) -> dict[int, str]:
    """Live (not zombie) processes of session ``sid``: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state ppid pgrp session …
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def test_killed_roster_run_leaves_no_workers(tmp_path):
    home = tmp_path / "instance"
    for args in (["init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example"],
                 ["achievement", "add", str(EXAMPLES / "ceu-course.toml")]):
        result = CliRunner().invoke(main, ["--debug", "--home", str(home), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\n" + "".join(f"learner{i}@example.org,Learner {i}\n" for i in range(600)),
                      "utf-8")
    run = subprocess.Popen([sys.executable, "-c", "import sys; sys.argv[0] = 'badgesmith'; import cli; cli.run()",
                            "--home", str(home), "issue", "storytime-early-literacy", "--roster", str(roster)],
                           cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run.poll() is None:
            others = {pid: cmd for pid, cmd in _session(run.pid).items() if pid != run.pid}
            if sum("forkserver" in cmd or "spawn_main" in cmd for cmd in others.values()) >= 2:
                break  # the forkserver and at least one worker forked from it (or spawned workers)
            time.sleep(0.05)
        else:
            raise AssertionError(f"no workers appeared (exit {run.poll()}): {run.stderr.read()[-2000:]!r}")
        time.sleep(0.3)  # the workers are busy writing files
        assert run.poll() is None, "the run finished before it could be killed: make the roster longer"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        deadline = time.monotonic() + 10
        while (left := _session(run.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, f"left behind: {left}"
    finally:
        for pid in _session(run.pid):
            os.kill(pid, signal.SIGKILL)
        run.stderr.close()
