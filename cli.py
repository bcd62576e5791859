"""The ``badgesmith`` command: parse arguments, call the packages, print.

No business logic lives here. ``BadgesmithError`` is turned into one stderr
sentence and exit code 2 in exactly one place (``_Group.invoke``); anything
else is a bug: exit 3, a traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from errors import BadgesmithError, Code, InputError

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3


class _Group(click.Group):
    """A click group that renders Badgesmith errors once, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BadgesmithError as error:
            click.echo(f"error [{error.code.value}]: {error.message}", err=True)
            ctx.exit(EXIT_ERROR)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except Exception:  # a bug: never show a traceback unless asked
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo("error [INTERNAL_ERROR]: Badgesmith hit an unexpected problem; "
                       "run again with --debug for details and report it.", err=True)
            ctx.exit(EXIT_BUG)


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware datetime (default: the real clock)."""
    if value is None:
        return datetime.now(timezone.utc)
    from verifier.validity import parse_datetime

    moment = parse_datetime(value)
    if moment is None:
        raise InputError(Code.USAGE, f"--now {value!r} is not an ISO date-time such as 2026-01-31T12:00:00Z.")
    return moment


def print_json(data: Any) -> None:
    """Machine output: pretty JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(cls=_Group)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instance folder (default: $BADGESMITH_HOME or the current directory).")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks for unexpected errors.")
@click.version_option("0.1.0", prog_name="badgesmith")
@click.pass_context
def main(ctx: click.Context, home: Path | None, debug: bool) -> None:
    """Badgesmith: issue and verify Open Badges 3.0 credentials."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home
    ctx.obj["debug"] = debug


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
def verify(source: str, as_json: bool, offline: bool, documents: Path | None, now: str | None,
           email: str | None, trust: Path | None, require_trusted: bool,
           allow_unreachable_status: bool, accept_unbound_keys: bool) -> None:
    """Verify a credential: a file (JSON, JWT, PNG, SVG), '-' for stdin, or an https URL.

    Exit 0 verified, 1 not verified, 2 unreadable input or usage error.
    """
    from schemas.loader import offline_loader
    from verifier.fetch import build_fetch
    from verifier.pipeline import VerifyOptions, verify_bytes
    from verifier.sources import Limits, read_source
    from verifier.trust import load_trust_list

    fetch = build_fetch(documents=documents, offline=offline)
    limits = Limits()
    if source.startswith(("https://", "http://")):
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
    sys.exit(EXIT_VERIFIED if report.verified else EXIT_NOT_VERIFIED)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ed25519 private key (PKCS#8 PEM).")
@click.option("--format", "fmt", type=click.Choice(["di", "jwt", "ed25519-2020"]), default="di",
              show_default=True, help="eddsa-rdfc-2022 Data Integrity proof, VC-JWT, or legacy suite.")
@click.option("--created", help="Fixed proof creation time (ISO), for reproducible output.")
@click.option("--verification-method", help="Verification method URL (default: the key's did:key).")
@click.option("--passphrase-env", help="Environment variable holding the key's passphrase.")
def sign(file: Path, key_file: Path, fmt: str, created: str | None, verification_method: str | None,
         passphrase_env: str | None) -> None:
    """Sign an unsigned credential JSON and print it (JSON, or the compact JWT)."""
    from issuer.sign import sign_credential
    from keys.keystore import load_key
    from schemas.loader import offline_loader
    from verifier.sources import Limits, parse_json

    credential = parse_json(file.read_bytes(), limits=Limits())
    passphrase = os.environ.get(passphrase_env, "").encode() if passphrase_env else None
    key = load_key(key_file, passphrase=passphrase)
    result = sign_credential(credential, key, fmt=fmt, loader=offline_loader(),
                             created=parse_now(created),
                             verification_method=verification_method)
    click.echo(result if isinstance(result, str) else json.dumps(result, indent=2, ensure_ascii=False))


def run() -> None:
    """Console-script entry point."""
    main(obj={})


if __name__ == "__main__":
    run()
