"""Claim pages that travel by e-mail (issue 20): renewal reminders carry one per certification still in
force; its PIN goes, on request, to the award's address, over a real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import date
from email.parser import BytesParser
from email.policy import default

import pytest

from errors import BadgesmithError
from issuer.awarding import claims, wallet_links
from issuer.awarding.issuing import IssueRequest
from issuer.records.claim_mail import email_claim_pin, mask_email
from issuer.records.notices import send_message, smtp_relay, write_notices
from issuer.records.renewals import renewals_due
from issuer.instance.settings import SmtpSettings

CERTIFICATION = "certified-youth-services-librarian"

pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed (test extra)")


def _code(call) -> str:
    with pytest.raises(BadgesmithError) as caught:
        call()
    return caught.value.code.value


def test_a_renewal_reminder_carries_a_claim_page_for_a_certification_still_in_force(issuer, tmp_path):
    due_soon = issuer.issue(CERTIFICATION, IssueRequest(email="jane@example.org", name="Jane Doe",
                                                        date=date(2024, 1, 22))).record
    lapsed = issuer.issue(CERTIFICATION, IssueRequest(email="ravi@example.org", name="Ravi Elan",
                                                      date=date(2023, 11, 1))).record
    run = write_notices(issuer, renewals_due(issuer, due_within="90d"), tmp_path / "out")
    texts = {}
    for notice in run.sent:
        message = BytesParser(policy=default).parse(notice.path.open("rb"))
        texts[message["To"].addresses[0].addr_spec] = (message.get_body(("plain",)).get_content(),
                                                       message.get_body(("html",)).get_content())
    plain, html = texts["jane@example.org"]
    [link] = re.findall(r"https://badges\.lakeshore\.example/wallet/claim/\S+", plain)
    assert link in html and "PIN" in plain
    secret = link.rsplit("/", 1)[-1]
    assert wallet_links.find_claim_page(issuer, secret).credential_id == due_soon.id
    assert _code(lambda: wallet_links.open_claim_page(issuer, secret, None)) == "TX_CODE_REQUIRED"  # no PIN in it
    assert "/wallet/claim/" not in texts["ravi@example.org"][0]  # lapsed: nothing to put in a wallet
    assert lapsed.id


def test_the_pin_goes_to_the_awards_address_and_replaces_the_last(issuer, mail_server):
    host, port, inbox = mail_server()
    award = issuer.issue(CERTIFICATION, IssueRequest(email="Jane@Example.org", name="Jane Doe")).record
    page = wallet_links.claim_page(issuer, award.id)
    secret = page.url.rsplit("/", 1)[-1]
    relay = smtp_relay(SmtpSettings(host=host, port=port, security="none"))
    shown = email_claim_pin(issuer, secret, send=lambda message: send_message(relay, message))
    assert shown == "j•••@example.org" == mask_email("jane@example.org")
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["jane@example.org"]
    body = BytesParser(policy=default).parsebytes(envelope.content).get_content()
    mailed = re.search(r"is:\s+(\d{6})\s", body).group(1)
    if mailed != page.pin:
        assert _code(lambda: wallet_links.open_claim_page(issuer, secret, page.pin)) == "TX_CODE_WRONG"
    links = wallet_links.open_claim_page(issuer, secret, mailed)
    assert links.credential_id == award.id and links.lcw.startswith("https://lcw.app/request.html?")


def test_no_pin_mail_for_a_used_or_unknown_page(issuer):
    award = issuer.issue(CERTIFICATION, IssueRequest(email="jane@example.org")).record
    sent = []
    assert _code(lambda: email_claim_pin(issuer, "A" * 43, send=sent.append)) == "OFFER_UNKNOWN"
    vcapi = claims.create_offer(issuer, award.id, protocol="vcapi")
    assert _code(lambda: email_claim_pin(issuer, vcapi.secret, send=sent.append)) == "OFFER_UNKNOWN"
    assert sent == []
