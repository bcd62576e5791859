"""issuer.awarding.rotation: a did:web issuer rotates keys and everything signed before still verifies;
a did:key issuer is refused with the reason."""

from __future__ import annotations

import json

import pytest

from errors import Code, Conflict
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.rotation import next_key_id, rotate_key
from issuer.instance.settings import load_settings
from keys.did import did_web_url
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import Verifier

COURSE = "storytime-early-literacy"


def _proof_outcome(credential: dict, document: dict, now) -> str:
    fetch = DictFetch({did_web_url(document["id"]): json.dumps(document)})
    report = Verifier(loader=offline_loader(), fetch=fetch, now=now).verify_credential(credential)
    return report.check("proof").outcome


def test_rotation_keeps_old_credentials_verifying_and_signs_new_ones_with_the_new_key(make_issuer, db_url, now):
    issuer = make_issuer(db_url, did_web="badges.lakeshore.example")
    before = json.loads(issuer.issue(COURSE, IssueRequest(email="ana@example.org")).record.credential)
    assert rotate_key(issuer) == "key-2"
    rotated = Issuer.open(issuer.settings.home, database_url=db_url, now=lambda: now)
    try:
        assert rotated.settings.key_id == "key-2"
        after = json.loads(rotated.issue(COURSE, IssueRequest(email="bo@example.org")).record.credential)
        assert before["proof"][0]["verificationMethod"].endswith("#key-1")
        assert after["proof"][0]["verificationMethod"].endswith("#key-2")
        document = rotated.did_document()
        assert document["assertionMethod"] == [f"{rotated.did}#key-1", f"{rotated.did}#key-2"]
        assert _proof_outcome(before, document, now) == "passed"
        assert _proof_outcome(after, document, now) == "passed"
        keys = {k.key_id: k for k in rotated.registry.list_keys(rotated.issuer_id)}
        assert keys["key-1"].retired_at is not None and keys["key-2"].retired_at is None
    finally:
        rotated.close()


def test_rotation_is_refused_for_a_did_key_issuer(make_issuer):
    issuer = make_issuer()
    with pytest.raises(Conflict) as caught:
        rotate_key(issuer)
    assert caught.value.code == Code.CONFIG_INVALID
    assert "--did-web" in caught.value.message
    assert [k.key_id for k in issuer.registry.list_keys(issuer.issuer_id)] == ["key-1"]


def test_next_key_id_follows_the_highest_number():
    assert next_key_id([]) == "key-1"
    assert next_key_id(["key-1", "key-9", "key-10", "other"]) == "key-11"


def test_rotation_changes_only_the_current_key_line_of_the_settings_file(make_issuer, db_url):
    issuer = make_issuer(db_url, did_web="badges.lakeshore.example")
    path = issuer.settings.home / "badgesmith.toml"
    edited = path.read_text("utf-8") + '\n# our own note\n[web]\nrate_limit = "10/minute"\n'
    path.write_text(edited, "utf-8")
    assert rotate_key(issuer) == "key-2"
    after = path.read_text("utf-8")
    assert after == edited.replace('current = "key-1"', 'current = "key-2"')
    assert "# our own note" in after and 'rate_limit = "10/minute"' in after


def test_rotation_keeps_comments_inline_comments_and_other_tables_of_the_settings_file(make_issuer, db_url):
    """tomlkit edits the value in place: comments (even the one on the changed line), spacing, and the
    tables and arrays of tables Badgesmith does not model all survive byte for byte."""
    issuer = make_issuer(db_url, did_web="badges.lakeshore.example")
    path = issuer.settings.home / "badgesmith.toml"
    text = path.read_text("utf-8").replace(
        'current = "key-1"', '# rotated every spring by the CE office\ncurrent   =   "key-1"   # see the runbook')
    edited = ("# Lakeshore's settings: reviewed 2025-03\n" + text
              + '\n[web]\nrate_limit = "10/minute"  # per address\n\n'
                '[[brand.footer_links]]\nlabel = "Privacy"\nurl = "https://lakeshore.example/privacy"\n')
    path.write_text(edited, "utf-8")
    assert rotate_key(issuer) == "key-2"
    assert path.read_text("utf-8") == edited.replace('"key-1"   # see', '"key-2"   # see')


def test_rotation_adds_a_keys_table_when_the_settings_file_has_none(make_issuer, db_url):
    issuer = make_issuer(db_url, did_web="badges.lakeshore.example")
    path = issuer.settings.home / "badgesmith.toml"
    without = path.read_text("utf-8").replace('[keys]\ncurrent = "key-1"\n', "")
    assert "[keys]" not in without
    path.write_text(without, "utf-8")
    assert rotate_key(issuer) == "key-2"
    after = path.read_text("utf-8")
    assert after.startswith(without) and 'current = "key-2"' in after
    assert load_settings(issuer.settings.home).key_id == "key-2"
