"""The ``badgesmith`` command: parse arguments, call the packages, print.

No business logic lives here. ``BadgesmithError`` is turned into one stderr
sentence (under ``--json``, a JSON object on stdout) and exit code 2 in exactly
one place (``_Group.invoke``); anything else is a bug: exit 3, a traceback only
with ``--debug``. The global options may stand anywhere (``_hoist_global_options``).
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from errors import BadgesmithError, Code, ConfigError, InputError

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3


class _IsoDate(click.DateTime):
    """A date option written YYYY-MM-DD, refused in words a coordinator reads (click's says '%Y-%m-%d')."""

    name = "YYYY-MM-DD"

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.strptime(value, "%Y-%m-%d")
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a date written YYYY-MM-DD, like 2026-12-06.", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[YYYY-MM-DD]"


ISO_DATE = _IsoDate()


_VERSION_ASKED = "badgesmith.version"  # ctx.meta key: --version was given


class _Group(click.Group):
    """A click group that renders Badgesmith errors once, for every command.

    The root group also takes the global options (``--home``, ``--db``,
    ``--debug``, ``--json``) wherever they stand in the command line
    (``_hoist_global_options``), and leaves quietly when stdout is a closed pipe.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if parent is not None:
            return super().make_context(info_name, args, parent=parent, **extra)
        as_json = "--json" in args  # (the parser consumes its list)
        try:
            return super().make_context(info_name, _hoist_global_options(self, list(args)), parent=parent, **extra)
        except click.UsageError as error:  # a mistake in the global options themselves
            _usage_error(error, as_json=as_json)
            raise click.exceptions.Exit(EXIT_ERROR) from None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.meta.get(_VERSION_ASKED):  # answered once every option is read: `--version --json` is JSON too
            from importlib.metadata import version

            if ctx.params.get("as_json"):
                print_json({"name": "badgesmith", "version": version("badgesmith")})
            else:
                click.echo(f"badgesmith, version {version('badgesmith')}")
            ctx.exit()
        return rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BadgesmithError as error:
            _fail(error.code.value, error.message, error.details, as_json=_json_mode(ctx))
            ctx.exit(EXIT_ERROR)
        except click.exceptions.Exit:
            raise
        except click.UsageError as error:
            _usage_error(error, as_json=_json_mode(ctx))
            ctx.exit(EXIT_ERROR)
        except (click.ClickException, click.Abort):
            raise
        except Exception as error:  # a bug: never show a traceback unless asked
            if isinstance(error, BrokenPipeError):  # the root decides; a broken socket elsewhere is a bug
                if ctx.parent is not None:
                    raise
                if _stdout_closed():
                    _silence_stdout()  # `badgesmith list | head`: the reader has what it wanted
                    ctx.exit(0)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _fail(Code.INTERNAL_ERROR.value, "Badgesmith hit an unexpected problem; run again with --debug for "
                  "details and report it.", {}, as_json=_json_mode(ctx))
            ctx.exit(EXIT_BUG)


def _json_mode(ctx: click.Context) -> bool:
    # The root's parameters: set before its callback runs (a missing command fails before it).
    return bool(ctx.find_root().params.get("as_json") or (ctx.obj and ctx.obj.get("json")))


def _fail(code: str, message: str, details: dict[str, Any], *, as_json: bool) -> None:
    """An error: ``{"code", "message", "details"}`` on stdout under ``--json``, else one line on stderr
    (then a roster's bad rows, each with its reason). The exit code is the caller's, the same either way."""
    if as_json:
        click.echo(json_text({"code": code, "message": message, "details": details}))
        return
    say(f"error [{code}]: {message}", err=True)
    for row in details.get("errors", ()):  # a roster's bad rows, each with its reason
        say(f"  line {row['line']}, {row['field']}: {row['message']}", err=True)


def _usage_error(error: click.UsageError, *, as_json: bool) -> None:
    # One line in the house style instead of click's usage block.
    path = error.ctx.command_path if error.ctx else ""
    where = f"badgesmith {path.split(' ', 1)[1]}" if " " in path else "badgesmith"
    if isinstance(error, click.exceptions.NoArgsIsHelpError):  # `badgesmith`, `badgesmith keys` alone
        if not as_json:
            click.echo(error.format_message(), err=True)  # the help, as click shows it (exit 2 all the same)
            return
        message = f"Missing command (see `{where} --help`)."
    else:
        message = f"{error.format_message().rstrip('.')} (see `{where} --help`)."
    _fail(Code.USAGE.value, message, {}, as_json=as_json)


# Options of the whole program that may stand before or after the subcommand (`badgesmith list --home X`
# is `badgesmith --home X list`): the option name -> whether it takes a value.
GLOBAL_OPTIONS = {"--home": True, "--db": True, "--debug": False, "--json": False}


def _hoist_global_options(root: click.Group, args: list[str]) -> list[str]:
    """``args`` with the global options moved in front of the subcommand, where the root group parses them.

    The walk follows the command tree, so an option's value is never taken for an option
    (``--name --json`` names someone "--json"), and stops at ``--``. A subcommand that has an
    option of the same name keeps it (``init --db``), except ``--json``: that one is global
    and also reaches the command's own ``--json`` (``_Command.invoke``).
    """
    hoisted: list[str] = []
    rest: list[str] = []
    command: click.Command = root
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest += args[i:]
            break
        name, has_value, _ = token.partition("=")
        takes_value = GLOBAL_OPTIONS.get(name)
        if takes_value is not None and (command is root or name == "--json" or name not in _option_names(command)):
            taken = 1 if has_value or not takes_value else 2
            if i + taken > len(args):
                raise click.UsageError(f"Option '{name}' requires an argument.")
            hoisted += args[i:i + taken]
            i += taken
            continue
        if isinstance(command, click.Group) and not token.startswith("-") and token in command.commands:
            command = command.commands[token]
        rest.append(token)
        i += 1
        value = _value_kind(command, token) if token.startswith("-") and not has_value else None
        if i < len(args) and (value == "required" or (value == "optional" and not args[i].startswith("-"))):
            rest.append(args[i])  # the option's value, whatever it looks like (as click reads it)
            i += 1
    return hoisted + rest


def _option_names(command: click.Command) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


def _value_kind(command: click.Command, token: str) -> str | None:
    """Whether ``token``, an option of ``command``, takes a value: "required", "optional" (``--smtp``
    alone or ``--smtp HOST``: click takes the next word unless it looks like an option) or None."""
    for param in command.params:
        if isinstance(param, click.Option) and token in (*param.opts, *param.secondary_opts):
            if param.is_flag or param.count:
                return None
            return "optional" if getattr(param, "_flag_needs_value", False) else "required"
    return None


def _stdout_closed() -> bool:
    """True when stdout is a pipe whose reader has gone (``| head``), not some other broken pipe."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def _silence_stdout() -> None:
    # Whatever is still buffered would fail again when Python flushes stdout at exit.
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass


class _Command(click.Command):
    """A command whose text arguments must be UTF-8 (``_refuse_undecodable``), and whose own ``--json``
    is on when the global ``--json`` is."""

    def invoke(self, ctx: click.Context) -> Any:
        _refuse_undecodable(ctx)
        if ctx.obj and ctx.obj.get("json"):
            for param in ctx.command.params:
                if "--json" in getattr(param, "opts", ()):
                    ctx.params[param.name] = True
        return super().invoke(ctx)


_Group.command_class = _Command
_Group.group_class = type  # sub-groups (keys, achievement, …) are _Groups with _Commands too


def _refuse_undecodable(ctx: click.Context) -> None:
    """USAGE for an argument holding bytes that are not UTF-8 (Python passes them as surrogate escapes).

    Text (names, e-mails, ids, URLs, dates) must be UTF-8: stored, signed or
    printed, a surrogate escape would fail deep inside. Paths (``click.Path``
    parameters, and verify's SOURCE when it names an existing file) are
    exempt: they only go back to the operating system, so a file named with
    such bytes can still be read or written.
    """
    for param in ctx.command.params:
        if isinstance(param.type, click.Path):
            continue
        value = ctx.params.get(param.name)
        for text in value if isinstance(value, (list, tuple)) else (value,):
            if param.name == "source" and isinstance(text, str) and os.path.exists(text):
                continue  # verify's SOURCE names a file here, not a URL
            bad = re.search("[\udc80-\udcff]", text) if isinstance(text, str) else None
            if bad:
                name = param.opts[0] if param.param_type_name == "option" else param.human_readable_name
                raise click.UsageError(f"{name} is not UTF-8 text (byte 0x{ord(bad[0]) - 0xdc00:02x} at "
                                       f"position {bad.start() + 1}): retype it or fix the terminal's encoding",
                                       ctx)


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware datetime (default: the real clock)."""
    if value is None:
        return datetime.now(timezone.utc)
    from verifier.validity import parse_datetime

    moment = parse_datetime(value)
    if moment is None:
        raise InputError(Code.USAGE, f"--now {value!r} is not an ISO date-time such as 2026-01-31T12:00:00Z.")
    return moment


def say(text: str, *, err: bool = False) -> None:
    """A line for people. Credential, roster and settings text in it is shown with its control
    and bidi characters escaped, so it cannot colour the terminal or print a line of its own."""
    from verifier.report import escape_controls

    click.echo(escape_controls(text), err=err)


def json_text(data: Any) -> str:
    """Pretty JSON, exact, in which nothing can drive a terminal."""
    from verifier.report import escape_json_controls

    return escape_json_controls(json.dumps(data, indent=2, ensure_ascii=False))


def print_json(data: Any) -> None:
    """Machine output: pretty JSON on stdout."""
    click.echo(json_text(data))


def print_table(headers: Any, rows: Any) -> None:
    """A table for people: a header row, then ``rows`` (sequences of cells, ``-`` for an empty one),
    each column as wide as its widest cell; a column of numbers (ints and floats) is aligned right."""
    rows = [list(row) for row in rows]
    numeric = [bool(rows) and all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows)
               for i in range(len(headers))]
    table = [list(headers), *([_cell(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        say("  ".join(cell.rjust(width) if right else cell.ljust(width)
                      for cell, width, right in zip(row, widths, numeric)).rstrip())


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


# The option of every command with a JSON output: the global --json turns it on too (_Command.invoke).
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (one document on stdout).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instance folder (default: $BADGESMITH_HOME or the current directory).")
@click.option("--db", metavar="URL", help="Database for this run (default: $DATABASE_URL, else badgesmith.toml's, "
              "else the instance's SQLite file).")
@click.option("--json", "as_json", is_flag=True, help="Machine output: JSON on stdout, errors included "
              "({\"code\", \"message\", \"details\"}).")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks for unexpected errors.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, _, asked: ctx.meta.update({_VERSION_ASKED: asked}),
              help="Show the version and exit.")
@click.pass_context
def main(ctx: click.Context, home: Path | None, db: str | None, as_json: bool, debug: bool) -> None:
    """Badgesmith: issue and verify Open Badges 3.0 credentials.

    --home, --db, --json and --debug may stand before or after the subcommand.
    """
    ctx.ensure_object(dict)
    ctx.obj.update(home=home, db=db, json=as_json, debug=debug)


@main.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the verification report as JSON.")
@click.option("--offline", is_flag=True, help="Fetch nothing from the network.")
@click.option("--documents", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with index.json mapping URLs to local files (status lists, DID documents).")
@click.option("--now", help="Verify as of this ISO date-time instead of the clock.")
@click.option("--email", help="Check that the credential was awarded to this e-mail address.")
@click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML or JSON list of known issuers.")
@click.option("--require-trusted", is_flag=True, help="Fail when the issuer is not on the --trust list.")
@click.option("--allow-unreachable-status", is_flag=True,
              help="Warn instead of failing when a status list cannot be fetched.")
@click.option("--accept-unbound-keys", is_flag=True,
              help="Warn instead of failing when the key is not published by the issuer "
                   "(https://issuer#z6Mk… fragments, inline JWT keys).")
@click.pass_context
def verify(ctx: click.Context, source: str, as_json: bool, offline: bool, documents: Path | None, now: str | None,
           email: str | None, trust: Path | None, require_trusted: bool,
           allow_unreachable_status: bool, accept_unbound_keys: bool) -> None:
    """Verify a credential: a file (JSON, JWT, PNG, SVG), '-' for stdin, or an https URL.

    Inside an instance (--home or $BADGESMITH_HOME), its own status lists and DID document are
    read from the instance, so a badge just issued verifies before the site is live.
    Exit 0 verified, 1 not verified, 2 unreadable input or usage error.
    """
    from schemas.loader import offline_loader
    from verifier.fetch import build_fetch
    from verifier.pipeline import VerifyOptions, verify_bytes
    from verifier.sources import Limits, read_source
    from verifier.trust import load_trust_list

    fetch = build_fetch(documents=documents, offline=offline)
    # Only when an instance is named: a plain verification loads no issuer code (tests/cli/test_verify_startup.py).
    if ctx.obj.get("home") or os.environ.get("BADGESMITH_HOME"):
        from issuer.awarding.documents import holds_issuer, instance_documents

        if holds_issuer(_home(ctx)):
            fetch = instance_documents(_issuer(ctx), then=fetch)
    limits = Limits()
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", source):  # any URL: the fetcher says which schemes it takes
        data = fetch(source)
    else:
        data = read_source(source, limits=limits, stdin=sys.stdin.buffer)
    options = VerifyOptions(allow_unreachable_status=allow_unreachable_status,
                            require_trusted=require_trusted, accept_unbound_keys=accept_unbound_keys,
                            source_limits=limits)
    trust_list = load_trust_list(trust) if trust else None
    report = verify_bytes(data, loader=offline_loader(), fetch=fetch, now=parse_now(now),
                          trust=trust_list, email=email, options=options)
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(report.to_text(colour=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    if not allow_unreachable_status and _status_unreachable(report):
        say("hint: a status list could not be fetched. Give a copy with --documents DIR (an instance's out/status "
            "folder is one), verify inside the issuing instance (--home or BADGESMITH_HOME), or accept it as a "
            "warning with --allow-unreachable-status.", err=True)
    sys.exit(EXIT_VERIFIED if report.verified else EXIT_NOT_VERIFIED)


def _status_unreachable(report: Any) -> bool:
    """True when the status check of the credential, or of one inside it, failed for want of its list."""
    return any(c.code == Code.STATUS_UNREACHABLE.value and c.outcome == "failed" for c in report.checks) or any(
        _status_unreachable(nested) for _, nested in report.embedded)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Private key (PKCS#8 PEM): Ed25519; RSA or P-256 for RS256/ES256 VC-JWTs.")
@click.option("--format", "fmt", type=click.Choice(["di", "jwt", "ed25519-2020"]), default="di",
              show_default=True, help="eddsa-rdfc-2022 Data Integrity proof, VC-JWT, or legacy suite.")
@click.option("--alg", type=click.Choice(["EdDSA", "RS256", "ES256"]),
              help="With --format jwt: the JWS algorithm, which must be the key's (default: the key's).")
@click.option("--created", help="Fixed proof creation time (ISO), for reproducible output.")
@click.option("--verification-method", help="Verification method URL (default: the key's did:key).")
@click.option("--passphrase-env", help="Environment variable holding the key's passphrase.")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"format", "credential", "jwt"}.')
def sign(file: Path, key_file: Path, fmt: str, alg: str | None, created: str | None,
         verification_method: str | None, passphrase_env: str | None, as_json: bool) -> None:
    """Sign an unsigned credential JSON and print it (JSON, or the compact JWT)."""
    from issuer.badge.sign import sign_credential
    from keys.jws_keys import jwt_algorithm, load_signing_key
    from schemas.loader import offline_loader
    from verifier.sources import Limits, parse_json

    if alg is not None and fmt != "jwt":
        raise InputError(Code.USAGE, "--alg chooses a VC-JWT algorithm: use it with --format jwt.")
    credential = parse_json(file.read_bytes(), limits=Limits())
    key = load_signing_key(key_file.read_bytes(), _passphrase(passphrase_env))
    if alg is not None and jwt_algorithm(key) != alg:
        raise InputError(Code.KEY_INVALID, f"--alg {alg} needs a {_KEY_TYPES[alg]} key, and {key_file} holds a "
                         f"{_KEY_TYPES[jwt_algorithm(key)]} key ({jwt_algorithm(key)}).")
    result = sign_credential(credential, key, fmt=fmt, loader=offline_loader(),
                             created=parse_now(created),
                             verification_method=verification_method)
    _warn_other_issuer(credential, result)
    if as_json:
        print_json(_credential_json(fmt, result))
    else:
        click.echo(result if isinstance(result, str) else json_text(result))


def _warn_other_issuer(credential: dict[str, Any], signed: Any) -> None:
    """A did:key signature on a credential naming another issuer never verifies (KEY_NOT_ISSUERS): say so now."""
    import base64

    if isinstance(signed, str):
        head = signed.split(".", 1)[0]
        method = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))).get("kid") or ""
    else:
        proofs = signed.get("proof")
        method = (proofs[-1] if isinstance(proofs, list) else proofs or {}).get("verificationMethod") or ""
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    signer = method.split("#", 1)[0]
    if signer.startswith("did:key:") and isinstance(issuer_id, str) and issuer_id != signer:
        say(f"warning: the credential names issuer {issuer_id}, but this key is {signer}: verifiers will refuse "
            f"it (KEY_NOT_ISSUERS). Name {signer} as the issuer, or sign with the issuer's own key.", err=True)


def _credential_json(fmt: str, signed: Any) -> dict[str, Any]:
    """``sign`` and ``extract`` under ``--json``: a JSON credential under "credential", a VC-JWT (a string,
    which is not JSON) under "jwt", the other one null, so the shape is the same either way."""
    jwt = signed if isinstance(signed, str) else None
    return {"format": fmt, "credential": None if jwt else signed, "jwt": jwt}


_KEY_TYPES = {"EdDSA": "Ed25519", "RS256": "RSA", "ES256": "P-256"}


def _home(ctx: click.Context) -> Path:
    from issuer.instance.folder import find_home

    return find_home(ctx.obj.get("home"))


def _issuer(ctx: click.Context):
    """The instance's Issuer (key, registry), opened once per command on the database that
    ``--db`` > ``$DATABASE_URL`` > badgesmith.toml > the SQLite file names."""
    from issuer.awarding.issuing import Issuer
    from issuer.instance.database import database_override

    home = _home(ctx)
    override = database_override(ctx.obj.get("db"), home)
    issuer = Issuer.open(home, passphrase=_passphrase(None), database_url=override.url if override else None)
    ctx.call_on_close(issuer.close)
    return issuer


def _database_line(issuer, option: str | None = None) -> str:
    """The database in use, password masked, and where it was chosen."""
    choice = _database_choice(issuer, option)
    where = {"default": "the instance's SQLite file"}.get(choice.source, f"from {choice.source}")
    return f"{choice.shown} ({where})"


@main.command()
@click.option("--name", required=True, help="The issuing organisation's name, as learners will see it.")
@click.option("--url", required=True, help="Public base URL where the badge pages are served (https://…).")
@click.option("--email", help="Contact e-mail published in the issuer profile.")
@click.option("--did-web", help="Use did:web:HOST[:PATH] as the issuer id (the web app serves its DID document).")
@click.option("--db", help="Database URL (default: $DATABASE_URL, else a SQLite file in the instance folder); "
              "badgesmith.toml records it without its password.")
@click.option("--jwt-alg", type=click.Choice(["EdDSA", "RS256", "ES256"]), default="EdDSA", show_default=True,
              help="Algorithm of issued VC-JWTs; RS256/ES256 make an RSA-2048/P-256 key too (needs --did-web).")
@click.option("--association", "association", metavar="DIR_OR_URL",
              help="Make this instance a division of the association in DIR (its folder) or at URL (its database).")
@click.option("--lookup-secret", type=click.Path(dir_okay=False, path_type=Path),
              help="With --association URL: a copy of the association's keys/lookup.secret.")
@_JSON
@click.pass_context
def init(ctx: click.Context, name: str, url: str, email: str | None, did_web: str | None, db: str | None,
         jwt_alg: str, association: str | None, lookup_secret: Path | None, as_json: bool) -> None:
    """Create an instance folder: settings, a new Ed25519 key, the database."""
    from issuer.awarding.issuing import create_instance
    from issuer.association.setup import create_division
    from issuer.instance.settings import read_lookup_secret

    home = _home(ctx)
    chosen = _database_to_create(ctx, home, db)
    options = dict(name=name, url=url, email=email, did_web=did_web, jwt_alg=jwt_alg, passphrase=_passphrase(None))
    if association:
        issuer = create_division(home, association=association, **options, database_url=chosen and chosen.url,
                                 lookup_secret=read_lookup_secret(lookup_secret) if lookup_secret else None)
    else:
        written = _recorded_url(chosen)
        issuer = create_instance(home, **options, database_url=written,
                                 open_database=chosen.url if chosen and chosen.url != written else None)
    ctx.call_on_close(issuer.close)
    settings = issuer.settings
    data = {"home": str(settings.home), "issuer": issuer.did, "key": f"{settings.keys_dir / settings.key_id}.pem",
            "jwt_keys": [f"{settings.keys_dir / key_id}.pem" for key_id in settings.jwt_keys],
            "database": _database_choice(issuer).to_dict()}
    _note_password_left_out(chosen)
    if as_json:
        print_json(data)
        return
    say(f"Created the Badgesmith instance in {settings.home}")
    say(f"  issuer:   {issuer.did}")
    say(f"  key:      {data['key']} (mode 0600)")
    for path in data["jwt_keys"]:
        say(f"  JWT key:  {path} ({settings.jwt_alg}, mode 0600)")
    say(f"  database: {_database_line(issuer)}")
    click.echo("Next: badgesmith achievement add FILE.toml   (examples: templates/achievements/)")


def _database_to_create(ctx: click.Context, home: Path, option: str | None):
    """The database ``init`` / ``association init`` create (a DatabaseChoice): their ``--db`` (or the
    global one), else ``$DATABASE_URL``, checked; None for the instance's SQLite file."""
    from issuer.instance.database import database_override

    return database_override(option or ctx.obj.get("db"), home)


def _recorded_url(chosen: Any) -> str | None:
    """What badgesmith.toml records of ``chosen``: its URL without the password (README "Which database")."""
    from issuer.instance.database import url_without_password

    return None if chosen is None else url_without_password(chosen.url)


def _note_password_left_out(chosen: Any) -> None:
    # Under $DATABASE_URL later commands have the password again; after --db they need it from elsewhere.
    if chosen is not None and chosen.source == "--db" and _recorded_url(chosen) != chosen.url:
        say("notice: badgesmith.toml records the database without its password: give it to later commands in "
            "$PGPASSWORD or ~/.pgpass, or the whole URL as $DATABASE_URL or --db.", err=True)


def _database_choice(issuer, option: str | None = None):
    """The database ``issuer``'s commands use and where that choice came from (``--db`` > ``$DATABASE_URL`` >
    badgesmith.toml > the SQLite file)."""
    from issuer.instance.database import database_in_use

    return database_in_use(issuer.settings, option)


@main.command()
@_JSON
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """The instance at a glance: its name and issuer, the database in use, its keys and credentials."""
    from issuer.records.listing import CREDENTIAL_STATES, instance_status

    issuer = _issuer(ctx)
    data = {**instance_status(issuer), "database": _database_choice(issuer, ctx.obj.get("db")).to_dict()}
    if as_json:
        print_json(data)
        return
    counts = data["credentials"]
    say(f"{data['name']} ({data['home']})")
    say(f"  issuer:       {data['issuer']}")
    say(f"  url:          {data['url']}")
    say(f"  database:     {_database_line(issuer, ctx.obj.get('db'))}")
    say(f"  keys:         {data['keys']} ({data['current_key']} current)")
    say(f"  achievements: {data['achievements']}")
    say(f"  credentials:  {counts['total']}: " + ", ".join(f"{counts[state]} {state}" for state in CREDENTIAL_STATES))


@main.group()
def association() -> None:
    """An association of several divisions: set it up, and what spans its divisions."""


@association.command("init")
@click.option("--name", required=True, help="The association's name, as members will see it.")
@click.option("--url", required=True, help="Public base URL of the association's site (https://…).")
@click.option("--email", help="Contact e-mail published in the association's profile.")
@click.option("--did-web", help="Use did:web:HOST[:PATH] as the association's id.")
@click.option("--db", help="Database URL its divisions share (default: $DATABASE_URL, else a SQLite file in the "
              "folder); badgesmith.toml records it without its password, for the divisions.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@_JSON
@click.pass_context
def association_init(ctx: click.Context, name: str, url: str, email: str | None, did_web: str | None,
                     db: str | None, directory: Path | None, as_json: bool) -> None:
    """Create the association's folder: its profile, key, lookup secret and the divisions' database."""
    from issuer.association.setup import create_association

    home = directory.expanduser().absolute() if directory else _home(ctx)
    chosen = _database_to_create(ctx, home, db)
    created = create_association(home, name=name, url=url, email=email, did_web=did_web,
                                 database_url=chosen and chosen.url, passphrase=_passphrase(None))
    ctx.call_on_close(created.close)
    settings = created.issuer.settings
    data = {"home": str(settings.home), "association": created.did, "name": created.name,
            "key": f"{settings.keys_dir / settings.key_id}.pem",
            "database": _database_choice(created.issuer).to_dict()}
    _note_password_left_out(chosen)
    if as_json:
        print_json(data)
        return
    say(f"Created the association {created.name} in {settings.home}")
    say(f"  association: {created.did}")
    say(f"  key:         {data['key']} (mode 0600)")
    say(f"  database:    {_database_line(created.issuer)}")
    click.echo(f"Next: badgesmith --home DIVISION init --name \"…\" --url https://… --association {settings.home}")


def _association(ctx: click.Context):
    """The association of the instance folder (--home), with its key, on the database that ``--db`` >
    ``$DATABASE_URL`` > badgesmith.toml names (as every command); closed with the command."""
    from issuer.association.setup import open_association
    from issuer.instance.database import database_override

    home = _home(ctx)
    override = database_override(ctx.obj.get("db"), home)
    opened = open_association(home, passphrase=_passphrase(None),
                              database_url=override.url if override else None)
    ctx.call_on_close(opened.close)
    return opened


def _association_member(issuer, email: str) -> str | None:
    """In an association's folder, the member found across its divisions (learner-link lists and revokes
    association record links there); None elsewhere."""
    from issuer.association.learner_record import find_member
    from issuer.association.setup import association_for

    association = association_for(issuer)
    return None if association is None else find_member(association, email)


@association.command("learner-link")
@click.option("--email", required=True, help="The member's e-mail address (the one their badges were sent to).")
@_JSON
@click.pass_context
def association_learner_link(ctx: click.Context, email: str, as_json: bool) -> None:
    """A link to a member's association record: every division's credentials, CEUs, association pathways."""
    from issuer.association.learner_record import create_association_link
    from issuer.records.learners import learner_page_url

    opened = _association(ctx)
    token, link = create_association_link(opened, email)
    url = learner_page_url(opened.issuer, token)
    if as_json:
        print_json({"id": link.id, "created": link.created_at.isoformat(), "token": token, "url": url})
        return
    click.echo("Association record link (shown only now; the association keeps just a hash of it):")
    say(f"  {url}")
    say(f"Revoke it with: badgesmith --home {opened.issuer.settings.home} learner-link --email {email} "
        f"--revoke {token}")


@association.command("transcript")
@click.option("--email", required=True, help="The member's e-mail address.")
@click.option("--since", type=ISO_DATE, help="First award date (inclusive).")
@click.option("--until", type=ISO_DATE, help="Last award date (inclusive).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (replaced only once the transcript is complete).")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
@click.pass_context
def association_transcript(ctx: click.Context, email: str, since: datetime | None, until: datetime | None,
                           output: Path, as_json: bool) -> None:
    """Write one CLR 2.0 transcript signed by the association, embedding every division's signed credentials."""
    from issuer.association.transcript import issue_association_transcript
    from issuer.instance.files import check_output_file, write_output_file
    from issuer.records.transcript import transcript_json

    check_output_file(output)
    result = issue_association_transcript(_association(ctx), email, since=since.date() if since else None,
                                          until=until.date() if until else None)
    write_output_file(output, transcript_json(result.document).encode("utf-8"))
    summary = {"id": result.document["id"], "file": str(output), "credentials": len(result.records),
               "divisions": len({r.issuer_id for r in result.records}), "left_out": result.left_out,
               "ceus_by_year": {str(year): total for year, total in result.ceus_by_year},
               "outside_clr_schema": list(result.outside_clr_schema)}
    if as_json:
        print_json(summary)
        return
    _warn_outside_clr_schema(result)
    say(f"Wrote the association transcript of {result.learner_name or email} to {output}: "
        f"{summary['credentials']} credential(s) from {summary['divisions']} division(s), {result.ceus_total:g} CEUs.")
    if result.left_out:
        say(f"  {result.left_out} other credential(s) left out (revoked, suspended, expired, VC-JWT or outside "
            "the period): marked partial.")


@association.group("pathway")
def association_pathway() -> None:
    """Association pathways: requirements from several divisions, awarded by the association."""


@association_pathway.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_JSON
@click.pass_context
def association_pathway_add(ctx: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Add or replace association pathways (TOML; division achievements named by their URL)."""
    from issuer.association.pathways import add_association_pathway

    opened = _association(ctx)
    added = [add_association_pathway(opened, path) for path in files]
    if as_json:
        print_json([pathway.to_dict() for pathway in added])
        return
    for pathway in added:
        say(f"Added the association pathway {pathway.id!r} ({pathway.name}), awarding {pathway.awards!r}.")


@association_pathway.command("award")
@_JSON
@click.pass_context
def association_pathway_award(ctx: click.Context, as_json: bool) -> None:
    """Award every association pathway completed across the divisions and not yet awarded (once each)."""
    from issuer.association.pathways import award_association_due

    issued = award_association_due(_association(ctx))
    rows = [{"id": i.record.id, "achievement": i.record.achievement, "name": i.record.recipient_name,
             "email": i.record.recipient_email} for i in issued]
    if as_json:
        print_json(rows)
        return
    print_table(["ACHIEVEMENT", "RECIPIENT", "ID"],
                [(row["achievement"], row["name"] or row["email"], row["id"]) for row in rows])
    say(f"{len(rows)} association pathway award(s) issued.")


@association.command("report")
@click.option("--by", "group", type=click.Choice(["division", "learner", "organization", "achievement"]),
              default="division", show_default=True, help="One row per group: learners, completions, CEUs, "
              "pathway completions, and the divisions they came from.")
@click.option("--since", type=ISO_DATE, help="First award date (inclusive).")
@click.option("--until", type=ISO_DATE, help="Last award date (inclusive; default today).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE (CSV for Excel, or JSON with --format json) instead of printing it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the report, or with -o what was written).")
@click.pass_context
def association_report_command(ctx: click.Context, group: str, since: datetime | None, until: datetime | None,
                               fmt: str, output: Path | None, as_json: bool) -> None:
    """The CE office's report across every division (revoked and superseded credentials left out)."""
    from issuer.association.report import association_report, report_csv, write_report

    data = association_report(_association(ctx), by=group, since=since.date() if since else None,
                              until=until.date() if until else None)
    if output is not None:
        written = "json" if fmt == "json" else "csv"
        write_report(data, output, written)
        if as_json:
            print_json({"file": str(output), "format": written, "rows": len(data.rows)})
        else:
            say(f"Wrote the report ({len(data.rows)} rows) to {output}")
    elif as_json or fmt == "json":
        print_json(data.to_dict())
    elif fmt == "csv":
        click.echo(report_csv(data), nl=False)
    else:
        print_table([group.upper(), "LEARNERS", "COMPLETIONS", "CEUS", "PATHWAYS"],
                    [(r.name, r.learners, r.completions, float(r.ceus), r.pathway_completions)
                     for r in (*data.rows, data.totals)])
        say(f"{data.association}, per {group}, {data.since or 'the start'} to {data.until}.")


@main.group()
def keys() -> None:
    """List, add or rotate the instance's signing keys."""


@keys.command("list")
@_JSON
@click.pass_context
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """Every signing key the instance has used; the current one is marked."""
    from issuer.awarding.rotation import key_rows

    rows = key_rows(_issuer(ctx))
    if as_json:
        print_json(rows)
        return

    def state(row: dict) -> str:
        if row["alg"] != "EdDSA":  # RS256/ES256 keys sign VC-JWTs only; "current" is the one jwt_alg picks
            return "current (VC-JWTs)" if row["current"] else "active (VC-JWTs)"
        return "current" if row["current"] else f"retired {row['retired'][:10]}" if row["retired"] else "active"

    print_table(["KEY", "STATE", "PUBLIC KEY"],
                [(row["key_id"], state(row), row["public_key"] or f"RSA JWK n={row['jwk']['n'][:16]}… (see --json)")
                 for row in rows])


@keys.command("add")
@click.option("--alg", required=True, type=click.Choice(["RS256", "ES256"]),
              help="RS256 (an RSA-2048 key) or ES256 (a P-256 key), for VC-JWTs.")
@click.option("--default", "make_default", is_flag=True, help="Also make it the alg of issued VC-JWTs (jwt_alg).")
@_JSON
@click.pass_context
def keys_add(ctx: click.Context, alg: str, make_default: bool, as_json: bool) -> None:
    """Add an RSA or P-256 key for VC-JWTs; the did:web DID document publishes it as a JsonWebKey."""
    from issuer.instance.jwt_keys import add_jwt_key
    from issuer.instance.settings import load_settings

    settings = load_settings(_home(ctx))
    key_id = add_jwt_key(settings, alg, passphrase=_passphrase(None), make_default=make_default)
    if as_json:
        print_json({"key_id": key_id, "alg": alg, "file": f"{settings.keys_dir / key_id}.pem",
                    "default": make_default})
        return
    default = " and made it the VC-JWT default (jwt_alg)" if make_default else ""
    say(f"Added {alg} key {key_id} ({settings.keys_dir / key_id}.pem){default}; did:web:{settings.did_web}'s DID "
        "document lists it.")


@keys.command("rotate")
@_JSON
@click.pass_context
def keys_rotate(ctx: click.Context, as_json: bool) -> None:
    """Make a new signing key; old keys stay in the DID document so what they signed still verifies."""
    from issuer.awarding.rotation import rotate_key

    issuer = _issuer(ctx)
    new_id = rotate_key(issuer, passphrase=_passphrase(None))
    if as_json:
        print_json({"key_id": new_id, "issuer": issuer.did})
        return
    say(f"New signing key {new_id}; earlier keys stay published in {issuer.did}'s DID document.")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["di", "jwt"]), default="di", show_default=True,
              help="Data Integrity proof (eddsa-rdfc-2022) or VC-JWT (the jwt_alg key).")
@_JSON
@click.pass_context
def endorse(ctx: click.Context, file: Path, fmt: str, as_json: bool) -> None:
    """Issue an EndorsementCredential about an achievement or issuer, from a TOML file."""
    from issuer.awarding.endorsing import endorse as endorse_file

    done = endorse_file(_issuer(ctx), file, fmt=fmt)
    if as_json:
        print_json({"id": done.id, "file": str(done.file), "achievement": done.achievement})
        return
    say(f"Issued endorsement {done.id}: {done.file}")
    if done.achievement:
        say(f"  shown on the page of your achievement {done.achievement}")


@main.group()
def achievement() -> None:
    """Define what the division awards (courses, certifications, micro-credentials)."""


@achievement.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace achievements that exist (issued credentials keep theirs).")
@_JSON
@click.pass_context
def achievement_add(ctx: click.Context, files: tuple[Path, ...], replace: bool, as_json: bool) -> None:
    """Add achievements from TOML definitions (an existing id is refused unless --replace)."""
    issuer = _issuer(ctx)
    added = issuer.add_achievements(files, replace=replace)
    if as_json:  # the rows `achievement list --json` prints, for the achievements just added
        print_json([{"slug": a.id, **issuer.achievement(a.id)["ob"]} for a in added])
        return
    for a in added:
        say(f"Added achievement {a.id}: {a.name} ({a.achievement_type})")


@achievement.command("list")
@_JSON
@click.pass_context
def achievement_list(ctx: click.Context, as_json: bool) -> None:
    """The instance's achievements."""
    issuer = _issuer(ctx)
    records = issuer.registry.list_achievements(issuer.issuer_id)
    if as_json:
        # "slug" is what `issue` takes; "id" stays the published Achievement URL, as `show` prints it.
        print_json([{"slug": r.slug, **r.definition["ob"]} for r in records])
        return
    obs = [(r.slug, r.definition["ob"]) for r in records]
    print_table(["ID", "TYPE", "CEUS", "NAME"],
                [(slug, ob.get("achievementType"),
                  f"{ob['creditsAvailable']:g}" if ob.get("creditsAvailable") is not None else None, ob["name"])
                 for slug, ob in obs])


@achievement.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (it always does: the published Achievement).")
@click.pass_context
def achievement_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Show an achievement as published (OB 3.0 JSON)."""
    print_json(_issuer(ctx).achievement(slug)["ob"])


def _expiry_warning(ends: list[datetime], now: datetime, *, one: bool = False) -> str:
    """The stderr warning for credentials issued now that end within 30 days, or (--allow-expired) ended already.

    One that has ended is said so: "expires within 30 days" would suggest it still verifies.
    """
    past = sorted(end for end in ends if end <= now)
    if one:
        end = ends[0].date().isoformat()
        return (f"warning: this credential expired on {end}, before it was issued (--allow-expired): it will not "
                "verify." if past else f"warning: this credential expires on {end}, within 30 days.")
    soon = sorted(end for end in ends if end > now)
    parts = []
    if soon:
        parts.append(f"{len(soon)} credential(s) issued now expire within 30 days (the first on "
                     f"{soon[0].date().isoformat()})")
    if past:
        parts.append(f"{len(past)} credential(s) issued now had expired already (--allow-expired; the first on "
                     f"{past[0].date().isoformat()}): they will not verify")
    return "warning: " + "; ".join(parts) + "."


@main.command()
@click.argument("achievement_id")
@click.option("--email", help="The recipient's e-mail address (stored hashed with a salt in the credential).")
@click.option("--name", help="The recipient's name as it should appear on the badge.")
@click.option("--did", help="The learner's DID, if they have one (credentialSubject.id).")
@click.option("--credits", type=float, help="CEUs earned (default: the achievement's creditsAvailable).")
@click.option("--date", "awarded", type=ISO_DATE, help="Date of the award (default today).")
@click.option("--evidence", help="URL of evidence (a recording, a portfolio…).")
@click.option("--organization", help="Organisation that bought the seat (reports).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV or Excel workbook (.xlsx) with a header row: email (required), name, credits, date, "
              "evidence, did, organization, attended.")
@click.option("--sheet", help="With an .xlsx --roster: the sheet to read (default: the first).")
@click.option("--date-order", type=click.Choice(["MDY", "DMY"]), help="With --roster: read 12/06/2026 as "
              "month/day (MDY) or day/month (DMY) (default: [roster] date_order, else the file's own dates).")
@click.option("--skip-invalid", is_flag=True, help="With --roster: issue the valid rows even if some are bad.")
@click.option("--correct", is_flag=True, help="With --roster: re-issue rows that differ from what was issued "
              "(the old credential is revoked as superseded).")
@click.option("--map", "mappings", multiple=True, metavar='"HEADER=FIELD"',
              help="With --roster: read the column HEADER as FIELD (email, name, credits, date, …); repeatable.")
@click.option("--strict", is_flag=True, help="With --roster: refuse columns Badgesmith does not read "
              "(by default they are ignored with a notice).")
@click.option("--allow-expired", is_flag=True, help="Issue a certification even if its date makes it already "
              "expired.")
@click.option("--dry-run", is_flag=True, help="With --roster: check every row and count what would be issued; "
              "issue nothing (exit 1 when a row is bad).")
@click.option("--format", "fmt", type=click.Choice(["di", "jwt"]), help="Proof format (default from settings).")
@click.option("--suspendable", is_flag=True,
              help="Add a suspension status entry (allows suspend/reinstate; see README on the schema).")
@_JSON
@click.pass_context
def issue(ctx: click.Context, achievement_id: str, email: str | None, name: str | None, did: str | None,
          credits: float | None, awarded: datetime | None, evidence: str | None, organization: str | None,
          roster: Path | None, sheet: str | None, date_order: str | None, skip_invalid: bool, correct: bool,
          mappings: tuple[str, ...], strict: bool, allow_expired: bool, dry_run: bool, fmt: str | None,
          suspendable: bool, as_json: bool) -> None:
    """Award an achievement to one person (--email) or to a whole roster (--roster FILE.csv|FILE.xlsx)."""
    from issuer.awarding.awards import RosterOptions, award_one, check_roster, expires_soon, issue_roster
    from issuer.awarding.roster_columns import parse_mapping

    if (email is None) == (roster is None):
        raise InputError(Code.USAGE, "Give either --email for one person or --roster FILE.csv for many.")
    issuer = _issuer(ctx)
    if roster is None:
        result = award_one(issuer, achievement_id, {
            "email": email, "name": name, "did": did, "credits": None if credits is None else f"{credits:g}",
            "date": awarded.date().isoformat() if awarded else None, "evidence": evidence,
            "organization": organization}, fmt=fmt, suspension=suspendable, allow_expired=allow_expired)
        if expires_soon(result.record, issuer.now()):  # on stderr, so --json output stays clean
            say(_expiry_warning([result.record.valid_until], issuer.now(), one=True), err=True)
        if as_json:
            print_json(result.to_dict())
            return
        verb = "Issued" if result.created else "Already issued (nothing new)"
        say(f"{verb}: {result.record.id} to {result.record.recipient_name or email}")
        say(f"  page:  {result.page_url}")
        for path in result.files.as_list():
            say(f"  file:  {path}")
        for award in result.pathways:  # pathways this credential completed (awarded once)
            say(f"Pathway complete: awarded {award.record.achievement} {award.record.id}")
            say(f"  page:  {award.page_url}")
        return
    options = RosterOptions(columns=parse_mapping(mappings), strict=strict, allow_expired=allow_expired,
                            sheet=sheet, date_order=date_order)
    if dry_run:
        _print_roster_check(check_roster(issuer, achievement_id, roster, correct=correct, options=options), as_json)
        return
    summary = issue_roster(issuer, achievement_id, roster, skip_invalid=skip_invalid, correct=correct, fmt=fmt,
                           suspension=suspendable, progress=sys.stderr.isatty(), options=options)
    if as_json:
        print_json(summary.to_dict())
        return
    _say_ignored(summary.ignored)
    for problem in summary.skipped:
        say(f"  skipped {problem}", err=True)
    for absent in summary.absent:
        say(f"  skipped line {absent.line}, {absent.email or '-'}: {absent.reason}", err=True)
    if summary.expiring:
        say(_expiry_warning([a.record.valid_until for a in summary.expiring], issuer.now()), err=True)
    for plan in summary.changed:
        say(f"  line {plan.row.line}, {plan.row.email}: differs from {plan.existing.id} "
            f"({'; '.join(plan.differences)})", err=True)
    not_attended = f", {len(summary.absent)} not attended (skipped)" if summary.absent else ""
    say(f"Issued {summary.created} new credential(s), {summary.existing} already issued, "
        f"{len(summary.skipped)} invalid row(s) skipped{not_attended}.")
    if summary.corrected:
        say(f"Corrected {summary.corrected} credential(s): re-issued, the superseded ones revoked.")
    if summary.changed:
        say(f"{len(summary.changed)} row(s) differ from what was issued and were not re-issued: pass --correct "
            "to re-issue them.")
    if summary.pathway_awards:
        say(f"Pathways completed: {len(summary.pathway_awards)} certificate(s) awarded "
                   f"({', '.join(sorted({a.record.achievement for a in summary.pathway_awards}))}).")
    if summary.claim_pages_open:
        say(f"Wallet claim pages: {summary.claim_pages} new; {summary.claim_pages_open} award(s) still have one open "
            "from an earlier run (claim_note; badgesmith claim-link ID --claim-page makes a new one).")
    elif summary.claim_pages:  # the PINs are printed nowhere else: the coordinator must know to send them
        say(f"Wallet claim pages: {summary.claim_pages} new; the summary CSV has each learner's claim link and PIN "
            "(claim_link, claim_pin): send each learner theirs.")
    say(f"  summary: {summary.summary_csv}")


def _say_ignored(ignored: tuple[str, ...]) -> None:
    """One line naming the roster columns that were not read (a few of them)."""
    if ignored:
        more = f" and {len(ignored) - 5} more" if len(ignored) > 5 else ""
        say(f"notice: ignored column(s) {', '.join(repr(h) for h in ignored[:5])}{more} (map one with --map "
            "\"Header=field\"; --strict refuses them).", err=True)


def _print_roster_check(check: Any, as_json: bool) -> None:
    """``issue --roster --dry-run``: the bad rows with their reasons and the counts; exit 1 if a row is bad."""
    if as_json:
        print_json(check.to_dict())
    else:
        _say_ignored(check.ignored)
        for row in check.errors:
            say(f"  {row}")
        for plan in (p for p in check.plans if p.differences):
            say(f"  line {plan.row.line}, {plan.row.email}: differs from {plan.existing.id} "
                f"({'; '.join(plan.differences)})")
        data = check.to_dict()
        changed = (f"{data['corrected']} to correct" if check.correct else
                   f"{data['changed']} changed (re-issued only with --correct)")
        absent = f", {data['not_attended']} not attended (would be skipped)" if check.absent else ""
        say(f"Dry run of {check.roster}: {data['new']} new, {data['already_issued']} already issued, {changed}, "
            f"{data['invalid_rows']} invalid row(s){absent}. Nothing was issued.")
    if not check.is_valid:
        sys.exit(EXIT_NOT_VERIFIED)


@main.command()
@click.argument("credential_id")
@click.option("--date", "awarded", type=ISO_DATE, help="The corrected award date.")
@click.option("--credits", help="The corrected CEUs.")
@click.option("--name", help="The corrected recipient name.")
@click.option("--evidence", help="The corrected evidence URL (https://…).")
@click.option("--allow-expired", is_flag=True, help="Re-issue a certification even if its date makes it expired.")
@_JSON
@click.pass_context
def reissue(ctx: click.Context, credential_id: str, awarded: datetime | None, credits: str | None, name: str | None,
            evidence: str | None, allow_expired: bool, as_json: bool) -> None:
    """Correct one award (CREDENTIAL_ID or its badge page URL): a new credential with the corrected data; the old
    one is revoked as superseded."""
    from issuer.awarding.awards import reissue_award

    done = reissue_award(_issuer(ctx), credential_id, {
        "date": awarded.date().isoformat() if awarded else None, "credits": credits, "name": name,
        "evidence": evidence}, allow_expired=allow_expired)
    if as_json:
        print_json(done.to_dict())
        return
    record = done.awarded.record
    say(f"Re-issued: {record.id} to {record.recipient_name or record.recipient_email} "
        f"({'; '.join(done.differences)})")
    say(f"  {done.previous} is revoked: superseded by {record.id}")
    say(f"  page:  {done.awarded.page_url}")
    for path in done.awarded.files.as_list():
        say(f"  file:  {path}")


def _status_command(action: str, help_text: str):
    @main.command(name=action, help=help_text + " CREDENTIAL is its id or its badge page URL.")
    @click.argument("credential")
    @click.option("--reason", required=action != "reinstate", help="Why (recorded in the event log).")
    @_JSON
    @click.pass_context
    def command(ctx: click.Context, credential: str, reason: str | None, as_json: bool) -> None:
        from issuer.awarding.status_changes import change_status

        done = change_status(_issuer(ctx), credential, action, reason=reason)
        record = done.record
        if as_json:
            print_json({"id": record.id, "status": record.status, "changed": done.changed,
                        "status_list": str(done.path) if done.path else None})
        elif done.changed:
            say(f"{record.id} is now {record.status}; status list re-signed: {done.path}")
        else:
            say(f"notice: {record.id} is already {record.status}; nothing changed.", err=True)

    return command


_status_command("revoke", "Revoke a credential for good (the status list is re-signed and published).")
_status_command("suspend", "Suspend a credential issued with --suspendable (can be reinstated).")
_status_command("reinstate", "Lift a suspension.")


@main.command(name="list")
@click.option("--achievement", "slug", help="Only this achievement.")
@click.option("--email", help="Only this recipient.")
@click.option("--status", "state", type=click.Choice(["active", "revoked", "suspended", "expired"]),
              help="Only credentials in this state (expired: active, past its end date).")
@click.option("--since", type=ISO_DATE, help="Only credentials awarded on or after this date.")
@click.option("--limit", type=click.IntRange(min=0), help="Only the N most recent (still listed newest last).")
@_JSON
@click.pass_context
def list_credentials(ctx: click.Context, slug: str | None, email: str | None, state: str | None,
                     since: datetime | None, limit: int | None, as_json: bool) -> None:
    """Issued credentials (newest last), under a header row."""
    from issuer.records.listing import LIST_COLUMNS, credential_rows

    rows = credential_rows(_issuer(ctx), achievement=slug, email=email, state=state,
                           since=since.date() if since else None, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table([header for header, _ in LIST_COLUMNS],
                [[row[key] or ("(VC API)" if key == "achievement" else None) for _, key in LIST_COLUMNS]
                 for row in rows])
    say(f"{len(rows)} credential(s)")


@main.command()
@click.option("--since", type=ISO_DATE, help="First award date (inclusive).")
@click.option("--until", type=ISO_DATE, help="Last award date (inclusive).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="table", show_default=True)
@click.option("--by", "group", type=click.Choice(["achievement", "learner", "organization", "pathway"]),
              help="One row per group: completions, CEUs, pathway completions, renewals due (90 days after --until).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (same as --format json).")
@click.pass_context
def report(ctx: click.Context, since: datetime | None, until: datetime | None, fmt: str, group: str | None,
           as_json: bool) -> None:
    """CEUs awarded per achievement and per learner in a period (for accrediting bodies)."""
    if since and until and since > until:
        raise InputError(Code.USAGE, f"--since {since.date()} is after --until {until.date()}: nothing could match.")
    from issuer.records.listing import credit_report

    fmt = "json" if as_json else fmt
    if group is not None:
        _report_by(_issuer(ctx), group, since, until, fmt)
        return
    data = credit_report(_issuer(ctx), since=since.date() if since else None, until=until.date() if until else None)
    if fmt == "json":
        print_json(data)
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(["group", "key", "name", "credentials", "ceus"])
        for row in data["by_achievement"]:
            writer.writerow(["achievement", row["achievement"], row["name"], row["credentials"], row["ceus"]])
        for row in data["by_learner"]:
            writer.writerow(["learner", row["email"] or row["lookup_key"], row["name"], row["credentials"], row["ceus"]])
    else:  # each table ends with its totals, as the association's report does
        def total(rows: list[dict[str, Any]], label: str) -> tuple[str, int, float]:
            return label, sum(row["credentials"] for row in rows), float(sum(row["ceus"] for row in rows))

        achievements, learners = data["by_achievement"], data["by_learner"]
        print_table(["ACHIEVEMENT", "CREDENTIALS", "CEUS"],
                    [*((row["achievement"], row["credentials"], float(row["ceus"])) for row in achievements),
                     total(achievements, "TOTAL")])
        say("")
        print_table(["LEARNER", "CREDENTIALS", "CEUS"],
                    [*((row["name"] or row["email"] or row["lookup_key"][:12], row["credentials"], float(row["ceus"]))
                       for row in learners), total(learners, f"TOTAL ({len(learners)} learners)")])


@main.command()
@click.argument("credential", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_JSON
def bake(credential: Path, image: Path, output: Path, as_json: bool) -> None:
    """Bake a signed credential (JSON or JWT file) into a PNG or SVG image."""
    from issuer.badge.bake import bake_png, bake_svg
    from issuer.instance.files import check_output_file, write_output_file
    from verifier.sources import Limits, extract, sniff

    check_output_file(output)
    extracted = extract(credential.read_bytes(), limits=Limits())
    if extracted.container not in ("json", "jwt"):
        raise InputError(Code.USAGE, f"{credential} is an image; give the credential JSON or JWT file to bake.")
    data = image.read_bytes()
    kind = sniff(data)
    if kind == "png":
        baked = bake_png(data, extracted.text.strip())
    elif kind == "svg":
        baked = bake_svg(data, extracted.jwt or extracted.credential)
    else:
        raise InputError(Code.CONTAINER_UNKNOWN, f"{image} is not a PNG or SVG image.")
    write_output_file(output, baked)
    if as_json:
        print_json({"file": str(output), "container": kind})
        return
    say(f"Baked into {output}")


@main.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"container", "format", "credential", "jwt"}.')
def extract(image: Path, as_json: bool) -> None:
    """Print the credential baked into a PNG or SVG image."""
    from verifier.sources import Limits, extract as extract_source

    extracted = extract_source(image.read_bytes(), limits=Limits())
    if extracted.container not in ("png", "svg"):
        raise InputError(Code.USAGE, f"{image} is not a baked PNG or SVG image.")
    if as_json:
        print_json({"container": extracted.container, **_credential_json(extracted.kind,
                                                                         extracted.jwt or extracted.credential)})
        return
    click.echo(extracted.jwt if extracted.jwt else json_text(extracted.credential))


@main.command()
@click.argument("url")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.png or FILE.svg")
@_JSON
def qr(url: str, output: Path, as_json: bool) -> None:
    """Write a QR code for URL (e.g. a badge page) as PNG or SVG."""
    from issuer.instance.files import check_output_file, write_output_file
    from issuer.badge.qr import qr_png, qr_svg

    if output.suffix.lower() not in (".png", ".svg"):
        raise InputError(Code.USAGE, "The QR code file must end in .png or .svg.")
    check_output_file(output)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(Code.USAGE, f"{url[:80]!r} is not a web address (http:// or https://): a badge's QR code "
                         "leads to its page.")
    write_output_file(output, qr_svg(url) if output.suffix.lower() == ".svg" else qr_png(url))
    if as_json:
        print_json({"file": str(output), "url": url})
        return
    say(f"Wrote {output}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the badge pages, the verification site and the issuer's documents (for a laptop or a demo;
    use gunicorn in production)."""
    from werkzeug.serving import run_simple

    from app import create_app

    home, db = _home(ctx), ctx.obj.get("db")
    application = create_app({"HOME": str(home), **({"DATABASE_URL": db} if db else {})})
    # It prints no JSON (it runs until stopped): under --json its one line goes to stderr, stdout stays empty.
    say(f"Serving {home} on http://{host}:{port}/ (Ctrl+C to stop)", err=_json_mode(ctx))
    run_simple(host, port, application, threaded=True, use_reloader=False, use_debugger=False)


@main.command()
@click.option("--port", default=8000, show_default=True, type=int, help="Port for the demo server.")
@click.option("--no-serve", is_flag=True, help="Stop after issuing and verifying (do not start the server).")
@_JSON
@click.pass_context
def demo(ctx: click.Context, port: int, no_serve: bool, as_json: bool) -> None:
    """The whole job on an embedded default: a demo issuer, badges issued, baked, verified, served."""
    from issuer.awarding.demo import run_demo

    home = ctx.obj.get("home") or Path("demo-instance")
    result = run_demo(Path(home), base_url=f"http://127.0.0.1:{port}",
                      echo=lambda line: click.echo(line, err=as_json))  # under --json the story goes to stderr
    if not result.verified:
        # A stable code, so that under --json the failure is the usual {code, message, details} object.
        raise ConfigError(Code.SELF_CHECK_FAILED, "The demo credential did not verify; see the report above.")
    if as_json:
        print_json({"home": str(result.home), "verified": result.verified, "pages": result.pages})
    if no_serve:
        return
    from issuer.instance.settings import load_settings

    # The demo's badges are in its own SQLite file: serve that one, whatever --db or $DATABASE_URL say.
    ctx.obj.update(home=result.home, db=load_settings(result.home).database_url)
    ctx.invoke(serve, host="127.0.0.1", port=port)


# -- recertification (issue 7): renewals report, reminder notices, renew -----------------------


@main.command()
@click.option("--due-within", default="90d", show_default=True,
              help="Certifications expiring this far ahead, and lapsed this far back (90d, 6m, 1y).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (same as --format json).")
@click.option("--notices", type=click.Path(file_okay=False, path_type=Path),
              help="Write one reminder e-mail (.eml, RFC 5322) per learner to this folder (made if missing; its "
              "parent must exist), once per cycle.")
@click.option("--smtp", is_flag=False, flag_value="", metavar="[HOST:PORT]",
              help="Send the reminders through this mail server, once per cycle (alone: the host under [smtp]).")
@click.option("--smtp-user", help="Log in to the mail server as this user (password: $BADGESMITH_SMTP_PASSWORD, "
              "or the variable named by password_env under [smtp]).")
@click.option("--smtp-security", type=click.Choice(["starttls", "tls", "none"]),
              help="tls: TLS from the start (port 465); starttls: STARTTLS required; none: STARTTLS if offered.")
@click.pass_context
def renewals(ctx: click.Context, due_within: str, fmt: str, as_json: bool, notices: Path | None,
             smtp: str | None, smtp_user: str | None, smtp_security: str | None) -> None:
    """Certification holders due for renewal: CEUs earned this cycle against the rule, and their state."""
    from issuer.records.notices import parse_smtp_address, renewals_with_notices

    # A usage mistake stops before any work; the relay's settings are checked before anything is written.
    if smtp is None and (smtp_user is not None or smtp_security is not None):
        raise InputError(Code.USAGE, "--smtp-user and --smtp-security apply only with --smtp.")
    if smtp:
        parse_smtp_address(smtp)
    if smtp_user is not None and not smtp_user.strip():
        raise InputError(Code.USAGE, "--smtp-user must not be empty.")
    report = renewals_with_notices(_issuer(ctx), due_within=due_within, notices=notices, smtp=smtp,
                                   smtp_user=smtp_user, smtp_security=smtp_security)
    rows, runs, relay = report.rows, report.runs, report.relay
    if as_json or fmt == "json":
        print_json({"due_within": due_within, "renewals": [r.to_dict() for r in rows],
                    "notices": [run.to_dict() for run in runs]})
        return
    if fmt == "csv":
        import csv

        columns = ["credential_id", "name", "email", "certification", "expires", "days_left", "earned",
                   "required", "short_by", "state"]
        writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(r.to_dict() for r in rows)
    else:
        print_table(["EXPIRES", "DAYS LEFT", "STATE", "CEUS", "RECIPIENT", "CERTIFICATION"],
                    [(r.expires.date().isoformat(), r.days_left, r.label, f"{r.earned:g}/{r.required:g}",
                      f"{r.recipient_name or '-'} <{r.recipient_email or '?'}>", r.certification) for r in rows])
        counts = {state: sum(r.state == state for r in rows) for state in ("eligible", "short", "lapsed")}
        say(f"{len(rows)} certification(s) due within {due_within}: {counts['eligible']} eligible, "
                   f"{counts['short']} short of CEUs, {counts['lapsed']} lapsed.")
    for run in runs:  # after a CSV, on stderr: stdout stays one clean table
        where = f"wrote {len(run.sent)} file(s) to {notices}" if run.channel == "file" else \
            f"sent {len(run.sent)} message(s) through {relay.address}"
        say(f"Notices: {where} ({run.already} already notified this cycle, {run.no_email} without "
                   f"e-mail, {len(run.refused)} refused).", err=fmt == "csv")


@main.command(name="renew")
@click.argument("credential_id", required=False)
@click.option("--all-eligible", is_flag=True,
              help="Renew every certification in the window whose holder meets the rule.")
@click.option("--due-within", default="90d", show_default=True, help="With --all-eligible: the window.")
@click.option("--override", is_flag=True, help="Staff: renew although the rule is not met (needs --reason).")
@click.option("--reason", help="Why the override (recorded in the event log).")
@_JSON
@click.pass_context
def renew_command(ctx: click.Context, credential_id: str | None, all_eligible: bool, due_within: str,
                  override: bool, reason: str | None, as_json: bool) -> None:
    """Issue the renewed certification (dates chained from CREDENTIAL_ID), or renew --all-eligible."""
    from issuer.records.renewals import renew, renew_eligible

    if (credential_id is None) != all_eligible:
        raise InputError(Code.USAGE, "Give one CREDENTIAL_ID to renew, or --all-eligible.")
    if all_eligible and (override or reason):
        raise InputError(Code.USAGE, "--override applies to one credential at a time: give its CREDENTIAL_ID.")
    issuer = _issuer(ctx)
    results = (renew_eligible(issuer, due_within=due_within) if all_eligible
               else [renew(issuer, credential_id, override=override, reason=reason)])
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        record = r.awarded.record
        note = ", staff override" if r.override else ""
        say(f"Renewed: {r.previous.credential_id} -> {record.id} for {record.recipient_name or '-'}, "
                   f"valid {record.valid_from.date()} to {record.valid_until.date() if record.valid_until else '-'} "
                   f"({r.previous.earned:g} of {r.previous.required:g} CEUs{note})")
        say(f"  page:  {r.awarded.page_url}")
        for path in r.awarded.files.as_list():
            say(f"  file:  {path}")
    if all_eligible:
        say(f"{len(results)} certification(s) renewed.")


# -- pathways, learner progress, coordinator reports (issue 7) ---------------------------------


@main.group()
def pathway() -> None:
    """Stackable pathways: components that, once all held, award a certificate automatically."""


@pathway.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_JSON
@click.pass_context
def pathway_add(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Add or replace a pathway from a TOML definition (its achievements must exist)."""
    from issuer.awarding.pathways import add_pathway, describe_pathway

    issuer = _issuer(ctx)
    added = add_pathway(issuer, file)
    if as_json:
        print_json(added.to_dict())
        return
    say(f"Added pathway {added.id}: {added.name} -> awards {added.awards}")
    say(f"  requires {describe_pathway(issuer, added)}")


@pathway.command("list")
@_JSON
@click.pass_context
def pathway_list(ctx: click.Context, as_json: bool) -> None:
    """The instance's pathways."""
    from issuer.awarding.pathways import list_pathways

    pathways = list_pathways(_issuer(ctx))
    if as_json:
        print_json([p.to_dict() for p in pathways])
        return
    print_table(["ID", "AWARDS", "NAME"], [(p.id, p.awards, p.name) for p in pathways])
    say(f"{len(pathways)} pathway(s)")


@pathway.command("show")
@click.argument("pathway_id")
@_JSON
@click.pass_context
def pathway_show(ctx: click.Context, pathway_id: str, as_json: bool) -> None:
    """Show a pathway: what it awards and what it requires."""
    from issuer.awarding.pathways import describe_pathway, get_pathway

    issuer = _issuer(ctx)
    found = get_pathway(issuer, pathway_id)
    if as_json:
        print_json(found.to_dict())
        return
    say(f"{found.id}: {found.name}")
    if found.description:
        say(f"  {found.description}")
    say(f"  awards:   {found.awards}")
    say(f"  requires: {describe_pathway(issuer, found)}")


@pathway.command("award")
@click.option("--dry-run", is_flag=True, help="Only list who would be awarded what.")
@_JSON
@click.pass_context
def pathway_award(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Award pathways completed before they were defined (or before a rule changed): once each, dated then."""
    from issuer.awarding.pathways import award_due, awards_due

    issuer = _issuer(ctx)
    due = awards_due(issuer)
    issued = [] if dry_run or not due else award_due(issuer)
    if as_json:
        print_json({"due": [d.to_dict() for d in due], "issued": [i.record.id for i in issued]})
        return
    print_table(["COMPLETED", "PATHWAY", "NAME", "EMAIL"],
                [(d.completed_on.isoformat(), d.pathway, d.name, d.email) for d in due])
    verb = "would be awarded (dry run: nothing issued)" if dry_run else f"awarded: {len(issued)} credential(s) issued"
    say(f"{len(due)} completed pathway(s) {verb}.")


@pathway.command("audit")
@_JSON
@click.pass_context
def pathway_audit(ctx: click.Context, as_json: bool) -> None:
    """Pathway awards whose requirements no longer hold (e.g. a component was revoked), for a person to decide."""
    from issuer.awarding.pathways import audit_pathways

    findings = audit_pathways(_issuer(ctx))
    if as_json:
        print_json([f.to_dict() for f in findings])
        return
    print_table(["AWARDED", "PATHWAY", "RECIPIENT", "CREDENTIAL", "FINDING"],
                [(f.awarded_on.isoformat(), f.pathway, f.recipient, f.credential_id, _finding(f)) for f in findings])
    say(f"{len(findings)} award(s) to review; nothing was revoked (use `badgesmith revoke ID --reason …`).")


def _finding(f: Any) -> str:
    if f.kind == "pending":
        return "claimed but not yet issued (issue anything to the learner to finish it)"
    withdrawn = f"; revoked or suspended components: {', '.join(f.withdrawn)}" if f.withdrawn else ""
    return "no longer met: " + "; ".join(f.left) + withdrawn


@main.command()
@click.option("--email", required=True, help="The learner's e-mail address.")
@_JSON
@click.pass_context
def progress(ctx: click.Context, email: str, as_json: bool) -> None:
    """A learner's progress on every pathway: done, left, CEUs counted, and what expires soon."""
    from issuer.awarding.pathways import progress as learner_progress

    data = learner_progress(_issuer(ctx), email)
    if as_json:
        print_json(data.to_dict())
        return
    say(f"Progress of {data.name or data.email} on {data.as_of}:")
    for p in data.pathways:
        state = "awarded" if p.awarded else "complete" if p.complete else "in progress"
        say(f"  {p.name} ({state}) — {p.ceus_counted:g} of {p.ceus_required:g} CEUs counted"
                   if p.ceus_required else f"  {p.name} ({state})")
        for c in p.done:
            say(f"    done: {c.name} ({c.issued_on})")
        for line in p.left:
            say(f"    left: {line}")
    if not data.pathways:
        click.echo("  (this instance has no pathways)")
    for c in data.expiring:
        say(f"  expires soon: {c.name} on {c.valid_until.date()}")
    for c in data.renewed:
        until = f" to {c.valid_until.date()}" if c.valid_until else ""
        say(f"  renewed: {c.name} on {c.awarded_on}, next cycle from {c.valid_from.date()}{until} ({c.id})")


def _report_by(issuer, group: str, since: datetime | None, until: datetime | None, fmt: str) -> None:
    from issuer.records.reports import coordinator_report, report_csv_rows

    data = coordinator_report(issuer, by=group, since=since.date() if since else None,
                              until=until.date() if until else None)
    if fmt == "json":
        print_json(data.to_dict())
    elif fmt == "csv":
        import csv

        csv.writer(sys.stdout).writerows(report_csv_rows(data))
    else:
        print_table([group.upper(), "COMPLETIONS", "CEUS", "PATHWAYS", "RENEWALS DUE"],
                    [(r.name, r.completions, float(r.ceus), r.pathway_completions, r.renewals_due)
                     for r in (*data.rows, data.totals)])
        say(f"Per {group}, {data.since or 'the start'} to {data.until}; renewals due {data.renewals_from} to "
            f"{data.renewals_to}.")


# -- learner records: transcript and learner page links (issue 7) ------------------------------------


@main.command()
@click.option("--email", required=True, help="The learner's e-mail address (the one their badges were sent to).")
@click.option("--since", type=ISO_DATE, help="First award date (inclusive).")
@click.option("--until", type=ISO_DATE, help="Last award date (inclusive).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (replaced only once the transcript is complete).")
@click.option("--format", "fmt", type=click.Choice(["clr", "html"]), default="clr", show_default=True,
              help="clr: the signed CLR 2.0 ClrCredential (JSON); html: a printable page carrying it.")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
@click.pass_context
def transcript(ctx: click.Context, email: str, since: datetime | None, until: datetime | None, output: Path,
               fmt: str, as_json: bool) -> None:
    """Write a learner's signed CLR 2.0 transcript: their current credentials, pathways and CEUs per year."""
    from issuer.instance.files import check_output_file, write_output_file
    from issuer.records.transcript import issue_transcript, render_transcript_html, transcript_json

    check_output_file(output)
    issuer = _issuer(ctx)
    result = issue_transcript(issuer, email, since=since.date() if since else None,
                              until=until.date() if until else None)
    text = (transcript_json(result.document) if fmt == "clr"
            else render_transcript_html(result, issuer=issuer))
    write_output_file(output, text.encode("utf-8"))
    summary = {"id": result.document["id"], "file": str(output), "format": fmt,
               "credentials": len(result.records), "left_out": result.left_out,
               "ceus_by_year": {str(year): total for year, total in result.ceus_by_year},
               "outside_clr_schema": list(result.outside_clr_schema)}
    if as_json:
        print_json(summary)
        return
    _warn_outside_clr_schema(result)
    say(f"Wrote the transcript of {result.learner_name or email} to {output}: "
               f"{len(result.records)} credential(s), {result.ceus_total:g} CEUs.")
    for year, total in result.ceus_by_year:
        say(f"  {year}: {total:g} CEUs")
    if result.left_out:
        say(f"  {result.left_out} other credential(s) left out (revoked, suspended, expired, VC-JWT "
                   "or outside the period): marked partial.")


def _warn_outside_clr_schema(result: Any) -> None:
    if result.outside_clr_schema:
        say(f"Warning: {len(result.outside_clr_schema)} credential(s) in this transcript were issued --suspendable "
            "and carry two status entries, which the CLR 2.0 JSON Schema refuses (it wants one); they are embedded "
            "unchanged, as signed, and the transcript does not claim that schema. First: "
            f"{result.outside_clr_schema[0]}", err=True)


@main.command("push")
@click.argument("credential_id")
@click.option("--to", "host", required=True, metavar="HOST_BASE_URL",
              help="The learner's host (backpack): the base URL its Open Badges API discovery document is under.")
@click.option("--wait", type=click.FloatRange(1, 3600), default=600, show_default=True,
              help="Seconds the learner has to open the link and authorize.")
@_JSON
@click.pass_context
def push(ctx: click.Context, credential_id: str, host: str, wait: float, as_json: bool) -> None:
    """Push a credential into the learner's host over the Open Badges 3.0 API (they authorize through a link)."""
    from issuer.records.push import push_credential

    def show_link(link: str) -> None:
        say("Ask the learner to open this link, sign in at their host and allow the push:", err=as_json)
        say(f"  {link}", err=as_json)
        say(f"Waiting up to {wait:g} seconds for their answer…", err=as_json)

    pushed = push_credential(_issuer(ctx), credential_id, host, on_link=show_link, wait=wait)
    if as_json:
        print_json(pushed.to_dict())
        return
    what = {"created": "added to", "replaced": "replaced in", "unchanged": "already newer in"}.get(pushed.outcome,
                                                                                                  "sent to")
    say(f"{pushed.credential_id} {what} the learner's record at {pushed.host}.")


@main.command("learner-link")
@click.option("--email", required=True, help="The learner's e-mail address.")
@click.option("--revoke", metavar="TOKEN", help="Revoke a link: its token, its page URL, or the id --list shows.")
@click.option("--list", "list_links", is_flag=True, help="List the learner's links (tokens are never shown again).")
@_JSON
@click.pass_context
def learner_link(ctx: click.Context, email: str, revoke: str | None, list_links: bool, as_json: bool) -> None:
    """Create (default), list or revoke an unguessable link to a learner's page of recognitions."""
    from issuer.records import learners

    if revoke and list_links:
        raise InputError(Code.USAGE, "Give either --revoke TOKEN or --list, not both.")
    issuer = _issuer(ctx)
    key = _association_member(issuer, email)

    def row(link) -> dict[str, Any]:
        return {"id": link.id, "created": link.created_at.isoformat(),
                "revoked": link.revoked_at.isoformat() if link.revoked_at else None}

    if list_links:
        links = learners.list_links(issuer, email, key=key)
        if as_json:
            print_json([row(link) for link in links])
            return
        print_table(["ID", "CREATED", "STATE"],
                    [(link.id, f"{link.created_at:%Y-%m-%d %H:%M}",
                      f"revoked {link.revoked_at:%Y-%m-%d}" if link.revoked_at else "active") for link in links])
        say(f"{len(links)} link(s)")
        return
    if revoke:
        link = learners.revoke_link(issuer, email, revoke, key=key)
        if as_json:
            print_json(row(link))
            return
        say(f"Link {link.id} revoked: its page now answers 404.")
        return
    token, link = learners.create_link(issuer, email, key=key)
    url = learners.learner_page_url(issuer, token)
    if as_json:
        print_json({**row(link), "token": token, "url": url})
        return
    click.echo("Learner page link (shown only now; the instance keeps just a hash of it):")
    say(f"  {url}")
    say(f"Revoke it with: badgesmith learner-link --email {email} --revoke {token}")


@main.command("claim-link")
@click.argument("credential_id", metavar="ID")
@click.option("--tx-code", is_flag=True, help="Protect the OID4VCI offer with a transaction code (PIN) to hand "
              "over separately.")
@click.option("--claim-page", is_flag=True, help="Print a claim page link for e-mail instead (valid for "
              "[wallet] link_days, opened with a PIN sent separately).")
@_JSON
@click.pass_context
def claim_link(ctx: click.Context, credential_id: str, tx_code: bool, claim_page: bool, as_json: bool) -> None:
    """Wallet links for an award: Learner Credential Wallet deep links and an OID4VCI offer (single use)."""
    from issuer.awarding import wallet_links

    if claim_page and tx_code:
        raise InputError(Code.USAGE, "A claim page always has its PIN: give --claim-page or --tx-code, not both.")
    issuer = _issuer(ctx)
    if claim_page:
        page = wallet_links.claim_page(issuer, credential_id)
        if as_json:
            print_json({"url": page.url, "pin": page.pin, "expires_at": page.expires_at.isoformat()})
            return
        say(f"Claim page (until {page.expires_at:%Y-%m-%d %H:%M} UTC): {page.url}")
        say(f"PIN (send it separately from the link): {page.pin}")
        return
    links = wallet_links.wallet_links(issuer, credential_id, tx_code=tx_code)
    if as_json:
        print_json(links.to_dict())
        return
    say(f"Wallet links for {links.credential_id}; each works once, until {links.expires_at:%Y-%m-%d %H:%M} UTC.")
    say(f"Learner Credential Wallet:  {links.lcw}")
    say(f"  in the app's own scheme:  {links.dccrequest}")
    say(f"VC-API interaction URL:     {links.interaction}")
    say(f"OID4VCI offer:              {links.oid4vci}")
    say(f"  by reference:             {links.oid4vci_by_reference}")
    if links.tx_code:
        say(f"Transaction code (PIN) for the OID4VCI offer: {links.tx_code}")


@main.group()
def clients() -> None:
    """OAuth 2.0 clients of the VC API: issuing and status updates need one."""


def _clients(ctx: click.Context):
    from issuer.web.clients import Clients

    return Clients.for_issuer(_issuer(ctx))


@clients.command("add")
@click.argument("name")
@click.option("--scopes", default="issue,status", show_default=True,
              help="What the client may do, comma-separated: issue, status.")
@_JSON
@click.pass_context
def clients_add(ctx: click.Context, name: str, scopes: str, as_json: bool) -> None:
    """Create a client and print its id and secret (the secret is shown this once)."""
    created = _clients(ctx).add(name, scopes)
    record = created.record
    if as_json:
        print_json({"client_id": record.client_id, "client_secret": created.secret, "name": record.name,
                    "scopes": record.scopes.split()})
        return
    say(f"Created OAuth client {record.name!r} (scopes: {record.scopes})")
    say(f"  client_id:     {record.client_id}")
    say(f"  client_secret: {created.secret}")
    click.echo("The secret is shown only now: store it safely (Badgesmith keeps only a hash).")


@clients.command("list")
@_JSON
@click.pass_context
def clients_list(ctx: click.Context, as_json: bool) -> None:
    """Every client, revoked ones included (never their secrets)."""
    rows = [{"client_id": c.client_id, "name": c.name, "scopes": c.scopes.split(),
             "created_at": c.created_at.isoformat(), "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None}
            for c in _clients(ctx).list()]
    if as_json:
        print_json(rows)
        return
    print_table(["CLIENT ID", "STATE", "SCOPES", "NAME"],
                [(row["client_id"], "revoked" if row["revoked_at"] else "active", " ".join(row["scopes"]), row["name"])
                 for row in rows])
    say(f"{len(rows)} client(s)")


@clients.command("revoke")
@click.argument("client")
@_JSON
@click.pass_context
def clients_revoke(ctx: click.Context, client: str, as_json: bool) -> None:
    """Revoke a client (by name or client id): its tokens stop working at once."""
    record = _clients(ctx).revoke(client)
    if as_json:
        print_json({"client_id": record.client_id, "name": record.name,
                    "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None})
        return
    say(f"Revoked OAuth client {record.name!r} ({record.client_id}).")


@main.group()
def hosts() -> None:
    """Learners' hosts (backpacks, apps) registered for the Open Badges 3.0 API, and their access.

    Not the hosts `badgesmith push` sends badges to: those are other sites, where this instance registered.
    """


def _when(moment: datetime | None) -> str | None:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else None


@hosts.command("list")
@_JSON
@click.pass_context
def hosts_list(ctx: click.Context, as_json: bool) -> None:
    """Every registered host, revoked ones too: its site, when it registered, how many learners it can
    reach now, when it last used its access."""
    from issuer.records.connected_apps import registered_hosts

    issuer = _issuer(ctx)
    found = registered_hosts(issuer, issuer.now())
    if as_json:
        print_json([host.to_dict() for host in found])
        return
    print_table(["CLIENT ID", "STATE", "LEARNERS", "REGISTERED", "LAST USED", "NAME", "SITE"],
                [(h.client_id, f"revoked {h.revoked_at:%Y-%m-%d}" if h.revoked_at else "active", h.learners,
                  f"{h.registered_at:%Y-%m-%d}", _when(h.last_used_at), h.name, h.site) for h in found])
    say(f"{len(found)} host(s)")


@hosts.command("revoke")
@click.argument("client_id")
@_JSON
@click.pass_context
def hosts_revoke(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """Cut a host off (by its client id, as `hosts list` shows it): every token it holds stops at once, for
    every learner, and it cannot get new ones."""
    from issuer.records.connected_apps import revoke_host

    issuer = _issuer(ctx)
    changed, host = revoke_host(issuer, client_id, issuer.now())
    if as_json:
        print_json({**host.to_dict(), "changed": changed})
    elif changed:
        say(f"Revoked host {host.name!r} ({host.client_id}): its tokens stop now, for every learner.")
    else:
        say(f"notice: host {host.name!r} ({host.client_id}) was already revoked on {host.revoked_at:%Y-%m-%d}; "
            "nothing changed.", err=True)


def _learner(issuer, email: str) -> str:
    """The learner's lookup key, as their page knows them (in an association, found across its divisions)."""
    from issuer.records.hosted import learner_key

    return _association_member(issuer, email) or learner_key(issuer, email)


@hosts.command("connections")
@click.option("--email", required=True, help="The learner's e-mail address.")
@_JSON
@click.pass_context
def hosts_connections(ctx: click.Context, email: str, as_json: bool) -> None:
    """The hosts holding working access to a learner's badges: what the learner's page lists."""
    from issuer.records.connected_apps import connected_apps

    issuer = _issuer(ctx)
    apps = connected_apps(issuer, _learner(issuer, email), issuer.now())
    if as_json:
        print_json([{"client_id": a.client_id, "name": a.name, "site": a.site, "scopes": list(a.scopes),
                     "granted_at": a.granted_at.isoformat(),
                     "last_used_at": a.last_used_at.isoformat() if a.last_used_at else None} for a in apps])
        return
    print_table(["CLIENT ID", "ALLOWED", "LAST USED", "NAME", "SITE"],
                [(a.client_id, _when(a.granted_at), _when(a.last_used_at), a.name, a.site) for a in apps])
    say(f"{len(apps)} connected app(s)")


@hosts.command("withdraw")
@click.argument("client_id")
@click.option("--email", required=True, help="The learner's e-mail address.")
@_JSON
@click.pass_context
def hosts_withdraw(ctx: click.Context, client_id: str, email: str, as_json: bool) -> None:
    """Withdraw one host's access to one learner's badges, as the learner's page does (its tokens for them
    stop at once; other learners keep theirs)."""
    from issuer.records.connected_apps import WITHDRAWN, withdraw_app

    issuer = _issuer(ctx)
    outcome, name = withdraw_app(issuer, _learner(issuer, email), client_id, issuer.now())
    if as_json:
        print_json({"client_id": client_id, "name": name, "email": email, "changed": outcome == WITHDRAWN})
    elif outcome == WITHDRAWN:
        say(f"Withdrew the access of {name!r} to {email}'s badges: its tokens for them stop now.")
    else:
        say(f"notice: {name!r} had no access left to {email}'s badges; nothing changed.", err=True)


def _passphrase(variable: str | None) -> str | None:
    if not variable:
        return os.environ.get("BADGESMITH_KEY_PASSPHRASE") or None
    if variable not in os.environ:
        raise InputError(Code.USAGE, f"The environment variable {variable} is not set.")
    return os.environ[variable]


def run() -> None:
    """Console-script entry point."""
    try:
        main(obj={})
    finally:
        # Output that fit the pipe is flushed only now; a reader gone by then (`| head`) is no error.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()


if __name__ == "__main__":
    run()
