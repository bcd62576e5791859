"""issuer.records.notices: reminder messages written as .eml files and sent to a real SMTP server on loopback, once.

The SMTP server is aiosmtpd on 127.0.0.1 (a real server speaking SMTP over a
socket, not a mock: ``mail_server`` in tests/conftest.py); the clock is fixed
at 2026-11-23 12:00 UTC. For TLS the server has a throwaway self-signed
certificate made with ``cryptography`` (``tls_certificate``), which the client
is given to trust through ``send_notices(ssl_context=…)``.
"""

from __future__ import annotations

import logging
import socket
import ssl
import traceback
from dataclasses import replace
from datetime import date
from email import message_from_bytes
from email.parser import BytesParser
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

import pytest

from errors import Code, ConfigError, InputError, UpstreamError
from issuer.instance.settings import SmtpSettings
from issuer.awarding.issuing import IssueRequest
from issuer.records.notices import parse_smtp_address, send_notices, smtp_relay, write_notices
from issuer.records.renewals import renewals_due

pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed (test extra)")

USER, PASSWORD = "ce-notices", "Lakeshore-relay-s3cret!"
LOGIN = (USER, PASSWORD)

CERTIFICATION = "certified-youth-services-librarian"
SECOND = "certified-teen-services-specialist"
SECOND_TOML = """id = "certified-teen-services-specialist"
name = "Certified Teen Services Specialist"
achievement_type = "Certification"
description = "Teen services."
criteria = "A portfolio."
tags = ["teen-services"]
valid_for = "2y"

[renewal]
credits = 10
within = "2y"
tags = ["teen-services"]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(mail_server):
    """A real SMTP server on 127.0.0.1 (plain, no login): (host, port, inbox)."""
    return mail_server()


@pytest.fixture
def due(issuer, tmp_path):
    """Jane (two certifications, both due) and Ravi (one, lapsed): three renewal rows, two learners."""
    path = tmp_path / "second.toml"
    path.write_text(SECOND_TOML, "utf-8")
    issuer.add_achievement(path)
    for slug, email, name, on in ((CERTIFICATION, "jane@example.org", "Jane Doe", date(2024, 1, 22)),
                                  (SECOND, "jane@example.org", "Jane Doe", date(2025, 2, 1)),
                                  (CERTIFICATION, "ravi@example.org", "Ravi Élan", date(2023, 11, 1))):
        issuer.issue(slug, IssueRequest(email=email, name=name, date=on))
    rows = renewals_due(issuer, due_within="90d")
    assert len(rows) == 3
    return rows


def test_notices_written_as_files_parse_back_one_per_learner(issuer, due, tmp_path):
    run = write_notices(issuer, due, tmp_path / "out")
    assert len(run.sent) == 2 and run.already == 0
    by_to = {}
    for notice in run.sent:
        message = BytesParser(policy=default).parse(notice.path.open("rb"))
        by_to[message["To"].addresses[0].addr_spec] = message
        assert message["Message-ID"] == notice.message_id and message["Date"]
        assert message["From"].addresses[0].addr_spec == "ce@lakeshore.example"
        assert message["From"].addresses[0].display_name == "Lakeshore Library Association"
    jane, ravi = by_to["jane@example.org"], by_to["ravi@example.org"]
    jane_text = jane.get_body(preferencelist=("plain",))
    body = " ".join(jane_text.get_content().split())  # unwrapped: a date may fall across a line break
    assert "Certified Youth Services Librarian" in body and "Certified Teen Services Specialist" in body
    assert "22 January 2027" in body and "short by 30 CEUs" in body and "short by 10 CEUs" in body
    assert jane["Subject"] == "Renewal reminders for your 2 certifications from Lakeshore Library Association"
    assert all(issuer.credential_page(r.credential_id) in body for r in due if r.lookup_key == due[1].lookup_key)
    assert "expired on 1 November 2026" in ravi["Subject"] and ravi["To"].addresses[0].display_name == "Ravi Élan"
    assert "recertification" in ravi.get_body(preferencelist=("plain",)).get_content()
    assert jane_text["Content-Transfer-Encoding"] == "7bit" and issuer.credential_page(due[1].credential_id) in (
        jane_text.get_content().splitlines())  # the link on a line of its own, unbroken


def test_notices_carry_the_same_words_as_html_with_the_learners_name_escaped(issuer, due, tmp_path):
    issuer.issue(CERTIFICATION, IssueRequest(email="mal@example.org", name="<b>Mal</b> & Co",
                                             date=date(2024, 1, 22)))
    run = write_notices(issuer, renewals_due(issuer, due_within="90d"), tmp_path / "out")
    for notice in run.sent:
        message = BytesParser(policy=default).parse(notice.path.open("rb"))
        assert message.get_content_type() == "multipart/alternative"
        plain = " ".join(message.get_body(preferencelist=("plain",)).get_content().split())
        html_part = message.get_body(preferencelist=("html",))
        assert html_part["Content-Transfer-Encoding"] == "quoted-printable"
        page = _Page()
        page.feed(html_part.get_content())
        assert page.links and all(link in plain for link in page.links if link.startswith("https://"))
        words = {w.strip(".,;:") for w in plain.split() if not w.startswith("https://")} - {"badge"}
        assert words <= {w.strip(".,;:") for w in page.text.split()}  # every word of the plain text
        if "mal@example.org" in message["To"].addresses[0].addr_spec:
            assert "Dear <b>Mal</b> & Co," in page.paragraphs  # shown as text, never as markup
            assert "<b>" not in html_part.get_content().replace("&lt;b&gt;", "")


class _Page(HTMLParser):
    """Paragraph texts and link targets of an HTML body."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.links: list[str] = []
        self.text = ""
        self._open = False

    def handle_starttag(self, tag, attrs):
        if tag == "p":
            self._open = True
            self.paragraphs.append("")
        elif tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag == "p":
            self._open = False

    def handle_data(self, data):
        self.text += " " + data
        if self._open:
            self.paragraphs[-1] += data


