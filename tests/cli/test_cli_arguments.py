"""Command-line arguments whose bytes are not UTF-8 (issue 12).

Python hands such bytes over as surrogate escapes (``b"\\xff"`` → ``"\\udcff"``).
As text (a name, an e-mail, an id, a URL) they are refused with ``error [USAGE]``
and exit 2, for every command; as a file name (a ``click.Path`` parameter, or
verify's SOURCE naming a file) they are just a path and work.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
BAD = "x\udcff"  # what Python makes of the argument bytes b"x\xff"


def _commands(group: click.Group = main, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))
        else:
            yield path + (name,), command


def _fill(param: click.Parameter, value: str, tmp_path: Path) -> list[str]:
    if isinstance(param.type, click.Path):
        value = str(tmp_path if param.type.file_okay is False else tmp_path / "file.json")
    elif isinstance(param.type, click.Choice):
        value = str(param.type.choices[0])
    elif param.type.name in ("integer", "float"):
        value = "1"
    elif isinstance(param.type, click.DateTime):
        value = "2026-01-01"
    if param.param_type_name == "argument":
        return [value] * (param.nargs if param.nargs > 0 else 1)
    return [param.opts[0], value]


def _text_parameters():
    for path, command in _commands():
        for param in command.params:
            is_text = param.type.name in ("text", "string") and not getattr(param, "is_flag", False)
            if is_text and param.name != "help":
                yield pytest.param(path, param.name, id=" ".join(path) + ":" + param.name)


@pytest.mark.parametrize(("path", "name"), list(_text_parameters()))
def test_every_text_argument_that_is_not_utf8_is_a_usage_error(tmp_path, path, name):
    (tmp_path / "file.json").write_text("{}", "utf-8")
    command = dict(_commands())[path]
    args = []
    for param in command.params:
        if param.name == name:
            args += _fill(param, BAD, tmp_path)
        elif param.required:
            args += _fill(param, "ok", tmp_path)
    result = CliRunner().invoke(main, ["--debug", "--home", str(tmp_path / "none"), *path, *args],
                                catch_exceptions=False)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error [USAGE]: "), result.stderr
    assert "not UTF-8" in lines[0] and "0xff" in lines[0]


def _run(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'badgesmith'; import cli; cli.run()",
                           *[os.fsencode(a) if isinstance(a, str) else a for a in args]],
                          cwd=cwd, capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("args", [
    [b"init", b"--name", b"Lake\xffshore", b"--url", b"https://badges.lakeshore.example"],
    [b"issue", b"storytime-early-literacy", b"--email", b"ada\xfe@example.org", b"--name", b"Ada"],
    [b"achievement", b"show", b"\xff"],
    [b"qr", b"https://badges.example/\xc3(", b"-o", b"qr.png"],
    [b"verify", b"https://badges.example/\xff"],
    [b"\xff"],
])
def test_non_utf8_argument_bytes_give_a_usage_error_in_a_real_process(tmp_path, args):
    done = _run("--home", str(tmp_path / "instance"), *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.decode("utf-8", "backslashreplace").splitlines()
    assert len(lines) == 1 and lines[0].startswith("error [USAGE]: "), lines
    assert not (tmp_path / "instance").exists() and not (tmp_path / "qr.png").exists()


def test_file_names_that_are_not_utf8_are_still_paths(tmp_path):
    home = tmp_path / "instance"
    done = _run("--home", str(home), "init", "--name", "Lakeshore", "--url", "https://badges.example", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    achievement = os.fsdecode(b"course-\xff.toml")
    (tmp_path / achievement).write_bytes((EXAMPLES / "ceu-course.toml").read_bytes())
    done = _run("--home", str(home), "achievement", "add", achievement, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    qr = os.fsdecode(b"qr-\xff.png")
    done = _run("qr", "https://badges.example/c/1", "-o", qr, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / qr).read_bytes().startswith(b"\x89PNG")
    done = _run("verify", qr, cwd=tmp_path)  # SOURCE naming an existing file is a path: read, then judged
    assert done.returncode == 2 and b"[USAGE]" not in done.stderr, done.stderr
