"""cli: every command through click's CliRunner, the way a coordinator or a script uses it.

Runs pass ``--debug`` with ``catch_exceptions=False``, so a bug surfaces as a traceback that fails the
test instead of the friendly INTERNAL_ERROR line. User mistakes print exactly one ``error [CODE]:
sentence`` line on stderr and exit 2.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from PIL import Image

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
COURSE = "storytime-early-literacy"
ERROR_LINE = re.compile(r"^error \[[A-Z][A-Z0-9_]+\]: \S.*$")
ROW_LINE = re.compile(r"^  line \d+, [a-z_-]+: \S.*$")


class Cli:
    """``badgesmith --home HOME …`` with strict exception handling."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, *args: str, code: int = 0, input: str | bytes | None = None):
        result = CliRunner().invoke(main, ["--debug", "--home", str(self.home), *map(str, args)],
                                    input=input, catch_exceptions=False)
        assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        if code == 2:
            assert_one_error_line(result)
        return result

    def json(self, *args: str, code: int = 0, input: str | bytes | None = None):
        return json.loads(self(*args, code=code, input=input).stdout)


def assert_one_error_line(result, code: str | None = None) -> None:
    """Exactly one ``error [CODE]: sentence`` line on stderr (then, for a roster, its bad rows as
    ``  line N, field: reason``), no traceback, nothing on stdout."""
    lines = result.stderr.splitlines()
    assert lines and ERROR_LINE.match(lines[0]), result.stderr
    assert all(ROW_LINE.match(line) for line in lines[1:]), result.stderr
    assert "Traceback" not in result.output
    if code is not None:
        assert lines[0].startswith(f"error [{code}]: "), lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """An instance made with ``badgesmith init`` and the course added."""
    cli = Cli(tmp_path / "instance")
    cli("init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example",
        "--email", "ce@lakeshore.example")
    cli("achievement", "add", EXAMPLES / "ceu-course.toml")
    return cli


def _issue(cli: Cli, email: str, *extra: str) -> dict:
    return cli.json("issue", COURSE, "--email", email, "--json", *extra)


# -- init, keys, achievements ------------------------------------------------------------------------


def test_init_creates_the_instance_and_refuses_a_second_time(cli):
    assert (cli.home / "badgesmith.toml").exists() and (cli.home / "keys" / "key-1.pem").exists()
    assert (cli.home / "keys" / "key-1.pem").stat().st_mode & 0o077 == 0
    again = cli("init", "--name", "X", "--url", "https://x.example", code=2)
    assert_one_error_line(again, "INSTANCE_EXISTS")


def test_init_reports_a_bad_url_naming_the_option(tmp_path):
    result = Cli(tmp_path / "new")("init", "--name", "X", "--url", "not a url", code=2)
    assert "--url" in result.stderr


def test_keys_list_shows_the_current_key(cli):
    rows = cli.json("keys", "list", "--json")
    assert [(r["key_id"], r["current"], r["retired"]) for r in rows] == [("key-1", True, None)]
    assert rows[0]["public_key"].startswith("z6Mk")
    assert cli("keys", "list").stdout.splitlines() == ["KEY    STATE    PUBLIC KEY",
                                                       f"key-1  current  {rows[0]['public_key']}"]


def test_keys_rotate_is_refused_on_did_key_with_the_reason(cli):
    result = cli("keys", "rotate", code=2)
    assert_one_error_line(result, "CONFIG_INVALID")
    assert "--did-web" in result.stderr


def test_keys_rotate_on_did_web_adds_a_key_and_retires_the_old_one(tmp_path):
    cli = Cli(tmp_path / "web")
    out = cli("init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
              "--did-web", "badges.lakeshore.example").stdout
    assert "did:web:badges.lakeshore.example" in out
    assert "key-2" in cli("keys", "rotate").stdout
    rows = cli.json("keys", "list", "--json")
    assert [(r["key_id"], r["current"], r["retired"] is None) for r in rows] == [
        ("key-1", False, False), ("key-2", True, True)]


