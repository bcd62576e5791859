"""The independent oracle (Digital Bazaar's JS libraries), run as a subprocess.

The tests skip, saying why, only when ``node`` or the oracle's installed copy
(``.oracle/`` with ``node_modules``, made by ``.ci/run`` from ``../shared/oracle``)
is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORACLE = ROOT / ".oracle"


@dataclass
class Oracle:
    """Runs ``node verify.mjs`` / ``node sign.mjs`` from the project's oracle copy."""

    root: Path

    def _run(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(["node", *args], cwd=self.root.parent, capture_output=True, text=True,
                              timeout=120)

    def verify(self, path: Path, *, now: str | None = None, status_dir: Path | None = None,
               didweb_dir: Path | None = None, require_status: bool = False) -> dict:
        args = [str(self.root / "verify.mjs"), str(path)]
        if now:
            args += ["--now", now]
        if status_dir:
            args += ["--status-dir", str(status_dir)]
        if didweb_dir:
            args += ["--didweb-dir", str(didweb_dir)]
        if require_status:
            args.append("--require-status")
        done = self._run(args)
        assert done.returncode in (0, 1), f"oracle usage error: {done.stderr[-2000:]}"
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["verified"] == (done.returncode == 0)
        return result

    def sign(self, unsigned: Path, seed_hex: str, *, suite: str | None = None, jwt: bool = False,
             created: str | None = None) -> str:
        args = [str(self.root / "sign.mjs"), str(unsigned), seed_hex]
        if suite:
            args += ["--suite", suite]
        if jwt:
            args.append("--jwt")
        if created:
            args += ["--created", created]
        done = self._run(args)
        assert done.returncode == 0, f"oracle could not sign: {done.stderr[-2000:]}"
        return done.stdout.strip()


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the Digital Bazaar oracle cannot run")
    if not (ORACLE / "node_modules").is_dir():
        pytest.skip("the oracle is not installed: run .ci/run (it copies ../shared/oracle to .oracle and runs npm ci)")
    return Oracle(ORACLE)
