"""Renewal reminders: one RFC 5322 message per learner, written to files or sent by SMTP, once per cycle.

A division that has its own mail system takes the ``.eml`` files
(``write_notices``); one that has a relay lets Badgesmith hand them over
(``send_notices``, plain ``smtplib`` with STARTTLS when the server offers it).

"Never twice for the same cycle" is the registry's ``renewal_notices`` table:
a row per (certification, cycle end, channel) is inserted *before* the
message goes out and deleted again if the server refuses it, so overlapping
runs cannot both send, and a crash between the two steps errs on the side of
silence (at most once) rather than a duplicate.

SMTP is the one network door outside ``verifier.fetch``: its host is the
division's own relay, named by staff (``--smtp``), never taken from input.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from errors import Code, ConfigError, Conflict, InputError, UpstreamError
from issuer.instance import write_file_atomic
from issuer.issuing import Issuer
from issuer.models import RenewalNoticeRow
from issuer.renewals import ELIGIBLE, LAPSED, RenewalRow

FILE, SMTP_CHANNEL = "file", "smtp"
SMTP_TIMEOUT = 30.0  # seconds per connect / command: a hung relay must not hang the run


@dataclass(frozen=True, slots=True)
class Notice:
    """One message handed out: to whom, about which certifications, and where it went."""

    to: str
    message_id: str
    credential_ids: tuple[str, ...]
    path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"to": self.to, "message_id": self.message_id, "credentials": list(self.credential_ids),
                "file": str(self.path) if self.path else None}


@dataclass(slots=True)
class NoticeRun:
    """What a run did: messages handed out, learners already notified this cycle, and those left out."""

    channel: str
    sent: list[Notice] = field(default_factory=list)
    already: int = 0
    no_email: int = 0
    refused: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "sent": [n.to_dict() for n in self.sent], "already_notified": self.already,
                "without_email": self.no_email, "refused": self.refused}


def compose_notice(issuer: Issuer, rows: Sequence[RenewalRow], *, now: datetime) -> EmailMessage:
    """The reminder for one learner about one or more of their certifications (plain text, UTF-8)."""
    settings = issuer.settings
    _require_sender(issuer)
    first = rows[0]
    message = EmailMessage()
    message["From"] = Address(settings.name, addr_spec=settings.email)
    message["To"] = Address(first.recipient_name or "", addr_spec=first.recipient_email)
    message["Subject"] = (_subject(first) if len(rows) == 1
                          else f"Renewal reminders for your {len(rows)} certifications from {settings.name}")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = _message_id(settings.email, rows)
    # Automatic mail: no out-of-office replies (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    greeting = f"Dear {first.recipient_name}," if first.recipient_name else "Hello,"
    body = [greeting, ""]
    for row in rows:
        body += [" ".join(_paragraph(row)), "", "Your badge:", issuer.credential_page(row.credential_id), ""]
    body += [f"Questions? Write to {settings.email}.", "", settings.name, settings.url, ""]
    # Wrapped for plain-text readers; ASCII travels as 7bit (a badge URL may pass 78 characters, far below
    # RFC 5322's 998), so a saved .eml reads as it will be shown. Other text needs quoted-printable.
    text = "\n".join(textwrap.fill(line, 72, break_long_words=False, break_on_hyphens=False) for line in body)
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    return message


def write_notices(issuer: Issuer, rows: Iterable[RenewalRow], directory: Path, *,
                  now: datetime | None = None) -> NoticeRun:
    """Write one ``.eml`` per learner not yet given a file notice for this cycle."""
    _require_sender(issuer)
    directory = Path(directory)

    def deliver(message: EmailMessage, key: str) -> Path:
        path = directory / f"renewal-{_file_stem(message, key)}.eml"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            write_file_atomic(path, message.as_bytes(policy=SMTP))
        except OSError as exc:
            raise InputError(Code.CONFIG_INVALID, f"The notices folder {directory} cannot be written "
                             f"({exc.strerror}); choose another with --notices.") from exc
        return path

    return _run(issuer, rows, FILE, deliver, now=now or issuer.now())


def send_notices(issuer: Issuer, rows: Iterable[RenewalRow], *, host: str, port: int,
                 timeout: float = SMTP_TIMEOUT, now: datetime | None = None) -> NoticeRun:
    """Send one message per learner not yet sent a notice for this cycle, through the SMTP server at host:port."""
    _require_sender(issuer)  # before connecting: a configuration mistake is not a mail-server failure
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()

            def deliver(message: EmailMessage, key: str) -> None:
                smtp.send_message(message)

            return _run(issuer, rows, SMTP_CHANNEL, deliver, now=now or issuer.now())
    except (OSError, smtplib.SMTPException) as exc:
        raise UpstreamError(Code.SMTP_FAILED, f"The mail server {host}:{port} failed ({_reason(exc)}); notices "
                            "sent before the failure are recorded, so running again sends only the rest.",
                            host=host, port=port) from exc


def parse_smtp_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) → (host, port); USAGE error otherwise."""
    found = re.fullmatch(r"\[?([^\[\]]+?)\]?:(\d{1,5})", text.strip())
    if not found or not 0 < int(found[2]) < 65536:
        raise InputError(Code.USAGE, f"--smtp {text!r} is not HOST:PORT, e.g. mail.example.org:25.")
    return found[1], int(found[2])


# -- module internals -------------------------------------------------------------------------