def test_keys_list_shows_the_vc_jwt_keys_too(tmp_path):
    cli = Cli(tmp_path / "web")
    cli("init", "--name", "Lakeshore", "--url", "https://badges.lakeshore.example",
        "--did-web", "badges.lakeshore.example", "--jwt-alg", "ES256")
    cli("keys", "add", "--alg", "RS256")
    rows = cli.json("keys", "list", "--json")
    assert [(r["key_id"], r["alg"], r["current"]) for r in rows] == [
        ("key-1", "EdDSA", True), ("es256-1", "ES256", True), ("rs256-1", "RS256", False)]
    es256 = rows[1]
    assert es256["public_key"].startswith("zDn") and es256["jwk"]["crv"] == "P-256"
    from keys.keystore import load_jwt_key
    assert es256["public_key"] == load_jwt_key(tmp_path / "web" / "keys", "es256-1").public_key.to_multikey()
    lines = cli("keys", "list").stdout.splitlines()
    assert lines[2].split()[:3] == ["es256-1", "current", "(VC-JWTs)"] and lines[2].endswith(es256["public_key"])
    assert lines[3].split()[:3] == ["rs256-1", "active", "(VC-JWTs)"] and "RSA JWK n=" in lines[3]


def test_achievement_add_refuses_an_existing_id_unless_replace_and_takes_several_files(cli):
    assert_one_error_line(cli("achievement", "add", EXAMPLES / "ceu-course.toml", code=2), "ACHIEVEMENT_EXISTS")
    out = cli("achievement", "add", EXAMPLES / "ceu-course.toml", EXAMPLES / "micro-credential.toml",
              "--replace").stdout
    assert out.splitlines() == ["Added achievement storytime-early-literacy: Storytime for Early Literacy (Course)",
                                "Added achievement inclusive-teen-programming: Inclusive Teen Programming "
                                "(MicroCredential)"]


def test_issue_refuses_an_already_expired_certification_and_warns_near_expiry(cli):
    cli("achievement", "add", EXAMPLES / "certification.toml")
    cert = "certified-youth-services-librarian"
    long_ago = (date.today().replace(day=1) - timedelta(days=4 * 365)).isoformat()
    assert_one_error_line(cli("issue", cert, "--email", "a@example.org", "--date", long_ago, code=2),
                          "ALREADY_EXPIRED")
    late = cli("issue", cert, "--email", "a@example.org", "--date", long_ago, "--allow-expired")
    # expired already, so not "expires … within 30 days", which would suggest it verifies
    assert "expired on " in late.stderr and "before it was issued (--allow-expired): it will not verify" \
        in late.stderr and "within 30 days" not in late.stderr
    soon = (date.today() - timedelta(days=3 * 365 - 20)).isoformat()
    warned = cli("issue", cert, "--email", "b@example.org", "--date", soon)
    assert "warning: this credential expires on" in warned.stderr


def test_achievement_add_list_show(cli):
    cli("achievement", "add", EXAMPLES / "certification.toml")
    listed = cli.json("achievement", "list", "--json")
    assert [a["slug"] for a in listed] == ["certified-youth-services-librarian", COURSE]
    assert listed[1]["id"] == f"https://badges.lakeshore.example/achievements/{COURSE}"
    listed = cli("achievement", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "TYPE", "CEUS", "NAME"]
    assert [line.split()[:3] for line in listed[1:]] == [["certified-youth-services-librarian", "Certification", "-"],
                                                        [COURSE, "Course", "1.5"]]
    shown = cli.json("achievement", "show", COURSE)
    assert shown["name"] == "Storytime for Early Literacy" and shown["creditsAvailable"] == 1.5
    assert shown["id"] == f"https://badges.lakeshore.example/achievements/{COURSE}"
    assert_one_error_line(cli("achievement", "show", "nope", code=2), "ACHIEVEMENT_NOT_FOUND")