def test_files_are_written_once_per_cycle(issuer, due, tmp_path):
    first = write_notices(issuer, due, tmp_path / "out")
    again = write_notices(issuer, renewals_due(issuer, due_within="90d"), tmp_path / "out")
    assert len(first.sent) == 2 and again.sent == [] and again.already == 2
    assert len(list((tmp_path / "out").glob("*.eml"))) == 2


def test_notices_are_sent_once_to_a_real_smtp_server(issuer, due, smtp_server):
    host, port, inbox = smtp_server
    run = send_notices(issuer, due, host=host, port=port, timeout=10)
    assert len(run.sent) == 2 and len(inbox.envelopes) == 2
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["jane@example.org", "ravi@example.org"]
    assert {e.mail_from for e in inbox.envelopes} == {"ce@lakeshore.example"}
    received = message_from_bytes(inbox.envelopes[0].content, policy=default)
    assert received["Message-ID"] in {n.message_id for n in run.sent}
    again = send_notices(issuer, renewals_due(issuer, due_within="90d"), host=host, port=port, timeout=10)
    assert again.sent == [] and again.already == 2 and len(inbox.envelopes) == 2  # nothing twice
    # The file channel is separate: a division may both send and keep copies.
    assert len(write_notices(issuer, due, Path(issuer.settings.home) / "notices").sent) == 2


def test_a_refused_recipient_is_reported_and_can_be_notified_later(issuer, smtp_server):
    host, port, inbox = smtp_server
    issuer.issue(CERTIFICATION, IssueRequest(email="gone@refused.example", name="Gone", date=date(2024, 1, 22)))
    rows = renewals_due(issuer, due_within="90d")
    run = send_notices(issuer, rows, host=host, port=port, timeout=10)
    assert run.sent == [] and run.refused == ["gone@refused.example"] and inbox.envelopes == []
    assert send_notices(issuer, rows, host=host, port=port, timeout=10).refused == ["gone@refused.example"]


def test_an_unreachable_server_is_smtp_failed(issuer, due):
    with pytest.raises(UpstreamError) as raised:
        send_notices(issuer, due, host="127.0.0.1", port=_free_port(), timeout=5)
    assert raised.value.code is Code.SMTP_FAILED and "127.0.0.1" in raised.value.message


def test_notices_need_the_instance_email_as_sender(issuer, due, tmp_path):
    issuer.settings = replace(issuer.settings, email=None)
    with pytest.raises(ConfigError) as raised:
        write_notices(issuer, due, tmp_path / "out")
    assert raised.value.code is Code.CONFIG_INVALID and "[issuer]" in raised.value.message


@pytest.mark.parametrize("text, expected", [("mail.example.org:25", ("mail.example.org", 25)),
                                            ("[::1]:2525", ("::1", 2525)), ("127.0.0.1:1025", ("127.0.0.1", 1025))])
