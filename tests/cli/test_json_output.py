"""Every command, under ``--json``, prints exactly one JSON document on stdout when it succeeds, of the
shape the README's "JSON output, command by command" table gives; and every table for people has a
header row (README "Scripting against badgesmith").

The cases walk the click command tree: a command with neither a case here nor a reason in ``NOT_RUN``
fails ``test_every_command_has_a_json_case``, so a new command cannot ship printing text under
``--json``. The instances are made through the real commands (``association init``, ``init
--association``, ``achievement add``, ``issue``, …) on SQLite files, once for the module.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from PIL import Image

from cli import main
from tests.issuer.web.ob_host import JANE, serve_site
from tests.issuer.web.test_ob_api_connected_apps import SHELF, Host

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
PATHWAYS = ROOT / "templates" / "pathways"
COURSE, CERTIFICATION = "storytime-early-literacy", "certified-youth-services-librarian"
ANA = "ana@example.org"

# Commands that cannot succeed in a test instance, with the reason.
NOT_RUN = {
    "serve": "runs a web server until stopped; it prints no JSON (under --json its one line goes to stderr)",
    "push": "needs a learner's live Open Badges host and the learner's consent in a browser "
            "(tests/issuer/records cover it against a real loopback host)",
}


@dataclass(frozen=True)
class Case:
    """``badgesmith --json ARGS``: exit 0 (``verify``: verified) and one JSON document of this shape:
    ``list`` (an array), ``dict`` (an object whose keys are the data's own) or the exact set of an
    object's keys."""

    command: str
    args: str
    shape: type | frozenset[str]


def keys(*names: str) -> frozenset[str]:
    return frozenset(names)


ISSUED = keys("id", "achievement", "recipient", "created", "page", "files", "pathway_awards")
PATHWAY = keys("id", "name", "description", "awards", "requirements")
REPORT = keys("by", "since", "until", "renewals_due_between", "groups", "totals")
TRANSCRIPT = keys("id", "file", "format", "credentials", "left_out", "ceus_by_year", "outside_clr_schema")
CASES = [
    Case("init", "--home {fresh} init --name Elsewhere --url https://elsewhere.example",
         keys("home", "issuer", "key", "jwt_keys", "database")),
    Case("status", "--home {youth} status",
         keys("name", "home", "issuer", "url", "database", "keys", "current_key", "achievements", "credentials")),
    Case("achievement add", "--home {youth} achievement add {micro} --replace", list),
    Case("achievement list", "--home {youth} achievement list", list),
    Case("achievement show", f"--home {{youth}} achievement show {COURSE}", dict),  # the published Achievement
    Case("issue", f"--home {{youth}} issue {COURSE} --email new@example.org --name New", ISSUED),
    Case("issue", f"--home {{youth}} issue {COURSE} --roster {{roster}}",
         keys("created", "existing", "corrected", "changed", "skipped", "not_attended", "ignored_columns",
              "expiring_soon", "pathway_awards", "claim_pages", "credentials", "summary")),
    Case("issue", f"--home {{youth}} issue {COURSE} --roster {{roster}} --dry-run",
         keys("roster", "valid", "new", "already_issued", "changed", "changed_rows", "invalid_rows", "errors",
              "not_attended", "ignored_columns")),
    Case("reissue", "--home {youth} reissue {reissued} --name Renamed", ISSUED | {"differences", "supersedes"}),
    Case("revoke", "--home {youth} revoke {revoked} --reason test", keys("id", "status", "changed", "status_list")),
    Case("suspend", "--home {youth} suspend {suspended} --reason test",
         keys("id", "status", "changed", "status_list")),
    Case("reinstate", "--home {youth} reinstate {reinstated}", keys("id", "status", "changed", "status_list")),
    Case("list", "--home {youth} list", list),
    Case("report", "--home {youth} report", keys("since", "until", "by_achievement", "by_learner")),
    Case("report", "--home {youth} report --format csv", keys("since", "until", "by_achievement", "by_learner")),
    Case("report", "--home {youth} report --by achievement", REPORT),
    Case("renewals", "--home {youth} renewals", keys("due_within", "renewals", "notices")),
    Case("renew", "--home {youth} renew --all-eligible", list),
    Case("pathway add", f"--home {{youth}} pathway add {PATHWAYS / 'youth-services.toml'}", PATHWAY),
    Case("pathway list", "--home {youth} pathway list", list),
    Case("pathway show", "--home {youth} pathway show youth-services", PATHWAY),
    Case("pathway award", "--home {youth} pathway award", keys("due", "issued")),
    Case("pathway award", "--home {youth} pathway award --dry-run", keys("due", "issued")),
    Case("pathway audit", "--home {youth} pathway audit", list),
    Case("progress", f"--home {{youth}} progress --email {ANA}",
         keys("email", "name", "as_of", "pathways", "expiring", "renewed")),
    Case("transcript", f"--home {{youth}} transcript --email {ANA} -o {{fresh}}.json", TRANSCRIPT),
    Case("learner-link", f"--home {{youth}} learner-link --email {ANA}", keys("id", "created", "revoked", "token", "url")),
    Case("learner-link", f"--home {{youth}} learner-link --email {ANA} --list", list),
    Case("claim-link", "--home {youth} claim-link {ana}",
         keys("credential_id", "expires_at", "lcw", "dccrequest", "interaction", "vc_request_url", "challenge",
              "oid4vci", "oid4vci_by_reference", "tx_code")),
    Case("claim-link", "--home {youth} claim-link {ana} --claim-page", keys("url", "pin", "expires_at")),
    Case("endorse", "--home {youth} endorse {endorsement}", keys("id", "file", "achievement")),
    Case("clients add", "--home {youth} clients add {unique}", keys("client_id", "client_secret", "name", "scopes")),
    Case("clients list", "--home {youth} clients list", list),
    Case("clients revoke", "--home {youth} clients revoke to-revoke", keys("client_id", "name", "revoked_at")),
    Case("hosts list", "--home {ob} hosts list", list),
    Case("hosts connections", "--home {ob} hosts connections --email {jane}", list),
    Case("hosts withdraw", "--home {ob} hosts withdraw {backpack} --email {jane}",
         keys("client_id", "name", "email", "changed")),
    Case("hosts revoke", "--home {ob} hosts revoke {shelf}",
         keys("client_id", "name", "site", "registered_at", "learners", "last_used_at", "revoked_at", "changed")),
    Case("keys list", "--home {youth} keys list", list),
    Case("keys add", "--home {youth} keys add --alg ES256", keys("key_id", "alg", "file", "default")),
    Case("keys rotate", "--home {youth} keys rotate", keys("key_id", "issuer")),
    Case("verify", "--home {youth} verify {ana_json}",
         keys("verified", "format", "container", "credential", "checks", "warnings")),
    Case("sign", "sign {unsigned} --key {key}", keys("format", "credential", "jwt")),
    Case("sign", "sign {unsigned} --key {key} --format jwt", keys("format", "credential", "jwt")),
    Case("bake", "bake {ana_json} {png} -o {fresh}.png", keys("file", "container")),
    Case("extract", "extract {ana_png}", keys("container", "format", "credential", "jwt")),
    Case("qr", "qr https://youth.lla.example/credentials/1 -o {fresh}.svg", keys("file", "url")),
    Case("demo", "--home {fresh} demo --no-serve", keys("home", "verified", "pages")),
    Case("association init", "association init --name Other --url https://other.example {fresh}",
         keys("home", "association", "name", "key", "database")),
    Case("association pathway add", "--home {lla} association pathway add {leadership_pathway}", list),
    Case("association pathway award", "--home {lla} association pathway award", list),
    Case("association learner-link", f"--home {{lla}} association learner-link --email {ANA}",
         keys("id", "created", "token", "url")),
    Case("association transcript", f"--home {{lla}} association transcript --email {ANA} -o {{fresh}}.json",
         keys("id", "file", "credentials", "divisions", "left_out", "ceus_by_year", "outside_clr_schema")),
    Case("association report", "--home {lla} association report",
         keys("association", "by", "since", "until", "groups", "totals")),
    Case("association report", "--home {lla} association report --format csv -o {fresh}.csv",
         keys("file", "format", "rows")),
]


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(main, ["--debug", *map(str, args)], catch_exceptions=False,
                                env={"DATABASE_URL": None})
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def _issue(home: Path, *args: str) -> dict:
    return json.loads(invoke("--home", home, "--json", "issue", *args).stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, str]:
    """An association (lla) and its did:web division (youth) with achievements, credentials in every state a
    case needs, an OAuth client and the files the stand-alone tools read."""
    tmp = tmp_path_factory.mktemp("json-output")
    lla, youth = tmp / "lla", tmp / "youth"
    invoke("association", "init", "--name", "Lakeshore Library Association", "--url", "https://lla.example", lla)
    invoke("--home", youth, "init", "--name", "Youth Services Division", "--url", "https://youth.lla.example",
           "--did-web", "youth.lla.example", "--association", lla)
    invoke("--home", youth, "achievement", "add", EXAMPLES / "ceu-course.toml", EXAMPLES / "certification.toml",
           EXAMPLES / "micro-credential.toml", *sorted((PATHWAYS / "achievements").glob("*.toml")))
    ana = _issue(youth, COURSE, "--email", ANA, "--name", "Ana Lima", "--date", "2026-01-10")
    _issue(youth, CERTIFICATION, "--email", ANA, "--name", "Ana Lima")
    ids = {name: _issue(youth, COURSE, "--email", f"{name}@example.org", "--suspendable")["id"]
           for name in ("reissued", "revoked", "suspended", "reinstated")}
    invoke("--home", youth, "suspend", ids["reinstated"], "--reason", "to be reinstated")
    invoke("--home", youth, "clients", "add", "to-revoke")
    (tmp / "leadership.toml").write_text(
        'id = "leadership-certificate"\nname = "Association Leadership Certificate"\nachievement_type = '
        '"Certificate"\ndescription = "A course of a division."\ncriteria = "The Leadership pathway."\n', "utf-8")
    invoke("--home", lla, "achievement", "add", tmp / "leadership.toml")
    (tmp / "leadership-pathway.toml").write_text(
        'id = "leadership"\nname = "Leadership"\nawards = "leadership-certificate"\n[requirements]\nall = [\n'
        f'  "https://youth.lla.example/achievements/{COURSE}",\n]\n', "utf-8")
    (tmp / "roster.csv").write_text("email,name\nrow1@example.org,Row One\nrow2@example.org,Row Two\n", "utf-8")
    (tmp / "endorsement.toml").write_text(
        f'id = "our-storytime"\nendorses = "https://badges.other.example/achievements/storytime"\n'
        'comment = "Meets our standard."\n', "utf-8")
    files = {Path(f).suffix: f for f in ana["files"]}
    unsigned = {k: v for k, v in json.loads(Path(files[".json"]).read_text("utf-8")).items() if k != "proof"}
    (tmp / "unsigned.json").write_text(json.dumps(unsigned), "utf-8")
    Image.new("RGB", (64, 64), (20, 80, 160)).save(tmp / "plain.png")
    # The OB API's hosts: a site served on loopback, where two hosts registered and Jane allowed one.
    site = serve_site(tmp / "ob")
    try:
        backpack, shelf = Host(site), Host(site, SHELF)
        backpack.connect(JANE)
    finally:
        site.stop()
    return {"ob": str(tmp / "ob"), "jane": JANE, "backpack": backpack.client_id, "shelf": shelf.client_id,
            "tmp": str(tmp), "lla": str(lla), "youth": str(youth), "ana": ana["id"], **ids,
            "ana_json": files[".json"], "ana_png": next(f for f in ana["files"] if f.endswith(".png")
                                                         and not f.endswith("-qr.png")),
            "micro": str(EXAMPLES / "micro-credential.toml"), "roster": str(tmp / "roster.csv"),
            "endorsement": str(tmp / "endorsement.toml"), "unsigned": str(tmp / "unsigned.json"),
            "key": str(youth / "keys" / "key-1.pem"), "png": str(tmp / "plain.png"),
            "leadership_pathway": str(tmp / "leadership-pathway.toml")}


_fresh = itertools.count()


def _args(case: Case, world: dict[str, str]) -> list[str]:
    n = next(_fresh)
    return case.args.format(**world, fresh=Path(world["tmp"]) / f"fresh-{n}", unique=f"client-{n}").split()


@pytest.mark.parametrize("case", CASES, ids=[c.args.split(" ", 2)[-1][:60] for c in CASES])
def test_json_output_is_one_document_of_the_documented_shape(world, case):
    result = invoke("--json", *_args(case, world))
    document = json.loads(result.stdout)  # one document: anything before or after it fails here
    if case.shape in (list, dict):
        assert isinstance(document, case.shape)
    else:
        assert isinstance(document, dict) and set(document) == case.shape, sorted(document)


def _commands(group: click.Group = main, prefix: str = "") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append(f"{prefix}{name}")
    return found


def test_every_command_has_a_json_case_or_a_reason_not_to():
    covered = {case.command for case in CASES}
    assert sorted(set(_commands()) - covered - set(NOT_RUN)) == []
    assert covered.isdisjoint(NOT_RUN) and set(NOT_RUN) <= set(_commands())
    for name in sorted(covered):  # and its -h says so
        assert "--json" in invoke(*name.split(), "-h").stdout, name


# Tables for people: (arguments, the header row), the header first, as `list` prints it.
TABLES = [
    ("--home {youth} list", ["ISSUED", "STATE", "ACHIEVEMENT", "RECIPIENT", "ID"]),
    ("--home {youth} keys list", ["KEY", "STATE", "PUBLIC KEY"]),
    ("--home {youth} achievement list", ["ID", "TYPE", "CEUS", "NAME"]),
    ("--home {youth} pathway list", ["ID", "AWARDS", "NAME"]),
    ("--home {youth} clients list", ["CLIENT ID", "STATE", "SCOPES", "NAME"]),
    ("--home {ob} hosts list", ["CLIENT ID", "STATE", "LEARNERS", "REGISTERED", "LAST USED", "NAME", "SITE"]),
    ("--home {ob} hosts connections --email {jane}", ["CLIENT ID", "ALLOWED", "LAST USED", "NAME", "SITE"]),
    (f"--home {{youth}} learner-link --email {ANA} --list", ["ID", "CREATED", "STATE"]),
    ("--home {youth} renewals --due-within 5y", ["EXPIRES", "DAYS LEFT", "STATE", "CEUS", "RECIPIENT",
                                                 "CERTIFICATION"]),
    ("--home {youth} report", ["ACHIEVEMENT", "CREDENTIALS", "CEUS"]),
    ("--home {youth} report --by learner", ["LEARNER", "COMPLETIONS", "CEUS", "PATHWAYS", "RENEWALS DUE"]),
    ("--home {youth} pathway award --dry-run", ["COMPLETED", "PATHWAY", "NAME", "EMAIL"]),
    ("--home {youth} pathway audit", ["AWARDED", "PATHWAY", "RECIPIENT", "CREDENTIAL", "FINDING"]),
    ("--home {lla} association report", ["DIVISION", "LEARNERS", "COMPLETIONS", "CEUS", "PATHWAYS"]),
    ("--home {lla} association pathway award", ["ACHIEVEMENT", "RECIPIENT", "ID"]),
]


@pytest.mark.parametrize("args, header", TABLES, ids=[a.split(" ", 2)[-1] for a, _ in TABLES])
def test_every_table_has_a_header_row(world, args, header):
    lines = invoke(*args.format(**world).split()).stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == header


def test_a_table_of_numbers_aligns_them_right_and_shows_every_row_and_the_totals(world):
    lines = invoke("--home", world["youth"], "report", "--by", "achievement").stdout.splitlines()
    header, rows = lines[0], lines[1:-1]
    assert rows[-1].split()[0] == "total" and lines[-1].startswith("Per achievement, the start to ")
    ceus = header.index("CEUS") + len("CEUS")
    assert all(row[:ceus].rstrip() == row[:ceus] for row in rows)  # each CEUs cell ends under its header


def test_a_demo_that_does_not_verify_fails_with_a_code_under_json(tmp_path, monkeypatch):
    # What `demo` does when its own badge does not verify (a broken install): the CLI's error contract,
    # not click's "Error:" line, so scripts read it as they read every other failure.
    from issuer.awarding import demo

    monkeypatch.setattr(demo, "run_demo", lambda home, **_: demo.DemoResult(False, home, {}))
    result = CliRunner().invoke(main, ["--json", "--home", str(tmp_path / "demo"), "demo", "--no-serve"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"code": "SELF_CHECK_FAILED", "message": "The demo credential did not "
                                         "verify; see the report above.", "details": {}}


@pytest.mark.parametrize("args", [["--version", "--json"], ["--json", "--version"]])
def test_the_version_is_json_under_json_wherever_the_option_stands(args):
    from importlib.metadata import version

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert json.loads(result.output) == {"name": "badgesmith", "version": version("badgesmith")}
    plain = CliRunner().invoke(main, ["--version"])
    assert (plain.exit_code, plain.output) == (0, f"badgesmith, version {version('badgesmith')}\n")
