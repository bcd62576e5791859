"""cli: `badgesmith renewals` and `badgesmith renew` on a real instance with the real clock.

The certification is awarded three years less 60 days ago, so it expires in
about 60 days whatever day the suite runs.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import socket
from datetime import date, timedelta
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
CERTIFICATION = "certified-youth-services-librarian"
MICRO = "inclusive-teen-programming"  # 4 youth-services CEUs
COURSE = "storytime-early-literacy"  # 1.5 youth-services CEUs
USER, PASSWORD = "ce-notices", "Lakeshore-relay-s3cret!"


def run(home: Path, *args: str, code: int = 0, env: dict[str, str | None] | None = None):
    result = CliRunner().invoke(main, ["--debug", "--home", str(home), *map(str, args)], catch_exceptions=False,
                                env=env)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    if code == 2:
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output, result.stderr
    return result


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An instance where Jane holds the certification (expiring in ~60 days) with 28 of 30 CEUs."""
    home = tmp_path / "instance"
    run(home, "init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example",
        "--email", "ce@lakeshore.example")
    for name in ("certification.toml", "micro-credential.toml", "ceu-course.toml"):
        source = EXAMPLES / name
        if name != "certification.toml":  # earned again below, so declared repeatable
            source = tmp_path / name
            source.write_text("repeatable = true\n" + (EXAMPLES / name).read_text("utf-8"), "utf-8")
        run(home, "achievement", "add", source)
    today = date.today()
    awarded = date(today.year - 3, today.month, min(today.day, 28)) + timedelta(days=60)
    run(home, "issue", CERTIFICATION, "--email", "jane@example.org", "--name", "Jane Doe", "--date", awarded)
    for k in range(1, 8):
        run(home, "issue", MICRO, "--email", "jane@example.org", "--name", "Jane Doe",
            "--date", awarded + timedelta(days=30 * k))
    return home


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_renewals_report_as_table_csv_and_json(home):
    table = run(home, "renewals").stdout
    assert "short by 2 CEUs" in table and "Jane Doe <jane@example.org>" in table and "28/30" in table
    assert "1 certification(s) due within 90d: 0 eligible, 1 short of CEUs, 0 lapsed." in table
    (row,) = csv.DictReader(io.StringIO(run(home, "renewals", "--format", "csv").stdout))
    assert (row["email"], row["earned"], row["required"], row["state"]) == ("jane@example.org", "28.0", "30.0",
                                                                           "short")
    data = json.loads(run(home, "renewals", "--json", "--due-within", "6m").stdout)
    assert [r["label"] for r in data["renewals"]] == ["short by 2 CEUs"] and data["notices"] == []
    assert json.loads(run(home, "renewals", "--json", "--due-within", "7d").stdout)["renewals"] == []
    bad = run(home, "renewals", "--due-within", "soon", code=2)
    assert bad.stderr.startswith("error [USAGE]: --due-within 'soon'")


def test_renew_is_refused_then_accepted_with_an_override(home):
    credential_id = json.loads(run(home, "renewals", "--json").stdout)["renewals"][0]["credential_id"]
    refused = run(home, "renew", credential_id, code=2)
    assert refused.stderr.startswith("error [RENEWAL_NOT_MET]: ") and "short by 2 CEUs" in refused.stderr
    assert run(home, "renew", credential_id, "--override", code=2).stderr.startswith("error [USAGE]: ")
    assert run(home, "renew", "--all-eligible", "--override", "--reason", "x", code=2).stderr.startswith(
        "error [USAGE]: ")
    out = run(home, "renew", credential_id, "--override", "--reason", "Board approved").stdout
    assert out.startswith(f"Renewed: {credential_id} -> urn:uuid:") and "(28 of 30 CEUs, staff override)" in out
    assert "  page:  https://badges.lakeshore.example/credentials/" in out
    assert json.loads(run(home, "renewals", "--json").stdout)["renewals"] == []


def test_renew_all_eligible_after_the_missing_ceus(home):
    assert "0 certification(s) renewed." in run(home, "renew", "--all-eligible").stdout
    run(home, "issue", COURSE, "--email", "jane@example.org", "--name", "Jane Doe", "--credits", "1.5")
    run(home, "issue", COURSE, "--email", "jane@example.org", "--date", date.today() - timedelta(days=1))
    renewed = json.loads(run(home, "renew", "--all-eligible", "--json").stdout)
    assert len(renewed) == 1 and renewed[0]["created"] and renewed[0]["earned"] == 31
    assert renewed[0]["valid_from"][:10] == json.loads(run(home, "list", "--json").stdout)[0]["valid_until"][:10]


def test_renewals_notices_to_files_and_smtp_once(home, tmp_path):
    controller_module = pytest.importorskip("aiosmtpd.controller")
    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = controller_module.Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        first = run(home, "renewals", "--notices", tmp_path / "notices", "--smtp", f"127.0.0.1:{port}").stdout
        again = run(home, "renewals", "--notices", tmp_path / "notices", "--smtp", f"127.0.0.1:{port}").stdout
    finally:
        controller.stop()
    assert f"Notices: wrote 1 file(s) to {tmp_path / 'notices'} (0 already notified" in first
    assert f"Notices: sent 1 message(s) through 127.0.0.1:{port} (0 already notified" in first
    assert "Notices: sent 0 message(s)" in again and "(1 already notified this cycle" in again
    assert len(received) == 1 and received[0].rcpt_tos == ["jane@example.org"]
    (eml,) = (tmp_path / "notices").glob("*.eml")
    message = BytesParser(policy=default).parse(eml.open("rb"))
    assert message["Message-ID"] in received[0].content.decode()
    failed = run(home, "renewals", "--smtp", f"127.0.0.1:{_free_port()}", code=2)
    assert failed.stderr.startswith("error [SMTP_FAILED]: The mail server 127.0.0.1:")


