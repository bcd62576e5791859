"""The independent oracle: Digital Bazaar's JS libraries, run as a subprocess.

Our scripts ``sign.mjs`` and ``verify.mjs`` (with ``lib/``) sit beside this
file, with ``package.json`` and ``package-lock.json`` pinning the libraries;
``make test`` runs ``npm ci`` here (into ``tests/interop/node_modules``).
The tests skip, saying why, only when ``node`` or those packages are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@dataclass
class Oracle:
    """Runs ``node verify.mjs`` / ``node sign.mjs`` from ``root`` (this folder)."""

    root: Path

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["node", *args], cwd=self.root, capture_output=True, text=True, timeout=timeout)

    def verify(self, path: Path, *, now: str | None = None, status_dir: Path | None = None,
               didweb_dir: Path | None = None, require_status: bool = False) -> dict:
        """The oracle's verdict on one file: ``{"verified", "format", "errors", "warnings"[, "container"]}``."""
        [result] = self.verify_many([path], now=now, status_dir=status_dir, didweb_dir=didweb_dir,
                                    require_status=require_status).values()
        return result

    def verify_many(self, paths: list[Path], *, now: str | None = None, status_dir: Path | None = None,
                    didweb_dir: Path | None = None, require_status: bool = False) -> dict[Path, dict]:
        """Verdicts on many files from one node process (node starts in about half a second): {path: verdict}."""
        args = [str(self.root / "verify.mjs"), *map(str, paths)]
        if now:
            args += ["--now", now]
        if status_dir:
            args += ["--status-dir", str(status_dir)]
        if didweb_dir:
            args += ["--didweb-dir", str(didweb_dir)]
        if require_status:
            args.append("--require-status")
        done = self._run(args, timeout=120 + 2 * len(paths))
        assert done.returncode in (0, 1), f"oracle usage error: {done.stderr[-2000:]}"
        results = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(results) == len(paths) and all(r["verified"] for r in results) == (done.returncode == 0)
        return {Path(r.pop("file")): r for r in results}

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
    if not (HERE / "node_modules" / ".package-lock.json").is_file():
        pytest.skip("the oracle's npm packages are not installed: make test runs npm ci in tests/interop")
    return Oracle(HERE)
