"""Files and folders the user names for output (issue 12): ``bake -o``, ``qr -o``, ``transcript -o``,
``renewals --notices DIR``.

The folder must exist (USAGE naming it: no traceback, no silent mkdir of a
path that promises a file in an existing folder). Whatever already sits at the
path must be what we would write there: a FIFO, a device, a folder in place of
a file or a symbolic link is refused and left exactly as it was. A regular
file is replaced atomically.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from errors import Code, InputError
from issuer.instance.files import check_output_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
COURSE = "storytime-early-literacy"
EMAIL = "ada@example.org"


def _run(home: Path, *args, code: int = 0):
    result = CliRunner().invoke(main, ["--debug", "--home", str(home), *map(str, args)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    if code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error [USAGE]: "), result.stderr
        assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("outputs") / "instance"
    _run(home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example", "--email",
         "ce@lakeshore.example")
    _run(home, "achievement", "add", EXAMPLES / "ceu-course.toml")
    _run(home, "issue", COURSE, "--email", EMAIL, "--name", "Ada")
    return home


def _commands(home: Path) -> dict:
    """command name → argv writing the file at the path put in for OUT."""
    folder = home / "out" / COURSE
    credential = next(folder.glob("*[0-9a-f].json"))
    image = next(folder.glob("*-qr.png"))
    return {
        "bake": ["bake", credential, image, "-o", "OUT"],
        "qr": ["qr", "https://badges.lakeshore.example/c/1", "-o", "OUT"],
        "transcript": ["transcript", "--email", EMAIL, "-o", "OUT"],
    }


def _with(argv: list, target: Path) -> list:
    return [target if a == "OUT" else a for a in argv]


COMMANDS = ["bake", "qr", "transcript"]


@pytest.mark.parametrize("command", COMMANDS)
def test_output_in_a_missing_folder_is_a_usage_error_naming_it(home, tmp_path, command):
    target = tmp_path / "missing" / "out.png"
    result = _run(home, *_with(_commands(home)[command], target), code=2)
    assert str(tmp_path / "missing") in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_output_over_a_regular_file_replaces_it(home, tmp_path, command):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    _run(home, *_with(_commands(home)[command], target))
    assert target.read_bytes() != b"old" and stat.S_ISREG(os.lstat(target).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left


def _make(kind: str, path: Path, tmp_path: Path) -> Path | None:
    """Put a ``kind`` at ``path``; returns the file a link points to."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":  # /dev/null's twin, so an unguarded rename cannot touch the real one
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif kind == "folder":
        path.mkdir()
    elif kind == "symlink":
        pointed = tmp_path / "precious.png"
        pointed.write_bytes(b"precious")
        path.symlink_to(pointed)
        return pointed
    elif kind == "dangling symlink":
        path.symlink_to(tmp_path / "nowhere.png")
    return None


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "symlink", "dangling symlink"])
@pytest.mark.parametrize("command", COMMANDS)
def test_output_over_a_special_file_is_refused_and_left_alone(home, tmp_path, command, kind):
    target = tmp_path / "out.png"
    pointed = _make(kind, target, tmp_path)
    before = os.lstat(target)
    result = _run(home, *_with(_commands(home)[command], target), code=2)
    assert str(target) in result.stderr
    after = os.lstat(target)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    if pointed is not None:
        assert pointed.read_bytes() == b"precious"
    assert not (tmp_path / "nowhere.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) <= ["out.png", "precious.png"]


def test_dev_null_is_refused_as_an_output_file():
    """Checked without a write: an unguarded write (as root) would replace the real /dev/null."""
    with pytest.raises(InputError, match="/dev/null is a device, not a regular file") as caught:
        check_output_file(Path("/dev/null"))
    assert caught.value.code is Code.USAGE


def test_notices_folder_whose_parent_is_missing_is_a_usage_error(home, tmp_path):
    result = _run(home, "renewals", "--notices", tmp_path / "missing" / "notices", code=2)
    assert str(tmp_path / "missing") in result.stderr
    assert not (tmp_path / "missing").exists()


def test_notices_folder_is_made_when_only_it_is_missing(home, tmp_path):
    _run(home, "renewals", "--notices", tmp_path / "notices")
    assert (tmp_path / "notices").is_dir()


@pytest.mark.parametrize("kind", ["fifo", "symlink", "regular file"])
def test_notices_path_that_is_not_a_real_folder_is_refused(home, tmp_path, kind):
    target = tmp_path / "notices"
    if kind == "regular file":
        target.write_bytes(b"x")
    elif kind == "symlink":
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
    else:
        _make(kind, target, tmp_path)
    before = os.lstat(target)
    result = _run(home, "renewals", "--notices", target, code=2)
    assert str(target) in result.stderr
    assert os.lstat(target).st_mode == before.st_mode