def _smtp_table(home: Path, text: str) -> None:
    settings = home / "badgesmith.toml"
    settings.write_text(settings.read_text("utf-8") + "\n[smtp]\n" + text, "utf-8")


def test_renewals_send_through_the_smtp_table_logged_in_over_starttls(home, mail_server, tls_certificate, caplog):
    caplog.set_level(logging.DEBUG)
    host, port, inbox = mail_server("starttls", login=(USER, PASSWORD))
    _smtp_table(home, f'host = "{host}"\nport = {port}\nsecurity = "starttls"\nusername = "{USER}"\n'
                      'password_env = "LLA_SMTP_PASSWORD"\n')
    # The client trusts the test certificate the way an operator's would: through OpenSSL's SSL_CERT_FILE.
    env = {"LLA_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(tls_certificate[0])}
    result = run(home, "renewals", "--smtp", env=env)  # --smtp alone: the relay under [smtp]
    assert f"Notices: sent 1 message(s) through 127.0.0.1:{port} (0 already notified" in result.stdout
    assert inbox.sessions == [(True, True)] and inbox.envelopes[0].rcpt_tos == ["jane@example.org"]
    data = json.loads(run(home, "renewals", "--json", "--smtp", env=env).stdout)
    assert data["notices"][0]["already_notified"] == 1 and len(inbox.envelopes) == 1
    assert PASSWORD not in result.output + json.dumps(data) + caplog.text


def test_renewals_smtp_refusals_name_the_user_or_variable_never_the_password(home, mail_server, tls_certificate,
                                                                             caplog):
    caplog.set_level(logging.DEBUG)
    host, port, inbox = mail_server("starttls", login=(USER, PASSWORD))
    wrong = "Not-the-relay-s3cret?"
    cert = str(tls_certificate[0])
    smtp = ("--smtp", f"{host}:{port}", "--smtp-user", USER)
    failures = {
        "refused": run(home, "renewals", *smtp, env={"BADGESMITH_SMTP_PASSWORD": wrong, "SSL_CERT_FILE": cert},
                       code=2),
        "unset": run(home, "renewals", *smtp, env={"BADGESMITH_SMTP_PASSWORD": None, "SSL_CERT_FILE": cert}, code=2),
        "plain": run(home, "renewals", "--smtp", "mail.lakeshore.example:25", "--smtp-user", USER,
                     "--smtp-security", "none", env={"BADGESMITH_SMTP_PASSWORD": wrong}, code=2),
        "no starttls": run(home, "renewals", "--smtp", f"{host}:{mail_server()[1]}", "--smtp-security",
                           "starttls", code=2),
    }
    assert failures["refused"].stderr.startswith(
        f"error [SMTP_FAILED]: The mail server {host}:{port} refused the login for {USER} (535 ")
    assert failures["unset"].stderr.startswith(f"error [CONFIG_INVALID]: The SMTP login {USER} needs its "
                                               "password in the environment variable BADGESMITH_SMTP_PASSWORD")
    assert failures["plain"].stderr.startswith("error [CONFIG_INVALID]: ") and "unencrypted" in failures["plain"].stderr
    assert failures["no starttls"].stderr.startswith("error [SMTP_FAILED]: ") and "STARTTLS" in failures[
        "no starttls"].stderr
    assert inbox.envelopes == []
    assert not [name for name, result in failures.items() if wrong in result.output or PASSWORD in result.output]
    assert wrong not in caplog.text and PASSWORD not in caplog.text


def test_renewals_smtp_options_need_smtp_and_a_host(home):
    assert run(home, "renewals", "--smtp-user", USER, code=2).stderr.startswith("error [USAGE]: --smtp-user")
    assert run(home, "renewals", "--smtp-security", "tls", code=2).stderr.startswith("error [USAGE]: ")
    assert "[smtp]" in run(home, "renewals", "--smtp", code=2).stderr
    _smtp_table(home, 'host = "mail.lakeshore.example"\npassword = "Lakeshore-relay-s3cret!"\n')
    stored = run(home, "renewals", code=2).stderr  # the table is checked whenever the instance is opened
    assert stored.startswith("error [CONFIG_INVALID]: badgesmith.toml, line ") and "never stored" in stored
    assert PASSWORD not in stored


def test_progress_after_a_renewal_shows_the_next_cycle_instead_of_expires_soon(home):
    """Issue 16: the certification expiring in ~60 days is 'expires soon' until it is renewed."""
    before = run(home, "progress", "--email", "jane@example.org").stdout
    assert "expires soon: Certified Youth Services Librarian on " in before
    credential_id = json.loads(run(home, "renewals", "--json").stdout)["renewals"][0]["credential_id"]
    new = json.loads(run(home, "renew", credential_id, "--override", "--reason", "Board approved", "--json")
                     .stdout)[0]
    after = run(home, "progress", "--email", "jane@example.org").stdout
    assert "expires soon: Certified Youth Services Librarian" not in after
    assert (f"renewed: Certified Youth Services Librarian on {date.today().isoformat()}, next cycle from "
            f"{new['valid_from'][:10]} to {new['valid_until'][:10]} ({new['id']})") in after
    (cycle,) = json.loads(run(home, "progress", "--email", "jane@example.org", "--json").stdout)["renewed"]
    assert (cycle["previous"], cycle["id"]) == (credential_id, new["id"])
