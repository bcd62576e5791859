"""The command line a coordinator scripts against (issue 16).

Global options anywhere, errors as JSON under ``--json`` (same exit code), ``-h``, the version
from the package metadata, quiet broken pipes (a real pipe to a reader that leaves early),
``list`` filters under a header row, and status changes by badge page URL that are a notice,
not an error, when the credential is already in the state asked for.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
COURSE = "storytime-early-literacy"
CERTIFICATION = "certified-youth-services-librarian"


def run(*args: str, code: int = 0, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, [*map(str, args)], catch_exceptions=False, env=env)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """An instance with a course, a certification and three credentials (one suspendable)."""
    home = tmp_path_factory.mktemp("scripting") / "instance"
    run("--home", home, "init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    run("--home", home, "achievement", "add", EXAMPLES / "ceu-course.toml", EXAMPLES / "certification.toml")
    run("--home", home, "issue", COURSE, "--email", "ana@example.org", "--name", "Ana", "--date", "2026-01-10")
    run("--home", home, "issue", COURSE, "--email", "bo@example.org", "--name", "Bo", "--date", "2026-03-01",
        "--suspendable")
    return home


# -- global options before or after the subcommand ------------------------------------------------------


def test_home_json_and_debug_work_before_and_after_the_subcommand(home):
    before = json.loads(run("--home", home, "--json", "list").stdout)
    after = json.loads(run("list", "--json", "--home", home).stdout)
    mixed = json.loads(run("--json", "list", "--debug", f"--home={home}").stdout)
    assert before == after == mixed and len(before) >= 2
    nested = json.loads(run("keys", "list", "--home", home, "--json").stdout)
    assert [k["key_id"] for k in nested] == ["key-1"]
    achievements = json.loads(run("--json", "--home", home, "achievement", "list").stdout)
    assert {a["slug"] for a in achievements} == {COURSE, CERTIFICATION}


def test_an_option_value_that_looks_like_a_global_option_stays_a_value(home, tmp_path):
    out = run("issue", COURSE, "--home", home, "--email", "cy@example.org", "--name", "--json",
              "--date", "2026-04-01").stdout
    assert out.startswith("Issued: ") and " to --json" in out  # text output: --json was the name
    rows = json.loads(run("list", "--home", home, "--email", "cy@example.org", "--json").stdout)
    assert [r["recipient"] for r in rows] == ["--json"]
    run("revoke", rows[0]["id"], "--reason", "test row", "--home", home)


def test_a_global_option_without_its_value_is_a_usage_error():
    result = run("list", "--home", code=2)
    assert result.stderr.startswith("error [USAGE]: Option '--home' requires an argument")


def test_every_command_and_group_answers_dash_h(home):
    def paths(group: click.Group, prefix: tuple[str, ...] = ()):
        for name, command in sorted(group.commands.items()):
            yield prefix + (name,)
            if isinstance(command, click.Group):
                yield from paths(command, prefix + (name,))

    for path in [(), *paths(main)]:
        short, long = run(*path, "-h"), run(*path, "--help")
        assert short.stdout == long.stdout and short.stdout.startswith("Usage: ")
        assert "-h, --help" in short.stdout, path


def test_the_version_is_the_package_metadata():
    assert run("--version").stdout.strip() == f"badgesmith, version {importlib.metadata.version('badgesmith')}"


# -- errors: one sentence on stderr, or a JSON object on stdout, with the same exit code ---------------


@pytest.mark.parametrize("args, code, exit_code", [
    (["list", "--home", "{missing}"], "INSTANCE_NOT_FOUND", 2),
    (["list", "--home", "{home}", "--status", "lost"], "USAGE", 2),
    (["issue", "no-such-course", "--home", "{home}", "--email", "a@example.org"], "ACHIEVEMENT_NOT_FOUND", 2),
    (["revoke", "--home", "{home}"], "USAGE", 2),
])
def test_errors_under_json_are_an_object_on_stdout_with_the_same_exit_code(home, tmp_path, args, code, exit_code):
    args = [a.format(home=home, missing=tmp_path / "none") for a in args]
    text = run(*args, code=exit_code)
    assert text.stdout == "" and text.stderr.startswith(f"error [{code}]: ") and len(text.stderr.splitlines()) == 1
    for placed in (["--json", *args], [*args, "--json"]):
        result = run(*placed, code=exit_code)
        error = json.loads(result.stdout)
        assert set(error) == {"code", "message", "details"} and error["code"] == code
        assert error["message"] == text.stderr.split("]: ", 1)[1].strip()
        assert result.stderr == ""


def test_a_missing_command_shows_the_help_or_under_json_says_so():
    for path in ((), ("keys",)):
        alone = run(*path, code=2)
        assert alone.stdout == "" and alone.stderr.startswith("Usage: ") and "COMMAND [ARGS]" in alone.stderr
        assert "error [" not in alone.stderr  # the help itself, not a help text squeezed into one line
        for placed in (["--json", *path], [*path, "--json"]):
            error = json.loads(run(*placed, code=2).stdout)
            assert error["code"] == "USAGE" and error["message"].startswith("Missing command")


def test_a_bad_roster_under_json_gives_every_bad_row_in_the_details(home, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name,credits\nana.lima@example.org,Ana Lima,1\nnot-an-email,Bo,1\ncy@example.org,Cy,99\n")
    text = run("issue", COURSE, "--roster", roster, "--home", home, code=2)
    assert text.stderr.startswith("error [ROSTER_INVALID]: ") and "  line 3, email: " in text.stderr
    error = json.loads(run("issue", COURSE, "--roster", roster, "--home", home, "--json", code=2).stdout)
    assert error["code"] == "ROSTER_INVALID"
    assert [(row["line"], row["field"]) for row in error["details"]["errors"]] == [(3, "email"), (4, "credits")]
    assert all(row["message"] for row in error["details"]["errors"])


# -- broken pipes ----------------------------------------------------------------------------------


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    home = tmp_path / "instance"
    run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example")
    run("--home", home, "achievement", "add", EXAMPLES / "ceu-course.toml")
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\n" + "".join(f"learner{i}@example.org,Learner {i}\n" for i in range(60)))
    run("--home", home, "issue", COURSE, "--roster", roster)
    reader, writer = os.pipe()
    # One page of pipe: the table (60 lines of ~110 bytes, written line by line) fills it long before the end.
    fcntl.fcntl(writer, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.argv[0] = 'badgesmith'; import cli; cli.run()",
                                "--home", str(home), "list"],
                               stdout=writer, stderr=subprocess.PIPE, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(writer)
    first = os.read(reader, 100)  # `| head -1`
    time.sleep(0.5)  # let the writer block on the full pipe
    os.close(reader)
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, stderr
    assert first.startswith(b"ISSUED ") and stderr == b""


# -- list: filters and a header row -------------------------------------------------------------------


def test_list_has_a_header_row_and_filters_by_status_since_and_limit(home):
    lines = run("list", "--home", home).stdout.splitlines()
    assert lines[0].split() == ["ISSUED", "STATE", "ACHIEVEMENT", "RECIPIENT", "ID"]
    rows = json.loads(run("list", "--home", home, "--json").stdout)
    assert [r["issued_on"] for r in rows] == sorted(r["issued_on"] for r in rows)  # newest last
    since = json.loads(run("list", "--home", home, "--since", "2026-02-01", "--json").stdout)
    assert [r["recipient"] for r in since] == [r["recipient"] for r in rows if r["issued_on"] >= "2026-02-01"]
    assert json.loads(run("list", "--home", home, "--limit", "1", "--json").stdout) == rows[-1:]
    assert json.loads(run("list", "--home", home, "--limit", "0", "--json").stdout) == []
    dee = json.loads(run("issue", COURSE, "--email", "dee@example.org", "--home", home, "--json").stdout)["id"]
    run("revoke", dee, "--reason", "a test", "--home", home)
    revoked = json.loads(run("list", "--home", home, "--status", "revoked", "--json").stdout)
    assert dee in [r["id"] for r in revoked] and {r["state"] for r in revoked} == {"revoked"}
    active = json.loads(run("list", "--home", home, "--status", "active", "--json").stdout)
    assert {r["recipient"] for r in active} >= {"Ana", "Bo"} and all(r["state"] == "active" for r in active)
    assert run("list", "--home", home, "--limit", "-1", code=2).stderr.startswith("error [USAGE]: ")


def test_list_status_expired_is_an_active_credential_past_its_end_date(tmp_path):
    home = tmp_path / "instance"
    run("--home", home, "init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example")
    run("--home", home, "achievement", "add", EXAMPLES / "certification.toml")
    # valid_for 3 years: dated four years back, it is expired at birth (allowed on purpose here).
    run("--home", home, "issue", CERTIFICATION, "--email", "old@example.org", "--date", "2022-01-10", "--allow-expired")
    run("--home", home, "issue", CERTIFICATION, "--email", "new@example.org")
    expired = json.loads(run("list", "--home", home, "--status", "expired", "--json").stdout)
    assert [(r["status"], r["state"]) for r in expired] == [("active", "expired")]
    assert len(json.loads(run("list", "--home", home, "--status", "active", "--json").stdout)) == 1
    assert "expired" in run("list", "--home", home).stdout.splitlines()[1]


# -- revoke / suspend / reinstate: by id or badge page URL; the same again is a notice -----------------


def test_status_changes_take_the_badge_page_url_and_repeat_as_a_notice(home):
    bo = json.loads(run("list", "--home", home, "--email", "bo@example.org", "--json").stdout)[0]
    page = bo["page"]
    assert page.startswith("https://badges.lakeshore.example/credentials/")
    out = run("suspend", page, "--reason", "attendance being checked", "--home", home).stdout
    assert out.startswith(f"{bo['id']} is now suspended")
    again = run("suspend", page + "?utm_source=mail", "--reason", "again", "--home", home)
    assert again.stdout == "" and again.stderr == f"notice: {bo['id']} is already suspended; nothing changed.\n"
    assert "is now active" in run("reinstate", page + "/certificate", "--home", home).stdout
    notice = json.loads(run("reinstate", bo["id"], "--home", home, "--json").stdout)
    assert notice == {"id": bo["id"], "status": "active", "changed": False, "status_list": None}
    done = json.loads(run("revoke", page, "--reason", "issued in error", "--home", home, "--json").stdout)
    assert done["changed"] is True and done["status"] == "revoked" and done["status_list"].endswith("revocation-1.json")
    assert run("revoke", page, "--reason", "twice", "--home", home).stderr.startswith("notice: ")
    events = [e for e in _events(home, bo["id"])]
    assert events.count("revoked") == 1 and events.count("suspended") == 1  # the notices logged nothing
    refused = run("reinstate", page, "--home", home, code=2)  # a revoked credential stays revoked
    assert refused.stderr.startswith("error [STATUS_CHANGE_INVALID]: ")
    other = run("revoke", "https://elsewhere.example/credentials/" + bo["id"][9:], "--reason", "x", "--home", home,
                code=2)
    assert other.stderr.startswith("error [CREDENTIAL_NOT_FOUND]: ") and "badges.lakeshore.example" in other.stderr


def _events(home: Path, credential_id: str) -> list[str]:
    from issuer.awarding.issuing import Issuer

    issuer = Issuer.open(home)
    try:
        return [e.kind for e in issuer.registry.events(credential_id=credential_id)]
    finally:
        issuer.close()
