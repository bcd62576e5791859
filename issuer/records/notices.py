"""Renewal reminders: one RFC 5322 message per learner, written to files or sent by SMTP, once per cycle.

A division that has its own mail system takes the ``.eml`` files
(``write_notices``); one that has a relay lets Badgesmith hand them over
(``send_notices``, ``smtplib``): implicit TLS (``security="tls"``), STARTTLS
required (``"starttls"``, never a fallback to plain text) or plain with STARTTLS
when offered (``"none"``), then a login when a user name is given. The relay
comes from the ``[smtp]`` table and the command line (``smtp_relay``); its
password only ever comes from an environment variable, and is never printed,
logged or put in an error.

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
import os
import re
import smtplib
import ssl
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from issuer.awarding.issuing import Issuer
from issuer.awarding.wallet_links import ClaimPage, claim_pages
from issuer.instance.files import write_file_atomic
from issuer.instance.files import check_output_file
from issuer.instance.settings import SMTP_SECURITY, SmtpSettings
from issuer.records.renewals import ELIGIBLE, LAPSED, RenewalRow, renewals_due
from issuer.store.models import RenewalNoticeRow
from templates import template_environment

FILE, SMTP_CHANNEL = "file", "smtp"
SMTP_TIMEOUT = 30.0  # seconds per connect / command: a hung relay must not hang the run
STARTTLS, TLS, PLAIN = "starttls", "tls", "none"  # the values of SMTP_SECURITY
_DEFAULT_PORTS = {TLS: 465, STARTTLS: 587, PLAIN: 25}
_LOCAL_RELAYS = ("localhost", "127.0.0.1", "::1")  # where a login may go unencrypted (security "none")


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


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    """The mail server to hand notices to and how: address, transport security, login (password never shown)."""

    host: str
    port: int
    security: str = PLAIN
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        """``host:port`` (``[v6]:port``), as in messages."""
        return _address(self.host, self.port)


def compose_notice(issuer: Issuer, rows: Sequence[RenewalRow], *, now: datetime) -> EmailMessage:
    """The reminder for one learner about one or more of their certifications (plain text, UTF-8)."""
    settings = issuer.settings
    _require_sender(issuer)
    # What the public sees is the association's brand; the envelope sender stays the instance's address.
    brand = settings.public_brand
    contact = brand.contact_email or settings.email
    first = rows[0]
    message = EmailMessage()
    message["From"] = Address(brand.name, addr_spec=settings.email)
    if contact != settings.email:
        message["Reply-To"] = contact
    message["To"] = Address(first.recipient_name or "", addr_spec=first.recipient_email)
    message["Subject"] = (_subject(first) if len(rows) == 1
                          else f"Renewal reminders for your {len(rows)} certifications from {brand.name}")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = _message_id(settings.email, rows)
    # Automatic mail: no out-of-office replies (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    greeting = f"Dear {first.recipient_name}," if first.recipient_name else "Hello,"
    # A claim page per certification still in force (issue 20): its PIN is e-mailed to this address on request.
    wallet = claim_pages(issuer, [r.credential_id for r in rows if r.state != LAPSED], now=now)
    body = [greeting, ""]
    for row in rows:
        body += [" ".join(_paragraph(row)), "", "Your badge:", issuer.credential_page(row.credential_id), ""]
        if row.credential_id in wallet:
            body += [WALLET_SENTENCE, wallet[row.credential_id].url, ""]
    body += [f"Questions? Write to {contact}.", "", brand.name, settings.url, ""]
    # Wrapped for plain-text readers; ASCII travels as 7bit (a badge URL may pass 78 characters, far below
    # RFC 5322's 998), so a saved .eml reads as it will be shown. Other text needs quoted-printable.
    text = "\n".join(textwrap.fill(line, 72, break_long_words=False, break_on_hyphens=False) for line in body)
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    # The same words as HTML for clients that show it; quoted-printable keeps its lines short.
    html = template_environment().get_template("notices/renewal.html").render(
        subject=message["Subject"], greeting=greeting, issuer_name=brand.name, email=contact,
        url=settings.url, color=brand.primary_color,
        items=[_html_item(issuer, row, wallet.get(row.credential_id)) for row in rows])
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


WALLET_SENTENCE = ("Add it to your wallet app (open the link on your phone; it asks for a PIN, which we e-mail "
                   "to you when you ask for it there):")

# A colour beside each certification, as on the badge pages: green, amber, red (never the only cue).
_STATE_COLOURS = {ELIGIBLE: "#1e7e3e", LAPSED: "#c0262e"}


def _html_item(issuer: Issuer, row: RenewalRow, wallet: ClaimPage | None = None) -> dict[str, Any]:
    headline, *sentences = _paragraph(row)
    return {"headline": headline, "sentences": sentences, "page": issuer.credential_page(row.credential_id),
            "color": _STATE_COLOURS.get(row.state, "#b07a00"), "wallet": wallet.url if wallet else None,
            "wallet_sentence": WALLET_SENTENCE}


def write_notices(issuer: Issuer, rows: Iterable[RenewalRow], directory: Path, *,
                  now: datetime | None = None) -> NoticeRun:
    """Write one ``.eml`` per learner not yet given a file notice for this cycle."""
    _require_sender(issuer)
    directory = check_output_file(directory, option="--notices", folder=True)

    def unwritable(exc: OSError) -> InputError:
        return InputError(Code.CONFIG_INVALID, f"The notices folder {directory} cannot be written "
                          f"({exc.strerror}); choose another with --notices.")

    try:
        directory.mkdir(exist_ok=True)
    except OSError as exc:
        raise unwritable(exc) from exc

    def deliver(message: EmailMessage, key: str) -> Path:
        path = check_output_file(directory / f"renewal-{_file_stem(message, key)}.eml", option="--notices")
        try:
            write_file_atomic(path, message.as_bytes(policy=SMTP))
        except OSError as exc:
            raise unwritable(exc) from exc
        return path

    return _run(issuer, rows, FILE, deliver, now=now or issuer.now())


def send_notices(issuer: Issuer, rows: Iterable[RenewalRow], *, host: str, port: int,
                 security: str | None = None, username: str | None = None, password: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = SMTP_TIMEOUT,
                 now: datetime | None = None) -> NoticeRun:
    """Send one message per learner not yet sent a notice for this cycle, through the SMTP server at host:port.

    ``security``: ``"tls"`` (implicit TLS, port 465), ``"starttls"`` (STARTTLS
    required: UpstreamError SMTP_FAILED if the server does not offer it) or
    ``"none"`` (STARTTLS when offered); None picks ``"tls"`` on port 465,
    ``"starttls"`` with a username, ``"none"`` otherwise. With ``username`` the
    client logs in after TLS; a login over an unencrypted connection is refused
    (ConfigError CONFIG_INVALID) unless security is ``"none"`` and the host is
    local. ``ssl_context`` verifies the server (default
    ``ssl.create_default_context()``). The password appears in no message.
    """
    _require_sender(issuer)  # before connecting: a configuration mistake is not a mail-server failure
    security = _security(security, port, username)
    _check_login_channel(host, security, username)
    if username and not password:
        raise ConfigError(Code.CONFIG_INVALID, f"The SMTP login {username} needs a password.", field="smtp.username")
    address = _address(host, port)
    try:
        with _connect(host, port, security, username, password, ssl_context, timeout) as smtp:

            def deliver(message: EmailMessage, key: str) -> None:
                smtp.send_message(message)

            return _run(issuer, rows, SMTP_CHANNEL, deliver, now=now or issuer.now())
    except ssl.SSLCertVerificationError as exc:
        raise UpstreamError(Code.SMTP_FAILED, f"The mail server {address} presented a certificate that cannot "
                            f"be trusted ({_reason(exc, password)}); nothing was sent to it.",
                            host=host, port=port) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise UpstreamError(Code.SMTP_FAILED, f"The mail server {address} failed ({_reason(exc, password)}); "
                            "notices sent before the failure are recorded, so running again sends only the rest.",
                            host=host, port=port) from exc


def send_message(relay: SmtpRelay, message: EmailMessage, *, ssl_context: ssl.SSLContext | None = None,
                 timeout: float = SMTP_TIMEOUT) -> None:
    """Hand one message to ``relay`` (a learner's sign-in link); UpstreamError SMTP_FAILED if it fails."""
    _check_login_channel(relay.host, relay.security, relay.username)
    try:
        with _connect(relay.host, relay.port, relay.security, relay.username, relay.password, ssl_context,
                      timeout) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise UpstreamError(Code.SMTP_FAILED, f"The mail server {relay.address} failed "
                            f"({_reason(exc, relay.password)}); the message was not sent.",
                            host=relay.host, port=relay.port) from exc


def smtp_relay(settings: SmtpSettings, *, address: str | None = None, username: str | None = None,
               security: str | None = None, env: Mapping[str, str] = os.environ) -> SmtpRelay:
    """The relay to send through: the ``[smtp]`` table, overridden by ``--smtp HOST:PORT``, ``--smtp-user``
    and ``--smtp-security``; the password from the environment variable ``password_env``.

    Without a port, the one for the security (465 tls, 587 starttls, 25 none).
    InputError USAGE without any host; ConfigError CONFIG_INVALID for a login
    over an unencrypted connection or a password variable that is not set.
    """
    host, port = parse_smtp_address(address) if address else (settings.host, settings.port)
    if not host:
        raise InputError(Code.USAGE, "--smtp needs HOST:PORT here: badgesmith.toml has no host under [smtp].")
    username = username or settings.username
    security = _security(security or settings.security, port, username)
    port = port or _DEFAULT_PORTS[security]
    _check_login_channel(host, security, username)
    password = None
    if username:
        password = env.get(settings.password_env) or None
        if password is None:
            raise ConfigError(Code.CONFIG_INVALID, f"The SMTP login {username} needs its password in the "
                              f"environment variable {settings.password_env}, which is not set (the password "
                              "is never read from badgesmith.toml).", variable=settings.password_env)
    return SmtpRelay(host, port, security, username, password)


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


def _security(security: str | None, port: int | None, username: str | None) -> str:
    if security is None:
        return TLS if port == _DEFAULT_PORTS[TLS] else STARTTLS if username else PLAIN
    if security not in SMTP_SECURITY:
        raise InputError(Code.USAGE, f"SMTP security {security!r} is not one of " + ", ".join(SMTP_SECURITY) + ".")
    return security


def _check_login_channel(host: str, security: str, username: str | None) -> None:
    if username and security == PLAIN and host.lower() not in _LOCAL_RELAYS:
        raise ConfigError(Code.CONFIG_INVALID, f"Badgesmith will not send the SMTP password for {username} to "
                          f"{host} over an unencrypted connection: set security to \"starttls\" or \"tls\" "
                          "(under [smtp] or with --smtp-security); \"none\" with a login is only for a relay on "
                          "localhost.", field="smtp.security")


def _connect(host: str, port: int, security: str, username: str | None, password: str | None,
             ssl_context: ssl.SSLContext | None, timeout: float) -> smtplib.SMTP:
    """An open, greeted connection: TLS as ``security`` asks, logged in if ``username``."""
    def tls() -> ssl.SSLContext:  # made only when used: it reads the system's certificates
        return ssl_context if ssl_context is not None else ssl.create_default_context()

    if security == TLS:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        if security != TLS and smtp.has_extn("starttls"):
            smtp.starttls(context=tls())
            smtp.ehlo()
        elif security == STARTTLS:
            raise UpstreamError(Code.SMTP_FAILED, f"The mail server {_address(host, port)} does not offer "
                                "STARTTLS, which security \"starttls\" requires, so nothing was sent in the clear "
                                "(use \"tls\" for a server that speaks TLS from the start, usually on port 465).",
                                host=host, port=port)
        if username:
            _login(smtp, host, port, username, password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _login(smtp: smtplib.SMTP, host: str, port: int, username: str, password: str) -> None:
    try:
        smtp.login(username, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise UpstreamError(Code.SMTP_FAILED, f"The mail server {_address(host, port)} refused the login for "
                            f"{username} ({_reason(exc, password)}); check the user name and the password.",
                            host=host, port=port, username=username) from None
    except smtplib.SMTPNotSupportedError:
        raise UpstreamError(Code.SMTP_FAILED, f"The mail server {_address(host, port)} does not offer a login "
                            "(AUTH) on this connection; check the port and security, or drop the user name "
                            "for a relay that needs none.", host=host, port=port, username=username) from None


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
    day, tags = _day(row.expires), row.which_ceus
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


def _reason(exc: BaseException, password: str | None = None) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        text = f"{exc.smtp_code} {detail.strip()}"
    else:
        text = str(exc) or type(exc).__name__
    if password:  # a server that echoes what it was sent must not put the password in our message
        text = text.replace(password, "***")
    return text[:200]


@dataclass(frozen=True, slots=True)
class RenewalsReport:
    """What ``badgesmith renewals`` shows: the rows due, and what became of the notices."""

    rows: list[RenewalRow]
    runs: list[NoticeRun]
    relay: SmtpRelay | None = None


def renewals_with_notices(issuer: Issuer, *, due_within: str, notices: Path | None = None,
                          smtp: str | None = None, smtp_user: str | None = None,
                          smtp_security: str | None = None) -> RenewalsReport:
    """The renewals due within ``due_within``, with reminder files written to ``notices`` and/or sent
    through the relay (``smtp``: ``HOST:PORT``, or ``""`` for the ``[smtp]`` table; ``None``: not sent).

    The relay's settings (and its password) are worked out before anything is written.
    """
    relay = None if smtp is None else smtp_relay(issuer.settings.smtp, address=smtp or None, username=smtp_user,
                                                 security=smtp_security)
    rows = renewals_due(issuer, due_within=due_within)
    runs = []
    if notices is not None:
        runs.append(write_notices(issuer, rows, notices))
    if relay is not None:
        runs.append(send_notices(issuer, rows, host=relay.host, port=relay.port, security=relay.security,
                                 username=relay.username, password=relay.password))
    return RenewalsReport(rows=rows, runs=runs, relay=relay)


__all__ = ["FILE", "Notice", "NoticeRun", "RenewalsReport", "SMTP_CHANNEL", "SMTP_TIMEOUT", "SmtpRelay",
           "compose_notice", "parse_smtp_address", "renewals_with_notices", "send_message", "send_notices",
           "smtp_relay", "write_notices"]