def test_achievement_add_with_a_bad_value_names_the_field_and_line(cli, tmp_path):
    text = (EXAMPLES / "ceu-course.toml").read_text("utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("credits_available = 1.5", 'credits_available = "lots"'), "utf-8")
    line = next(n for n, l in enumerate(bad.read_text().splitlines(), 1) if l.startswith("credits_available"))
    result = cli("achievement", "add", bad, code=2)
    assert_one_error_line(result, "ACHIEVEMENT_INVALID")
    assert f"bad.toml, line {line}" in result.stderr and "credits_available" in result.stderr


# -- issuing, status, listing, reports -----------------------------------------------------------------


def test_issue_one_prints_the_page_and_files(cli):
    out = cli("issue", COURSE, "--email", "ana@example.org", "--name", "Ana Lima").stdout
    assert out.startswith("Issued: urn:uuid:")
    assert "page:  https://badges.lakeshore.example/credentials/" in out
    files = [Path(l.split("file:", 1)[1].strip()) for l in out.splitlines() if "file:" in l]
    assert [f.suffix for f in files] == [".png", ".svg", ".json", ".png"] and all(f.exists() for f in files)
    again = cli("issue", COURSE, "--email", "ana@example.org", "--name", "Ana Lima").stdout
    assert again.startswith("Already issued (nothing new)")


def test_issue_json_has_the_record_and_files(cli):
    data = _issue(cli, "ana@example.org", "--name", "Ana Lima", "--credits", "1", "--format", "jwt")
    assert data["created"] is True and data["achievement"] == COURSE and data["recipient"] == "Ana Lima"
    assert data["page"].endswith(data["id"].removeprefix("urn:uuid:"))
    assert [Path(f).suffix for f in data["files"]] == [".png", ".svg", ".jwt", ".png"]


def test_issue_needs_exactly_one_of_email_and_roster(cli, tmp_path):
    assert_one_error_line(cli("issue", COURSE, code=2), "USAGE")
    roster = tmp_path / "r.csv"
    roster.write_text("email\nbo@example.org\n")
    assert_one_error_line(cli("issue", COURSE, "--email", "a@example.org", "--roster", roster, code=2), "USAGE")


def test_issue_with_too_many_credits_is_refused(cli):
    result = cli("issue", COURSE, "--email", "ana@example.org", "--credits", "2", code=2)
    assert_one_error_line(result, "CREDITS_EXCEEDED")
    assert result.stderr.count("CREDITS_EXCEEDED") == 1  # in the error's code, not again in its sentence
    assert cli.json("list", "--json") == []


@pytest.mark.parametrize("option, value, code, words", [
    ("--credits", "nan", "USAGE", "not a number of credits"),
    ("--credits", "9", "CREDITS_EXCEEDED", "exceed the 1.5 available"),
    ("--date", "2999-01-01", "USAGE", "in the future"),
    ("--evidence", "javascript:alert(1)", "USAGE", "starting with https://"),
    ("--evidence", "http://lla.example/recording", "USAGE", "starting with https://"),
    ("--name", "x" * 201, "USAGE", "longer than 200 characters"),
    ("--organization", "Branch\nOffice", "USAGE", "line break"),
    ("--did", "not-a-did", "USAGE", "is not a DID"),
])
def test_one_award_is_checked_as_a_roster_row_is_and_nothing_is_issued(cli, option, value, code, words):
    result = cli("issue", COURSE, "--email", "ana@example.org", option, value, code=2)
    assert_one_error_line(result, code)
    assert option in result.stderr and words in result.stderr
    assert cli.json("list", "--json") == []


def test_issue_roster_then_again_issues_nothing_new(cli, tmp_path):
    roster = tmp_path / "attendees.csv"
    roster.write_text("email,name,credits\nana@example.org,Ana,1.5\nbo@example.org,Bo,1\n", "utf-8")
    out = cli("issue", COURSE, "--roster", roster).stdout
    assert "Issued 2 new credential(s), 0 already issued, 0 invalid row(s) skipped." in out
    again = cli.json("issue", COURSE, "--roster", roster, "--json")
    assert (again["created"], again["existing"], again["skipped"]) == (0, 2, [])
    first = Path(out.split("summary: ")[1].strip())
    assert Path(again["summary"]).name.startswith("attendees-summary-") and Path(again["summary"]) != first
    assert first.exists()  # an earlier run's summary is never overwritten
    # a first run's summary has a claim page on every row: one line says so, as the PINs are nowhere else
    assert ("Wallet claim pages: 2 new; the summary CSV has each learner's claim link and PIN "
            "(claim_link, claim_pin): send each learner theirs.") in out.splitlines()
    # The claim pages of the first run are still open: the re-runs make none and say so (issue 20).
    assert again["claim_pages"] == {"new": 0, "still_open": 2}
    third = cli("issue", COURSE, "--roster", roster).stdout
    assert ("Wallet claim pages: 0 new; 2 award(s) still have one open from an earlier run (claim_note; "
            "badgesmith claim-link ID --claim-page makes a new one).") in third


def test_issue_roster_with_bad_rows_is_refused_then_skipped(cli, tmp_path):
    roster = tmp_path / "attendees.csv"
    roster.write_text("email,credits\nana@example.org,1\nnot-an-email,1\nbo@example.org,9\n", "utf-8")
    result = cli("issue", COURSE, "--roster", roster, code=2)
    assert_one_error_line(result, "ROSTER_INVALID")
    assert "(line 3, 4)" in result.stderr
    assert result.stderr.splitlines()[1:] == [  # every bad row with its reason, without --skip-invalid
        "  line 3, email: 'not-an-email' is not a usable e-mail address: it needs exactly one @.",
        "  line 4, credits: 9 credits exceed the 1.5 available for 'storytime-early-literacy'."]
    assert cli.json("list", "--json") == []
    skipped = cli("issue", COURSE, "--roster", roster, "--skip-invalid")
    assert "Issued 1 new credential(s), 0 already issued, 2 invalid row(s) skipped." in skipped.stdout
    assert "skipped line 3, email" in skipped.stderr and "skipped line 4, credits" in skipped.stderr


def test_issue_roster_dry_run_checks_counts_and_exits_1_on_a_bad_row(cli, tmp_path):
    roster = tmp_path / "attendees.csv"
    roster.write_text("email,date\nana@example.org,2026-10-01\nbo@example.org,2026-10-01\n", "utf-8")
    cli("issue", COURSE, "--roster", roster)
    roster.write_text("email,date,evidence\nana@example.org,2026-10-01,\nbo@example.org,2026-10-02,\n"
                      "cy@example.org,,\ndi@example.org,,https://lla.example/a\"b\n", "utf-8")
    out = cli("issue", COURSE, "--roster", roster, "--dry-run", code=1).stdout
    assert "  line 5, evidence: " in out and "  line 3, bo@example.org: differs from urn:uuid:" in out
    assert out.endswith("Dry run of attendees.csv: 1 new, 1 already issued, 1 changed (re-issued only with "
                        "--correct), 1 invalid row(s). Nothing was issued.\n")
    data = json.loads(cli("issue", COURSE, "--roster", roster, "--dry-run", "--json", code=1).stdout)
    assert (data["valid"], data["new"], data["already_issued"], data["changed"]) == (False, 1, 1, 1)
    assert [(e["line"], e["field"]) for e in data["errors"]] == [(5, "evidence")]
    assert len(cli.json("list", "--json")) == 2  # nothing issued
    roster.write_text("email\ncy@example.org\n", "utf-8")
    assert cli.json("issue", COURSE, "--roster", roster, "--dry-run", "--json")["valid"] is True


def test_issue_roster_export_notices_ignored_columns_maps_and_strict_refuses(cli, tmp_path):
    roster = tmp_path / "export.csv"
    roster.write_text("Order #,Email Address,Full Name,Contact Hours\n7,ana@example.org,Ana Lima,1\n", "utf-8")
    result = cli("issue", COURSE, "--roster", roster, "--dry-run")
    assert result.stderr == ("notice: ignored column(s) 'Order #', 'Contact Hours' (map one with --map "
                             "\"Header=field\"; --strict refuses them).\n")
    assert assert_one_error_line(cli("issue", COURSE, "--roster", roster, "--strict", code=2), "ROSTER_INVALID") is None
    data = cli.json("issue", COURSE, "--roster", roster, "--map", "Contact Hours=credits", "--json")
    assert data["created"] == 1 and data["ignored_columns"] == ["Order #"]
    assert cli.json("list", "--json")[0]["credits"] == 1


def test_revoke_suspend_reinstate_and_invalid_transitions(cli):
    plain = _issue(cli, "ana@example.org")["id"]
    suspendable = _issue(cli, "bo@example.org", "--suspendable")["id"]
    out = cli("suspend", suspendable, "--reason", "under review").stdout
    assert f"{suspendable} is now suspended" in out and "suspension-1.json" in out
    assert "is now active" in cli("reinstate", suspendable).stdout
    not_suspendable = cli("suspend", plain, "--reason", "x", code=2)  # says what to do instead
    assert_one_error_line(not_suspendable, "STATUS_CHANGE_INVALID")
    assert f"badgesmith revoke {plain}" in not_suspendable.stderr and "--suspendable" in not_suspendable.stderr
    assert "is now revoked" in cli("revoke", plain.removeprefix("urn:uuid:"), "--reason", "error").stdout
    assert_one_error_line(cli("reinstate", plain, code=2), "STATUS_CHANGE_INVALID")
    assert_one_error_line(cli("suspend", plain, "--reason", "x", code=2), "STATUS_CHANGE_INVALID")
    assert_one_error_line(cli("revoke", "urn:uuid:00000000-0000-4000-8000-000000000000", "--reason", "x", code=2),
                          "CREDENTIAL_NOT_FOUND")
    missing_reason = CliRunner().invoke(main, ["--home", str(cli.home), "revoke", plain], catch_exceptions=False)
    assert missing_reason.exit_code == 2 and "Missing option '--reason'" in missing_reason.stderr
    statuses = {r["id"]: r["status"] for r in cli.json("list", "--json")}
    assert statuses == {plain: "revoked", suspendable: "active"}


def test_a_reason_longer_than_the_event_log_keeps_is_refused_and_nothing_changes(cli):
    result = cli("revoke", _issue(cli, "ana@example.org")["id"], "--reason", "r" * 1001, code=2)
    assert_one_error_line(result, "USAGE")
    assert [c["status"] for c in cli.json("list", "--json")] == ["active"]


def test_a_report_period_that_ends_before_it_starts_is_a_usage_error(cli):
    assert_one_error_line(cli("report", "--since", "2026-12-01", "--until", "2026-01-01", code=2), "USAGE")


def test_list_json_filters_by_email_and_achievement(cli):
    ana = _issue(cli, "ana@example.org", "--name", "Ana")
    _issue(cli, "bo@example.org", "--name", "Bo")
    rows = cli.json("list", "--email", "ANA@example.org", "--json")
    assert [(r["id"], r["recipient"], r["status"], r["credits"]) for r in rows] == [(ana["id"], "Ana", "active", 1.5)]
    assert len(cli.json("list", "--achievement", COURSE, "--json")) == 2
    assert cli.json("list", "--achievement", "other", "--json") == []
    assert cli("list").stdout.rstrip().endswith("2 credential(s)")


def test_report_sums_ceus_per_achievement_and_learner_in_csv_and_json(cli):
    cli("issue", COURSE, "--email", "ana@example.org", "--name", "Ana", "--date", "2026-10-01")
    again = cli("issue", COURSE, "--email", "ana@example.org", "--name", "Ana", "--credits", "1",
                "--date", "2026-10-02")
    assert again.stdout.startswith("Already issued (nothing new)")  # one award per person
    bo = _issue(cli, "bo@example.org", "--name", "Bo", "--credits", "0.5", "--date", "2026-09-30")
    data = cli.json("report", "--format", "json", "--since", "2026-10-01")
    assert data["by_achievement"] == [{"achievement": COURSE, "name": "Storytime for Early Literacy",
                                       "credentials": 1, "ceus": 1.5}]
    assert [(r["name"], r["credentials"], r["ceus"]) for r in data["by_learner"]] == [("Ana", 1, 1.5)]
    rows = list(csv.reader(io.StringIO(cli("report", "--format", "csv").stdout)))
    assert rows[0] == ["group", "key", "name", "credentials", "ceus"]
    assert rows[1] == ["achievement", COURSE, "Storytime for Early Literacy", "2", "2.0"]
    assert sorted((r[2], r[4]) for r in rows[2:]) == [("Ana", "1.5"), ("Bo", "0.5")]
    cli("revoke", bo["id"], "--reason", "error")
    assert cli.json("report", "--format", "json")["by_achievement"][0]["ceus"] == 1.5
    _issue(cli, "cy@example.org", "--name", "Cy", "--credits", "1", "--date", "2026-10-02")
    table = cli("report").stdout.splitlines()  # two tables, each under its header row and ending in its totals
    assert table[0].split() == ["ACHIEVEMENT", "CREDENTIALS", "CEUS"] and table[1].split() == [COURSE, "2", "2.5"]
    assert table[2].split() == ["TOTAL", "2", "2.5"]
    assert table[4].split() == ["LEARNER", "CREDENTIALS", "CEUS"]
    assert sorted(line.split() for line in table[5:7]) == [["Ana", "1", "1.5"], ["Cy", "1", "1"]]
    assert table[7].split() == ["TOTAL", "(2", "learners)", "2", "2.5"]


# -- bake, extract, qr, sign, verify --------------------------------------------------------------------


def test_bake_extract_round_trip_png_and_svg(cli, tmp_path):
    data = _issue(cli, "ana@example.org")
    credential_file = Path(data["files"][2])
    png, svg = tmp_path / "plain.png", tmp_path / "plain.svg"
    Image.new("RGB", (32, 32), (31, 95, 139)).save(png)
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    for art in (png, svg):
        baked = tmp_path / f"baked{art.suffix}"
        assert "Baked into" in cli("bake", credential_file, art, "-o", baked).stdout
        assert json.loads(cli("extract", baked).stdout) == json.loads(credential_file.read_text())
    assert_one_error_line(cli("extract", credential_file, code=2), "USAGE")
    assert_one_error_line(cli("bake", credential_file, credential_file, "-o", tmp_path / "x.png", code=2),
                          "CONTAINER_UNKNOWN")


def test_bake_a_jwt_and_extract_it(cli, tmp_path):
    data = _issue(cli, "ana@example.org", "--format", "jwt")
    token_file = Path(data["files"][2])
    art = tmp_path / "art.png"
    Image.new("RGB", (16, 16)).save(art)
    cli("bake", token_file, art, "-o", tmp_path / "baked.png")
    assert cli("extract", tmp_path / "baked.png").stdout.strip() == token_file.read_text().strip()


def test_qr_writes_png_and_svg_that_decode_to_the_url(cli, tmp_path):
    import zxingcpp

    url = "https://badges.lakeshore.example/credentials/0f174c47-0000-4000-8000-000000000001"
    cli("qr", url, "-o", tmp_path / "code.png")
    with Image.open(tmp_path / "code.png") as image:
        assert [c.text for c in zxingcpp.read_barcodes(image)] == [url]
    cli("qr", url, "-o", tmp_path / "code.svg")
    assert (tmp_path / "code.svg").read_text().startswith("<svg")
    assert_one_error_line(cli("qr", url, "-o", tmp_path / "code.gif", code=2), "USAGE")


@pytest.mark.parametrize("text, code", [("javascript:alert(1)", "USAGE"), ("", "USAGE"), ("badges.example", "USAGE"),
                                        ("https://badges.example/" + "a" * 5000, "INPUT_TOO_LARGE")])
def test_qr_refuses_what_is_not_a_web_address_or_too_long(cli, tmp_path, text, code):
    assert_one_error_line(cli("qr", text, "-o", tmp_path / "code.png", code=2), code)
    assert not (tmp_path / "code.png").exists()


@pytest.mark.parametrize("fmt", ["di", "jwt"])
def test_sign_is_deterministic_with_created_and_verifies(cli, tmp_path, fmt):
    issued = json.loads(Path(_issue(cli, "ana@example.org")["files"][2]).read_text())
    unsigned = {k: v for k, v in issued.items() if k != "proof"}
    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    args = ("sign", tmp_path / "unsigned.json", "--key", cli.home / "keys" / "key-1.pem", "--format", fmt,
            "--created", "2026-11-23T12:00:00Z")
    first, second = cli(*args).stdout, cli(*args).stdout
    assert first == second
    signed = tmp_path / f"signed.{fmt}"
    signed.write_text(first)
    if fmt == "di":
        assert json.loads(first)["proof"][0]["created"] == "2026-11-23T12:00:00Z"
    else:
        assert first.strip().count(".") == 2
    report = cli.json("verify", signed, "--json", "--offline", "--documents", cli.home / "out" / "status")
    assert report["verified"] is True and report["format"] == ("vc-jwt" if fmt == "jwt" else "di-eddsa-rdfc-2022")
    assert "warning" not in cli(*args).stderr  # the issuer is the key's own did:key


@pytest.mark.parametrize("fmt", ["di", "jwt"])
def test_sign_warns_when_the_credential_names_another_issuer_than_the_key(cli, tmp_path, fmt):
    issued = json.loads(Path(_issue(cli, "ana@example.org")["files"][2]).read_text())
    unsigned = {k: v for k, v in issued.items() if k != "proof"}
    unsigned["issuer"] = {**unsigned["issuer"], "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
    (tmp_path / "other.json").write_text(json.dumps(unsigned))
    result = cli("sign", tmp_path / "other.json", "--key", cli.home / "keys" / "key-1.pem", "--format", fmt)
    own = issued["issuer"]["id"]
    assert (f"warning: the credential names issuer did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK, but "
            f"this key is {own}: verifiers will refuse it (KEY_NOT_ISSUERS)") in result.stderr
    signed = tmp_path / f"signed.{fmt}"
    signed.write_text(result.stdout)  # signed all the same (a test vector may want it), and indeed refused
    report = cli.json("verify", signed, "--json", "--offline", "--documents", cli.home / "out" / "status", code=1)
    assert any(c["code"] == "KEY_NOT_ISSUERS" for c in report["checks"])


def test_verify_exit_codes_and_json_report_shape(cli, tmp_path):
    data = _issue(cli, "ana@example.org", "--name", "Ana Lima")
    png, status = Path(data["files"][0]), cli.home / "out" / "status"
    report = cli.json("verify", png, "--json", "--offline", "--documents", status, "--email", "ana@example.org")
    assert list(report) == ["verified", "format", "container", "credential", "checks", "warnings"]
    assert (report["verified"], report["format"], report["container"]) == (True, "di-eddsa-rdfc-2022", "png")
    assert report["credential"]["id"] == data["id"] and report["credential"]["creditsEarned"] == 1.5
    assert [c["check"] for c in report["checks"]] == ["container", "json", "context", "schema", "proof",
                                                      "validity", "status", "issuer_trust", "recipient"]
    assert set(report["checks"][0]) == {"check", "outcome", "code", "message"}
    assert cli("verify", png, "--offline", "--documents", status).stdout.startswith("Verified:")

    cli("revoke", data["id"], "--reason", "error")
    revoked = cli.json("verify", png, "--json", "--offline", "--documents", status, code=1)
    assert revoked["verified"] is False and "REVOKED" in [c["code"] for c in revoked["checks"]]
    tampered = json.loads(Path(data["files"][2]).read_text())
    tampered["credentialSubject"]["creditsEarned"] = 15
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    assert cli.json("verify", tmp_path / "tampered.json", "--json", "--offline", code=1)["verified"] is False

    (tmp_path / "note.txt").write_text("hello")
    assert_one_error_line(cli("verify", tmp_path / "note.txt", "--offline", code=2))
    assert_one_error_line(cli("verify", png, "--now", "yesterday", code=2), "USAGE")


@pytest.mark.parametrize("source", ["file:///etc/passwd", "ftp://badges.example/badge.png", "gopher://x/"])
def test_verify_refuses_urls_it_does_not_fetch(cli, source):
    assert_one_error_line(cli("verify", source, code=2), "FETCH_REFUSED")


def test_verify_reads_stdin(cli):
    data = _issue(cli, "ana@example.org")
    text = Path(data["files"][2]).read_text()
    report = cli.json("verify", "-", "--json", "--offline", "--documents", cli.home / "out" / "status", input=text)
    assert report["verified"] is True and report["container"] == "json"


def test_demo_without_serving_issues_and_verifies(tmp_path):
    result = CliRunner().invoke(main, ["--debug", "--home", str(tmp_path / "demo"), "demo", "--no-serve"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Verified:" in result.stdout and "http://127.0.0.1:8000/credentials/" in result.stdout
    again = CliRunner().invoke(main, ["--home", str(tmp_path / "demo"), "demo", "--no-serve"],
                               catch_exceptions=False)
    assert again.exit_code == 0 and "Created a demo issuer" not in again.stdout
    assert "Issued a 1.5-CEU" in result.stdout and "Issued a" not in again.stdout
    assert "Reusing the demo issuer" in again.stdout and "nothing new was issued" in again.stdout


def test_missing_instance_is_one_error_line(tmp_path):
    result = Cli(tmp_path / "nothing-here")("list", code=2)
    assert_one_error_line(result, "INSTANCE_NOT_FOUND")


# -- help and README ---------------------------------------------------------------------------------


def _commands(group: click.Group = main, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize("name, command", _commands(), ids=[n for n, _ in _commands()])
def test_every_command_has_help(name, command):
    assert (command.help or "").strip(), f"`badgesmith {name}` has no help text"
    result = CliRunner().invoke(main, [*name.split(), "--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "Usage: " in result.stdout


def test_every_command_appears_in_the_readme():
    """The README shows each command as ``badgesmith <command>`` (groups: each subcommand), global
    options (``--home DIR``, ``--db URL``, ``--json``, ``--debug``) allowed in between."""
    readme = (ROOT / "README.md").read_text("utf-8")
    names = [n for n, c in _commands() if not isinstance(c, click.Group)]
    options = r"(?: --(?:home|db)[ =]\S+| --json| --debug)*"
    missing = [f"badgesmith {n}" for n in names if not re.search(rf"badgesmith{options} {re.escape(n)}\b", readme)]
    assert missing == [], "README.md does not show these commands yet: " + ", ".join(missing)


def _date_options(group: click.Group = main, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _date_options(command, path + (name,))
        else:
            for param in command.params:
                if isinstance(param.type, click.DateTime) and param.opts[0].startswith("--"):
                    yield path + (name,), command, param


def test_every_date_option_refuses_other_spellings_in_words_and_shows_yyyy_mm_dd(tmp_path):
    options = list(_date_options())
    assert {(" ".join(p), o.opts[0]) for p, _, o in options} >= {("issue", "--date"), ("report", "--since")}
    for path, command, option in options:
        required = [arg for p in command.params if p.required and p is not option
                    for arg in ([p.opts[0]] if p.param_type_name == "option" else []) + ["x"]]
        result = CliRunner().invoke(main, ["--home", str(tmp_path / "none"), *path, *required, option.opts[0],
                                           "12/06/2026"], catch_exceptions=False)
        assert result.exit_code == 2, (path, result.output)
        assert (f"error [USAGE]: Invalid value for '{option.opts[0]}': '12/06/2026' is not a date written "
                "YYYY-MM-DD, like 2026-12-06") in result.stderr, (path, result.stderr)
        assert "%Y" not in CliRunner().invoke(main, [*path, "--help"]).output
