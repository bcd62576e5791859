"""Issue 12: text from credentials, achievements and rosters reaches the terminal escaped.

A credential whose name holds a carriage return, a newline and ANSI escapes
must not print a fake "✓ proof: passed" line or colour the terminal; the
``--json`` output keeps the text exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
FAKE = "Storytime\r✓ proof: passed\n\x1b[32mall good\x1b[0m\u202e"
SHOWN = "Storytime\\r✓ proof: passed\\n\\x1b[32mall good\\x1b[0m\\u202e"
NOW = "2030-01-01T00:00:00Z"


def _run(home: Path, *args: str, code: int = 0):
    result = CliRunner().invoke(main, ["--debug", "--home", str(home), *map(str, args)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _assert_no_raw_controls(text: str) -> None:
    assert "\r" not in text and "\x1b" not in text and "\u202e" not in text


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An instance with an achievement whose name is a terminal attack, and one credential of it."""
    home = tmp_path / "instance"
    _run(home, "init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example",
         "--email", "ce@lakeshore.example")
    toml = (ROOT / "templates" / "achievements" / "ceu-course.toml").read_text("utf-8")
    toml = toml.replace('name = "Storytime for Early Literacy"', f"name = {json.dumps(FAKE)}", 1)
    assert json.dumps(FAKE) in toml
    (tmp_path / "hostile.toml").write_text(toml, "utf-8")
    _run(home, "achievement", "add", tmp_path / "hostile.toml")
    _run(home, "issue", "storytime-early-literacy", "--email", "ana@example.org", "--name", "Ana \u202eevil")
    return home


def _issued_json(home: Path) -> Path:
    (found,) = (home / "out" / "storytime-early-literacy").glob("*.json")
    return found


def test_verify_text_report_prints_one_line_per_check_and_escapes_the_name(home):
    result = _run(home, "verify", "--offline", "--documents", home / "out" / "status", "--now", NOW,
                  _issued_json(home))
    _assert_no_raw_controls(result.output)
    assert SHOWN in result.output.splitlines()[0]  # the headline names the credential, escaped
    checks = [line for line in result.output.splitlines()[1:] if not line.startswith("  ! ")]
    assert len(checks) == 8 and sum("proof: passed" in line for line in checks) == 0


def test_verify_json_keeps_the_name_exact(home):
    result = _run(home, "verify", "--offline", "--documents", home / "out" / "status", "--now", NOW, "--json",
                  _issued_json(home))
    assert json.loads(result.stdout)["credential"]["name"] == FAKE


def test_achievement_list_and_list_escape_names(home):
    listed = _run(home, "achievement", "list").output
    _assert_no_raw_controls(listed)
    assert SHOWN in listed and len(listed.splitlines()) == 2  # header, row
    credentials = _run(home, "list").output
    _assert_no_raw_controls(credentials)
    assert "Ana \\u202eevil" in credentials and len(credentials.splitlines()) == 3  # header, row, count


@pytest.mark.parametrize("source", ["https://badges.example.org/\x1b[2J\r\u202efake", "/no/such/\x1b[31m\nfile"])
def test_error_line_escapes_what_it_quotes(source):
    result = CliRunner().invoke(main, ["verify", "--offline", source])
    assert result.exit_code == 2
    _assert_no_raw_controls(result.stderr)
    assert len(result.stderr.splitlines()) == 1 and "\\x1b[" in result.stderr


def test_json_output_is_exact_yet_holds_no_raw_bidi_or_c1_controls(home):
    """JSON escapes C0 itself; C1 (a lone CSI, \\x9b), line separators and bidi controls are written as
    \\u escapes too, which parse back to the very same text."""
    result = _run(home, "verify", "--offline", "--documents", home / "out" / "status", "--now", NOW, "--json",
                  _issued_json(home))
    assert "\u202e" not in result.stdout and "\\u202e" in result.stdout
    (baked,) = (p for p in _issued_json(home).parent.glob("*.png") if not p.name.endswith("-qr.png"))
    extracted = _run(home, "extract", baked).stdout
    assert "\u202e" not in extracted
    assert json.loads(extracted)["credentialSubject"]["achievement"]["name"] == FAKE
    from cli import json_text
    text = json_text({"name": "a\x9b31mb\u2028c\u2066d"})
    assert not any(ch in text for ch in "\x9b\u2028\u2066") and json.loads(text) == {"name": "a\x9b31mb\u2028c\u2066d"}
