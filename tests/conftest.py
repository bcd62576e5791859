"""Shared fixtures: real databases, never mocks.

- ``postgres_url`` (session): a throwaway PostgreSQL cluster started with the
  server binaries found on this machine (``initdb``/``pg_ctl`` on PATH or under
  ``/usr/lib/postgresql/*/bin``), on a random port of 127.0.0.1 with trust
  auth, stopped and deleted at the end. Skips only when the binaries or the
  psycopg driver are missing.
- ``db_url``: parametrised over ``sqlite`` (a file in ``tmp_path``) and
  ``postgresql`` (a fresh ``CREATE DATABASE`` on that cluster per test), so a
  test using it runs once per backend.
- ``tls_certificate`` (session): a throwaway self-signed certificate for
  127.0.0.1 and localhost, made with ``cryptography``: (cert.pem, key.pem).
- ``mail_server``: starts real SMTP servers (aiosmtpd) on 127.0.0.1, plain,
  with STARTTLS or implicit TLS, optionally requiring a login.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import ssl
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as(user: pwd.struct_passwd | None, *args: str) -> None:
    # initdb and postgres refuse to run as root: drop to the postgres account.
    kwargs = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    env = {**os.environ, "LC_ALL": "C"} if user is None else {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C",
                                                             "HOME": user.pw_dir}
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL server started for this test session (maintenance db ``postgres``)."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pytest.importorskip("psycopg", reason="the psycopg driver is not installed (pip install '.[postgres]')")
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' account to run the server as")
    # Not tmp_path_factory: pytest's base temp dir is 0700 root, untraversable for postgres.
    root = Path(tempfile.mkdtemp(prefix="badgesmith-pg-"))
    data, log = root / "data", root / "server.log"
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    port = _free_port()
    try:
        _run_as(user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _run_as(user, pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    # pg_ctl daemonises the server, so a plain SIGTERM to pytest would orphan
    # it: turn SIGTERM into SystemExit so the teardown below still runs.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if in_main else None
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            _run_as(user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)
            if in_main:
                signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL for one test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("postgres_url")
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- a real SMTP server, with TLS and logins ----------------------------------


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed server certificate for 127.0.0.1 and localhost: (cert.pem, key.pem).

    A client trusts it with ``ssl.create_default_context(cafile=cert.pem)``.
    """
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    usage = {flag: False for flag in ("content_commitment", "key_encipherment", "data_encipherment", "key_cert_sign",
                                      "crl_sign", "encipher_only", "decipher_only")}
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_agreement=True, **usage), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Inbox:
    """aiosmtpd handler: keeps every message and how it came; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.sessions: list[tuple[bool, bool]] = []  # per message: (logged in, over TLS)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.sessions.append((bool(session.authenticated), server.transport.get_extra_info("ssl_object") is not None))
        return "250 Message accepted"


@pytest.fixture
def mail_server(tls_certificate: tuple[Path, Path]) -> Iterator[Callable[..., tuple[str, int, _Inbox]]]:
    """``mail_server(tls=None, login=None, login_needs_tls=True)`` → (host, port, inbox), a real SMTP server.

    ``tls``: None (plain, no STARTTLS), ``"starttls"`` (offered and required
    before mail) or ``"implicit"`` (TLS from the first byte), with
    ``tls_certificate``. ``login=(user, password)``: mail only after that
    login (PLAIN or LOGIN), offered only over TLS unless ``login_needs_tls``
    is false. ``inbox.envelopes`` are the messages, ``inbox.sessions`` how
    each came: (logged in, over TLS).
    """
    controller_module = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed (test extra)")
    smtp_module = pytest.importorskip("aiosmtpd.smtp")
    controllers = []

    def start(tls: str | None = None, *, login: tuple[str, str] | None = None,
              login_needs_tls: bool = True) -> tuple[str, int, _Inbox]:
        options: dict = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, tls_certificate))
            options = {"tls_context": context, "require_starttls": True} if tls == "starttls" else \
                {"ssl_context": context}
        if login:
            expected = tuple(part.encode() for part in login)

            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, smtp_module.LoginPassword) and tuple(auth_data) == expected
                return smtp_module.AuthResult(success=ok, handled=False)

            # aiosmtpd counts only STARTTLS as TLS for auth_require_tls: behind implicit TLS the check is moot.
            options |= {"authenticator": authenticate, "auth_required": True,
                        "auth_require_tls": login_needs_tls and tls != "implicit"}
        inbox, port = _Inbox(), _free_port()
        controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return "127.0.0.1", port, inbox

    yield start
    for controller in controllers:
        controller.stop()


# --- the last line of a run: what was skipped, and why ------------------------


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with one line naming every skipped test under its reason, or saying none was skipped.

    ``make test`` installs everything the suite needs, so a skip here is either
    something this machine cannot do (the reason says so) or a missing install step.
    """
    reasons: dict[str, list[str]] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons.setdefault(reason.removeprefix("Skipped: "), []).append(report.nodeid)
    if not reasons:
        terminalreporter.write_line("Skipped: none.")
        return
    count = sum(map(len, reasons.values()))
    parts = [f"{reason} [{', '.join(ids)}]" for reason, ids in sorted(reasons.items())]
    terminalreporter.write_line(f"Skipped {count}: " + "; ".join(parts))
