"""Every file reader refuses absurd nesting with its own code and one sentence — never a crash.

TOML and JSON parsers recurse; a few kilobytes of ``[[[[…`` exhaust Python's
stack. Each reader below is driven through its real entry point (the CLI, the
app factory, the verifier) with such a file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import create_app
from errors import BadgesmithError
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from tests.cli.test_cli import EXAMPLES, Cli
from verifier.fetch import DictFetch, DocumentsDir
from verifier.pipeline import Verifier
from issuer.badge.sign import sign_credential

DEEP_TOML = "value = " + "[" * 20_000 + "]" * 20_000 + "\n"
DEEP_INLINE_TOML = "value = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n"
DEEP_JSON = "[" * 200_000 + "]" * 200_000


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "instance")
    cli("init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    return cli


@pytest.mark.parametrize("text", [DEEP_TOML, DEEP_INLINE_TOML])
@pytest.mark.parametrize("command", [("achievement", "add"), ("pathway", "add")])
def test_a_deeply_nested_definition_file_is_toml_malformed(cli, tmp_path, command, text):
    path = tmp_path / "deep.toml"
    path.write_text(text)
    result = cli(*command, path, code=2)
    assert "TOML_MALFORMED" in result.stderr and "nested too deeply" in result.stderr


def test_a_deeply_nested_instance_settings_file_is_toml_malformed(cli):
    settings = cli.home / "badgesmith.toml"
    settings.write_text(settings.read_text() + DEEP_TOML)
    assert "TOML_MALFORMED" in cli("list", code=2).stderr
    with pytest.raises(BadgesmithError) as caught:
        create_app({"HOME": str(cli.home), "TESTING": True})
    assert caught.value.code.value == "TOML_MALFORMED"


@pytest.mark.parametrize("name, text, code", [("trust.toml", DEEP_TOML, "TOML_MALFORMED"),
                                              ("trust.json", DEEP_JSON, "JSON_MALFORMED")])
def test_a_deeply_nested_trust_list_is_refused(cli, tmp_path, name, text, code):
    trust = tmp_path / name
    trust.write_text(text)
    result = cli("verify", "--offline", "--trust", trust, EXAMPLES / "ceu-course.toml", code=2)
    assert f"[{code}]" in result.stderr


def test_a_deeply_nested_documents_index_is_refused(tmp_path):
    (tmp_path / "index.json").write_text(DEEP_JSON)
    with pytest.raises(BadgesmithError) as caught:
        DocumentsDir(tmp_path)("https://badges.example.org/status/1")
    assert caught.value.code.value == "JSON_MALFORMED" and "nested too deeply" in caught.value.message


def test_a_deeply_nested_status_list_fails_the_status_check_only():
    key = KeyPair.from_seed(bytes(range(32)))
    now = datetime(2026, 3, 1, tzinfo=UTC)
    url = "https://badges.example.org/status/revocation/1"
    credential = sign_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": key.public_key.did_key, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
        "credentialStatus": {"id": f"{url}#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                             "statusListIndex": "7", "statusListCredential": url}}, key, loader=offline_loader(),
        created=now)
    report = Verifier(loader=offline_loader(), fetch=DictFetch({url: DEEP_JSON}), now=now).verify_credential(
        json.loads(json.dumps(credential)))
    status = report.check("status")
    assert status.outcome == "failed" and status.code == "STATUS_LIST_INVALID"
    assert report.check("proof").outcome == "passed"