def test_parse_smtp_address(text, expected):
    assert parse_smtp_address(text) == expected


@pytest.mark.parametrize("text", ["mail.example.org", "host:0", "host:99999", ":25"])
def test_parse_smtp_address_refuses_what_is_not_host_and_port(text):
    with pytest.raises(InputError):
        parse_smtp_address(text)


# --- TLS and login ---------------------------------------------------------------------------


@pytest.fixture
def trusting(tls_certificate):
    """A client TLS context that trusts the throwaway certificate (and nothing else)."""
    return ssl.create_default_context(cafile=str(tls_certificate[0]))


@pytest.mark.parametrize("security", ["starttls", None])  # None: a login means STARTTLS is required
def test_notices_go_over_starttls_after_a_login(issuer, due, mail_server, trusting, security):
    host, port, inbox = mail_server("starttls", login=LOGIN)
    run = send_notices(issuer, due, host=host, port=port, security=security, username=USER, password=PASSWORD,
                       ssl_context=trusting, timeout=10)
    assert len(run.sent) == 2 and len(inbox.envelopes) == 2
    assert inbox.sessions == [(True, True), (True, True)]  # logged in, over TLS, for every message


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd: implicit TLS is TLS
def test_notices_go_over_implicit_tls(issuer, due, mail_server, trusting):
    host, port, inbox = mail_server("implicit", login=LOGIN)
    run = send_notices(issuer, due, host=host, port=port, security="tls", username=USER, password=PASSWORD,
                       ssl_context=trusting, timeout=10)
    assert len(run.sent) == 2 and inbox.sessions == [(True, True), (True, True)]


def test_without_a_login_starttls_is_still_used_when_offered(issuer, due, mail_server, trusting):
    host, port, inbox = mail_server("starttls")
    assert len(send_notices(issuer, due, host=host, port=port, ssl_context=trusting, timeout=10).sent) == 2
    assert inbox.sessions == [(False, True), (False, True)]


def test_an_untrusted_certificate_is_smtp_failed(issuer, due, mail_server):
    host, port, inbox = mail_server("starttls", login=LOGIN)
    with pytest.raises(UpstreamError) as raised:  # the default context: the system's CAs only
        send_notices(issuer, due, host=host, port=port, security="starttls", username=USER, password=PASSWORD,
                     timeout=10)
    assert raised.value.code is Code.SMTP_FAILED and "cannot be trusted" in raised.value.message
    assert inbox.envelopes == []


def test_starttls_required_but_not_offered_sends_nothing(issuer, due, mail_server, trusting):
    host, port, inbox = mail_server()
    with pytest.raises(UpstreamError) as raised:
        send_notices(issuer, due, host=host, port=port, security="starttls", ssl_context=trusting, timeout=10)
    error = raised.value
    assert error.code is Code.SMTP_FAILED and "does not offer STARTTLS" in error.message
    assert len(error.message.splitlines()) == 1 and inbox.envelopes == []
    # Nothing was recorded as sent: a later run over a connection that works sends both.
    assert len(send_notices(issuer, due, host=host, port=port, security="none", timeout=10).sent) == 2


def test_a_wrong_password_is_smtp_failed_naming_the_user(issuer, due, mail_server, trusting, caplog):
    host, port, inbox = mail_server("starttls", login=LOGIN)
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + PASSWORD
    with pytest.raises(UpstreamError) as raised:
        send_notices(issuer, due, host=host, port=port, username=USER, password=wrong, ssl_context=trusting,
                     timeout=10)
    error = raised.value
    assert error.code is Code.SMTP_FAILED
    assert f"refused the login for {USER}" in error.message and "535" in error.message
    _assert_nowhere(wrong, error, caplog)
    assert inbox.envelopes == []
    assert len(send_notices(issuer, due, host=host, port=port, username=USER, password=PASSWORD,
                            ssl_context=trusting, timeout=10).sent) == 2  # the failed run reserved nothing


def test_a_login_the_server_does_not_offer_is_smtp_failed(issuer, due, mail_server):
    host, port, _ = mail_server()  # no AUTH at all
    with pytest.raises(UpstreamError) as raised:
        send_notices(issuer, due, host=host, port=port, security="none", username=USER, password=PASSWORD,
                     timeout=10)
    assert raised.value.code is Code.SMTP_FAILED and "does not offer a login" in raised.value.message


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_local_relay_may_take_a_login_without_tls_when_security_is_none(issuer, due, mail_server):
    host, port, inbox = mail_server(login=LOGIN, login_needs_tls=False)
    run = send_notices(issuer, due, host=host, port=port, security="none", username=USER, password=PASSWORD,
                       timeout=10)
    assert len(run.sent) == 2 and inbox.sessions == [(True, False), (True, False)]


