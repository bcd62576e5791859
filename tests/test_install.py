"""The installed command works outside the checkout, with a clean PYTHONPATH.

``pip install .`` puts ``app``, ``cli``, ``errors``, ``keys`` and ``templates``
at the top level of site-packages, so the README says to install into an
environment of its own (``pipx install .`` or a venv). This test does exactly
that, offline: it builds the wheel, installs it with ``--no-deps --no-index``
into a throwaway venv whose dependencies come from the project venv (a ``.pth``
line naming its site-packages; the editable install there is not loaded, since
``.pth`` files on a ``.pth``-added path are not read), and runs ``badgesmith``
from a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv holding only the badgesmith wheel (dependencies by a .pth line)."""
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests are not running in a venv, so there is no site-packages to lend the throwaway venv")
    tmp = tmp_path_factory.mktemp("install")
    # Built from a copy: setuptools reuses a build/ folder, which in a working tree may hold stale modules.
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "tests",
                                                                 "node_modules", "demo-instance", "screenshots"))
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", tmp / "dist", source, cwd=tmp)
    [wheel] = (tmp / "dist").glob("badgesmith-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip())
    (site / "project-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp)
    return venv / "bin"


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BADGESMITH_HOME", "VIRTUAL_ENV")}


def test_installed_modules_come_from_the_new_environment_not_the_checkout(installed, tmp_path):
    where = _run(installed / "python", "-c", "import json, app, cli, errors, issuer, keys, schemas, templates, "
                 "verifier; print(json.dumps({m.__name__: m.__file__ for m in (app, cli, errors, issuer, keys, "
                 "schemas, templates, verifier)}))", cwd=tmp_path, env=_clean_env())
    for name, path in json.loads(where.stdout).items():
        assert Path(path).is_relative_to(installed.parent), f"{name} comes from {path}"


def test_installed_command_runs_the_demo_from_another_folder(installed, tmp_path):
    assert "Usage: badgesmith" in _run(installed / "badgesmith", "--help", cwd=tmp_path, env=_clean_env()).stdout
    demo = _run(installed / "badgesmith", "demo", "--no-serve", cwd=tmp_path, env=_clean_env())
    assert "VERIFIED" in demo.stdout.upper(), demo.stdout
    badges = sorted((tmp_path / "demo-instance" / "out").rglob("*.png"))
    badge = next(b for b in badges if not b.name.endswith("-qr.png") and "status" not in b.parts)
    verdict = subprocess.run([installed / "badgesmith", "verify", badge, "--json", "--offline",
                              "--documents", tmp_path / "demo-instance" / "out" / "status"],
                             cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=120)
    report = json.loads(verdict.stdout)
    assert report["container"] == "png" and report["format"] == "di-eddsa-rdfc-2022", report