def _run(issuer: Issuer, rows: Iterable[RenewalRow], channel: str,
         deliver: Callable[[EmailMessage, str], Path | None], *, now: datetime) -> NoticeRun:
    run = NoticeRun(channel)
    by_learner: dict[str, list[RenewalRow]] = {}
    for row in rows:
        by_learner.setdefault(row.lookup_key, []).append(row)
    done = _notified(issuer, channel, [r for group in by_learner.values() for r in group])
    for key, group in by_learner.items():
        pending = [r for r in group if (r.credential_id, r.expires.date()) not in done]
        if not pending:
            run.already += 1
            continue
        if not pending[0].recipient_email:
            run.no_email += 1
            continue
        message = compose_notice(issuer, pending, now=now)
        if not _reserve(issuer, pending, channel, message["Message-ID"], now):
            run.already += 1  # another run got there first
            continue
        try:
            path = deliver(message, key)
        except smtplib.SMTPRecipientsRefused:
            # This address is refused, not the server down: forget the
            # reservation so a corrected address gets the notice later.
            _release(issuer, pending, channel)
            run.refused.append(pending[0].recipient_email)
            continue
        except BaseException:
            _release(issuer, pending, channel)
            raise
        run.sent.append(Notice(pending[0].recipient_email, message["Message-ID"],
                               tuple(r.credential_id for r in pending), path))
    return run


def _notified(issuer: Issuer, channel: str, rows: list[RenewalRow]) -> set[tuple[str, Any]]:
    # One query for the whole run: every notice on this channel for cycles ending since the earliest.
    if not rows:
        return set()
    n = RenewalNoticeRow
    query = select(n.credential_id, n.cycle_end).where(
        n.issuer_id == issuer.issuer_id, n.channel == channel, n.cycle_end >= min(r.expires.date() for r in rows))
    with issuer.registry.session(write=False) as s:
        return {(credential_id, cycle_end) for credential_id, cycle_end in s.execute(query)}


def _reserve(issuer: Issuer, rows: list[RenewalRow], channel: str, message_id: str, now: datetime) -> bool:
    try:
        with issuer.registry.session() as s:
            s.add_all([RenewalNoticeRow(issuer_id=issuer.issuer_id, credential_id=r.credential_id,
                                        cycle_end=r.expires.date(), channel=channel, message_id=message_id,
                                        sent_at=now) for r in rows])
    except Conflict as exc:  # the unique key: already reserved by a concurrent run
        if exc.code is not Code.DATABASE_ERROR:
            raise
        return False
    return True


def _release(issuer: Issuer, rows: list[RenewalRow], channel: str) -> None:
    n = RenewalNoticeRow
    with issuer.registry.session() as s:
        for r in rows:
            s.execute(n.__table__.delete().where(n.issuer_id == issuer.issuer_id, n.credential_id == r.credential_id,
                                                 n.cycle_end == r.expires.date(), n.channel == channel))


def _require_sender(issuer: Issuer) -> None:
    if not issuer.settings.email:
        raise ConfigError(Code.CONFIG_INVALID, "Renewal notices need a sender: set email under [issuer] in "
                          "badgesmith.toml (the division's contact address).")


def _subject(row: RenewalRow) -> str:
    day = _day(row.expires)
    if row.state == LAPSED:
        return f"Your {row.certification} certification expired on {day}"
    return f"Your {row.certification} certification expires on {day}"


def _paragraph(row: RenewalRow) -> list[str]:
    day, tags = _day(row.expires), f" in {', '.join(row.tags)}" if row.tags else ""
    need = (f"Renewal needs {row.required:g} CEUs{tags} earned between {_day(row.cycle_start)} and {day}; "
            f"we have recorded {row.earned:g}.")
    if row.state == LAPSED:
        return [f"Your {row.certification} certification expired on {day}.", need,
                "Please contact us about recertification."]
    soon = f"in {row.days_left} day{'' if row.days_left == 1 else 's'}"
    head = f"Your {row.certification} certification expires on {day} ({soon})."
    if row.state == ELIGIBLE:
        return [head, need, "You meet the renewal requirement: your renewed certification will continue "
                "from the day this one ends."]
    return [head, need, f"You are short by {row.short_by:g} CEU{'' if row.short_by == 1 else 's'}: courses "
            "you complete before the expiry date count toward renewal."]


def _day(moment: Any) -> str:
    value = moment.date() if isinstance(moment, datetime) else moment
    return f"{value.day} {value:%B %Y}"


def _message_id(sender: str, rows: Sequence[RenewalRow]) -> str:
    # Derived from the certifications and cycles it is about: a file notice and
    # a sent one are the same message, and receiving systems can tell repeats.
    digest = hashlib.sha256("|".join(f"{r.credential_id}@{r.expires.date()}" for r in rows).encode()).hexdigest()
    return f"<renewal.{digest[:24]}@{sender.rpartition('@')[2]}>"


def _file_stem(message: EmailMessage, key: str) -> str:
    local = re.sub(r"[^a-z0-9]+", "-", message["To"].addresses[0].username.lower()).strip("-") or "learner"
    return f"{local[:40]}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {detail.strip()}"[:200]
    return (str(exc) or type(exc).__name__)[:200]


__all__ = ["FILE", "Notice", "NoticeRun", "SMTP_CHANNEL", "SMTP_TIMEOUT", "compose_notice", "parse_smtp_address",
           "send_notices", "write_notices"]