@pytest.mark.parametrize("host", ["mail.lakeshore.example", "192.0.2.25"])
def test_a_login_is_never_sent_unencrypted_to_another_host(issuer, due, host):
    # Refused before connecting (these hosts do not exist: a connection attempt would fail differently).
    with pytest.raises(ConfigError) as raised:
        send_notices(issuer, due, host=host, port=25, security="none", username=USER, password=PASSWORD)
    assert raised.value.code is Code.CONFIG_INVALID and "unencrypted" in raised.value.message
    with pytest.raises(ConfigError):
        smtp_relay(SmtpSettings(host=host, security="none", username=USER), env={"BADGESMITH_SMTP_PASSWORD": "x"})


def test_the_relay_comes_from_the_table_overridden_by_the_command_line():
    table = SmtpSettings(host="smtp.office365.com", username="ce@lakeshore.example", password_env="LLA_SMTP")
    env = {"LLA_SMTP": PASSWORD, "BADGESMITH_SMTP_PASSWORD": "not this one"}
    relay = smtp_relay(table, env=env)
    assert (relay.host, relay.port, relay.security, relay.username, relay.password) == (
        "smtp.office365.com", 587, "starttls", "ce@lakeshore.example", PASSWORD)
    assert PASSWORD not in repr(relay) and PASSWORD not in str(relay)
    relay = smtp_relay(table, address="relay.lakeshore.example:465", username="notices", env=env)
    assert (relay.address, relay.security, relay.username) == ("relay.lakeshore.example:465", "tls", "notices")
    relay = smtp_relay(table, address="[::1]:2525", security="none", env=env)
    assert (relay.address, relay.security) == ("[::1]:2525", "none")  # a local relay: a login may go plain
    assert smtp_relay(SmtpSettings(host="mail.lakeshore.example"), env={}).port == 25  # no login: as before
    assert smtp_relay(SmtpSettings(host="mail.lakeshore.example", security="tls"), env={}).port == 465
    with pytest.raises(InputError) as raised:
        smtp_relay(SmtpSettings(), env=env)
    assert raised.value.code is Code.USAGE and "[smtp]" in raised.value.message


def test_a_missing_password_variable_is_config_invalid_naming_it(caplog):
    caplog.set_level(logging.DEBUG)
    table = SmtpSettings(host="smtp.office365.com", username=USER, password_env="LLA_SMTP")
    for env in ({}, {"LLA_SMTP": ""}, {"BADGESMITH_SMTP_PASSWORD": PASSWORD}):
        with pytest.raises(ConfigError) as raised:
            smtp_relay(table, env=env)
        assert raised.value.code is Code.CONFIG_INVALID and "LLA_SMTP" in raised.value.message
        assert raised.value.details == {"variable": "LLA_SMTP"}
        _assert_nowhere(PASSWORD, raised.value, caplog)


def _assert_nowhere(password: str, error: BaseException, caplog) -> None:
    """The password is in no message, repr, traceback (with its chain), detail or log record."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error)), repr(getattr(error, "details", "")),
             caplog.text, *(repr(r.args) for r in caplog.records)]
    assert not [text for text in texts if password in text]


def test_notices_speak_in_the_associations_brand(issuer, due, tmp_path):
    """With a [brand] table the learner hears from the association: its name, contact address and colour."""
    from issuer.instance.brand import Brand

    issuer.settings = replace(issuer.settings, brand=Brand(
        name="Lakeshore Continuing Education", contact_email="help@lakeshore.example", primary_color="#7a1f5c"))
    run = write_notices(issuer, due, tmp_path / "notices")
    message = BytesParser(policy=default).parsebytes(run.sent[0].path.read_bytes())
    assert message["From"].addresses[0].display_name == "Lakeshore Continuing Education"
    assert message["From"].addresses[0].addr_spec == "ce@lakeshore.example"  # the sender stays the instance's
    assert message["Reply-To"] == "help@lakeshore.example"
    text = message.get_body(("plain",)).get_content()
    assert "Write to help@lakeshore.example." in text and "Lakeshore Continuing Education" in text
    html = message.get_body(("html",)).get_content()
    assert "color:#7a1f5c" in html and "Lakeshore Continuing Education" in html
