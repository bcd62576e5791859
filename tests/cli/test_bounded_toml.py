"""Every TOML entry point refuses a hostile file quickly and in little memory (issue 12).

Each command runs in a real subprocess limited to 512 MB of address space:
before the bounds, a 200 KB dotted key needed gigabytes (a MemoryError, exit 3).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
KEY = ".".join(["a"] * 100_000)  # 200 KB
HOSTILE = {
    "dotted key": KEY + " = 1\n",
    "table header": "[" + KEY + "]\n",
    "nested inline tables": "x = " + "{a=" * 30_000 + "1" + "}" * 30_000 + "\n",
    "nested arrays": "x = " + "[" * 100_000 + "1" + "]" * 100_000 + "\n",
}
LIMITED = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20)); "
           "sys.argv[0] = 'badgesmith'; import cli; cli.run()")
ERROR_LINE = re.compile(r"^error \[(TOML_MALFORMED|INPUT_TOO_LARGE)\]: \S.*$")


def _badgesmith(*args: str | Path) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", LIMITED, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert time.monotonic() - started < 20
    return done


def _assert_refused(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and ERROR_LINE.match(lines[0]), done.stderr[-2000:]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("bounded") / "instance"
    result = CliRunner().invoke(main, ["--debug", "--home", str(home), "init", "--name", "Lakeshore",
                                       "--url", "https://badges.lakeshore.example"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return home


@pytest.mark.parametrize("shape", HOSTILE)
def test_achievement_add_refuses_hostile_toml(home, tmp_path, shape):
    path = tmp_path / "course.toml"
    path.write_text(HOSTILE[shape], "utf-8")
    _assert_refused(_badgesmith("--home", home, "achievement", "add", path))


def test_pathway_add_refuses_a_long_dotted_key(home, tmp_path):
    path = tmp_path / "pathway.toml"
    path.write_text(HOSTILE["dotted key"], "utf-8")
    _assert_refused(_badgesmith("--home", home, "pathway", "add", path))


def test_trust_file_with_a_long_table_header_is_refused(tmp_path):
    trust = tmp_path / "known-issuers.toml"
    trust.write_text(HOSTILE["table header"], "utf-8")
    credential = tmp_path / "credential.json"
    credential.write_text("{}", "utf-8")
    _assert_refused(_badgesmith("verify", credential, "--offline", "--trust", trust))


@pytest.mark.parametrize("shape", ["dotted key", "table header"])
def test_settings_file_with_hostile_toml_is_refused(tmp_path, shape):
    home = tmp_path / "instance"
    home.mkdir()
    (home / "badgesmith.toml").write_text("[issuer]\n" + HOSTILE[shape][:60_000], "utf-8")
    _assert_refused(_badgesmith("--home", home, "achievement", "list"))


def test_web_settings_with_a_long_dotted_key_are_refused(tmp_path):
    (tmp_path / "badgesmith.toml").write_text("[web]\n" + HOSTILE["dotted key"][:60_000], "utf-8")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20)); "
            "from pathlib import Path; from app import read_instance_settings; from errors import BadgesmithError\n"
            "try:\n    read_instance_settings(Path(sys.argv[1]))\n"
            "except BadgesmithError as error:\n    print(error.code.value)\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "TOML_MALFORMED", done.stderr[-2000:]
