"""issuer.notices: reminder messages written as .eml files and sent to a real SMTP server on loopback, once.

The SMTP server is aiosmtpd on 127.0.0.1 (a real server speaking SMTP over a
socket, not a mock); the clock is fixed at 2026-11-23 12:00 UTC.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import date
from email import message_from_bytes
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from errors import Code, ConfigError, InputError, UpstreamError
from issuer.issuing import IssueRequest
from issuer.notices import parse_smtp_address, send_notices, write_notices
from issuer.renewals import renewals_due

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed (test extra)")

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


class Inbox:
    """aiosmtpd handler: keeps every message; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1: yields (host, port, inbox)."""
    inbox = Inbox()
    port = _free_port()
    controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()


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
    body = " ".join(jane.get_content().split())  # unwrapped: a date may fall across a line break
    assert "Certified Youth Services Librarian" in body and "Certified Teen Services Specialist" in body
    assert "22 January 2027" in body and "short by 30 CEUs" in body and "short by 10 CEUs" in body
    assert jane["Subject"] == "Renewal reminders for your 2 certifications from Lakeshore Library Association"
    assert all(issuer.credential_page(r.credential_id) in body for r in due if r.lookup_key == due[1].lookup_key)
    assert "expired on 1 November 2026" in ravi["Subject"] and ravi["To"].addresses[0].display_name == "Ravi Élan"
    assert "recertification" in ravi.get_content()
    assert jane["Content-Transfer-Encoding"] == "7bit" and issuer.credential_page(due[1].credential_id) in (
        jane.get_content().splitlines())  # the link on a line of its own, unbroken


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
