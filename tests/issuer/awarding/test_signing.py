"""issuer.awarding.signing: the self-check. The first credential of a shape goes through the whole verifier;
later ones of that shape are read back from the text that is stored and checked for what can differ between
them (schema, canonical form with the spelling rule, signature), so a credential changed or mis-serialized after
signing is still refused."""

from __future__ import annotations

import json

import pytest

from errors import Code, ConfigError
from issuer.awarding.issuing import IssueRequest
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import Verifier

COURSE = "storytime-early-literacy"


def _signed(issuer, signer, email: str, now, **request) -> str:
    definition = issuer.achievement(COURSE)
    return signer.sign(definition, IssueRequest(email=email, **request), credential_id=f"urn:uuid:{email}",
                       salt="00" * 16, status=[], fmt="di", now=now)


def _vetted_signer(issuer, now):
    """A signer that has passed one credential of the roster shape through the whole verifier."""
    signer = issuer.signer()
    _signed(issuer, signer, "first@example.org", now, name="First Person", credits=1.0)
    return signer


def test_later_credentials_of_a_shape_still_verify_in_full_elsewhere(issuer, now):
    signer = _vetted_signer(issuer, now)
    texts = [_signed(issuer, signer, f"p{i}@example.org", now, name=f"Person {i}", credits=1.5) for i in range(3)]
    verifier = Verifier(loader=offline_loader(), fetch=Offline(), now=now)
    for text in texts:
        outcomes = {c.check: c.code for c in verifier.verify_credential(json.loads(text)).checks}
        assert outcomes["proof"] == "PROOF_OK" and outcomes["schema"] == "SCHEMA_OK"
        assert outcomes["context"] == "CONTEXT_OK"


def test_a_value_changed_after_signing_fails_the_short_self_check(issuer, now):
    signer = _vetted_signer(issuer, now)
    text = _signed(issuer, signer, "ana@example.org", now, name="Ana Lima", credits=1.5)
    changed = text.replace('"Ana Lima"', '"Ana Lime"')
    assert changed != text
    failures = signer._self_check(changed, issuer.key, now)
    assert [(f.check, f.code) for f in failures] == [("proof", Code.PROOF_INVALID.value)]
    assert signer._self_check(text, issuer.key, now) == []


def test_a_value_respelled_after_signing_fails_the_spelling_rule_on_the_short_path(issuer, now):
    """Same skeleton, but a type written as its IRI: the canonical form is re-derived with the spelling rule."""
    signer = _vetted_signer(issuer, now)
    text = _signed(issuer, signer, "ana@example.org", now, name="Ana Lima")
    respelled = text.replace('"OpenBadgeCredential"',
                             '"https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"')
    assert respelled != text
    failures = signer._self_check(respelled, issuer.key, now)
    assert Code.JSON_RESPELLED.value in {f.code for f in failures}


def test_a_schema_break_fails_the_short_self_check(issuer, now):
    signer = _vetted_signer(issuer, now)
    text = _signed(issuer, signer, "ana@example.org", now, name="Ana Lima")
    credential = json.loads(text)
    credential["validFrom"] = "last Tuesday"
    failures = signer._self_check(json.dumps(credential), issuer.key, now)
    assert failures and failures[0].check == "schema"


def test_a_new_shape_goes_through_the_whole_verifier(issuer, now):
    """A credential with evidence (a key the first one lacked) is not checked the short way: the wrong key
    signing it is caught by key resolution, as for the first credential of a run."""
    from keys.ed25519 import KeyPair

    signer = _vetted_signer(issuer, now)
    assert len(signer._vetted) == 1
    _signed(issuer, signer, "ana@example.org", now, name="Ana Lima", evidence="https://lla.example/rec/1")
    assert len(signer._vetted) == 2
    other = KeyPair.from_seed(bytes(32))
    wrong = signer.__class__(signer.settings, other, signer.did, signer.verification_method, signer.did_document,
                             signer.loader)
    with pytest.raises(ConfigError) as caught:
        _signed(issuer, wrong, "bo@example.org", now, name="Bo Chen")
    assert caught.value.code == Code.SELF_CHECK_FAILED
