"""issuer.awarding.signing: the self-check. The first credential of a shape goes through the whole verifier;
later ones of that shape are read back from the text that is stored and checked for what can differ between
them: that the text is, type for type, the credential that was signed, the schema, and the signature over the
canonical form the signing step made, so a credential changed or mis-serialized after signing, or a bad
signature, is still refused (and, in a roster batch, nothing of the batch is stored)."""

from __future__ import annotations

import json

import pytest

from errors import Code, ConfigError
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.signing import Signed, same_json
from issuer.badge.sign import sign_credential
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import Verifier

COURSE = "storytime-early-literacy"


def _signed(issuer, signer, email: str, now, **request) -> str:
    definition = issuer.achievement(COURSE)
    return signer.sign(definition, IssueRequest(email=email, **request), credential_id=f"urn:uuid:{email}",
                       salt="00" * 16, status=[], fmt="di", now=now)


def _unsigned(issuer, signer, email: str, now, **request) -> dict:
    definition = issuer.achievement(COURSE)
    return signer.build(definition, IssueRequest(email=email, **request), credential_id=f"urn:uuid:{email}",
                        salt="00" * 16, status=[], now=now)


def _vetted_signer(issuer, now):
    """A signer that has passed one credential of the roster shape through the whole verifier."""
    signer = issuer.signer()
    _signed(issuer, signer, "first@example.org", now, name="First Person", credits=1.0)
    _signed(issuer, signer, "second@example.org", now, name="Second Person")
    return signer


def test_later_credentials_of_a_shape_still_verify_in_full_elsewhere(issuer, now):
    signer = _vetted_signer(issuer, now)
    texts = [_signed(issuer, signer, f"p{i}@example.org", now, name=f"Person {i}", credits=1.5) for i in range(3)]
    verifier = Verifier(loader=offline_loader(), fetch=Offline(), now=now)
    for text in texts:
        outcomes = {c.check: c.code for c in verifier.verify_credential(json.loads(text)).checks}
        assert outcomes["proof"] == "PROOF_OK" and outcomes["schema"] == "SCHEMA_OK"
        assert outcomes["context"] == "CONTEXT_OK"


def test_the_proof_signed_here_is_the_one_the_cryptosuite_makes(issuer, now):
    """AwardSigner.signed builds the eddsa-rdfc-2022 proof itself (to keep the canonical form): byte for byte
    what keys.eddsa_rdfc_2022 makes from the same credential, and the canonical form is the credential's."""
    from keys.rdfc import canonicalize

    signer = issuer.signer()
    unsigned = _unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima", credits=1.5)
    signed = signer.signed(unsigned, fmt="di", now=now)
    reference = sign_credential(unsigned, issuer.key, fmt="di", loader=signer.loader, created=now,
                                verification_method=signer.verification_method)
    assert signed.text == json.dumps(reference, ensure_ascii=False)
    assert signed.canonical == canonicalize(unsigned, loader=signer.loader)


def _short_check(signer, signed: Signed, now) -> list[tuple[str, str]]:
    from issuer.awarding.signing import _shape_of

    assert _shape_of(json.loads(signed.text)) in signer._vetted  # the shape is vetted: this is the short path
    return [(f.check, f.code) for f in signer.self_check(signed, now=now)]


def test_a_value_changed_after_signing_fails_the_short_self_check(issuer, now):
    signer = _vetted_signer(issuer, now)
    signed = signer.signed(_unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima", credits=1.5),
                           fmt="di", now=now)
    assert _short_check(signer, signed, now) == []
    changed = Signed(signed.text.replace('"Ana Lima"', '"Ana Lime"'), signed.credential, signed.canonical)
    assert changed.text != signed.text
    assert _short_check(signer, changed, now) == [("proof", Code.PROOF_INVALID.value)]
    # the credential changed after it was written out and signed (the text as it was): refused
    signed.credential["credentialSubject"]["name"] = "Ana Lime"
    assert _short_check(signer, signed, now) == [("proof", Code.PROOF_INVALID.value)]
    # without the signing step's canonical form, the one re-derived from the text is checked
    assert _short_check(signer, Signed(changed.text), now) == [("proof", Code.PROOF_INVALID.value)]


@pytest.mark.parametrize("written, refused", [
    ('"creditsEarned": "1.5"', True),  # a number written as text (another shape: the whole verifier)
    ('"creditsEarned": 1.0', True),  # another value of the same type (the short path)
    ('"creditsEarned": 1.50', False),  # the same JSON number, spelt otherwise: not a difference
])
def test_a_serialization_that_is_not_what_was_signed_fails_the_self_check(issuer, now, written, refused):
    signer = _vetted_signer(issuer, now)
    signed = signer.signed(_unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima", credits=1.5),
                           fmt="di", now=now)
    assert '"creditsEarned": 1.5' in signed.text
    text = signed.text.replace('"creditsEarned": 1.5', written)
    failures = [(f.check, f.code) for f in signer.self_check(Signed(text, signed.credential, signed.canonical),
                                                             now=now)]
    assert (("proof", Code.PROOF_INVALID.value) in failures) is refused


def test_same_json_tells_apart_what_python_calls_equal():
    assert 1 == 1.0 == True  # noqa: E712: what same_json must not rely on
    assert not same_json({"a": 1}, {"a": 1.0})
    assert not same_json({"a": 1}, {"a": True})
    assert not same_json({"a": 0}, {"a": False})
    assert not same_json({"a": [1]}, {"a": (1,)})
    assert not same_json({"a": float("nan")}, {"a": float("nan")})
    assert not same_json({"a": 1}, {"a": 1, "b": None})
    assert not same_json({"a": [1, 2]}, {"a": [2, 1]})
    assert same_json({"a": 1, "b": [1.5, "x", None, {"c": True}]}, {"b": [1.5, "x", None, {"c": True}], "a": 1})


def test_an_integer_written_as_a_float_fails_the_self_check(issuer, now):
    """1 and 1.0 are one number to Python but not to the canonical form (xsd:integer, xsd:double)."""
    signer = _vetted_signer(issuer, now)
    unsigned = _unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima", credits=1)
    signed = signer.signed(unsigned, fmt="di", now=now)
    assert '"creditsEarned": 1,' in signed.text or '"creditsEarned": 1}' in signed.text
    text = signed.text.replace('"creditsEarned": 1', '"creditsEarned": 1.0')
    failures = [(f.check, f.code) for f in signer.self_check(Signed(text, signed.credential, signed.canonical),
                                                             now=now)]
    assert ("proof", Code.PROOF_INVALID.value) in failures


def test_a_bad_signature_fails_the_short_self_check(issuer, now):
    from keys.ed25519 import KeyPair

    signer = _vetted_signer(issuer, now)
    wrong = signer.__class__(signer.settings, KeyPair.from_seed(bytes(32)), signer.did, signer.verification_method,
                             signer.did_document, signer.loader)
    wrong._vetted.update(signer._vetted)  # as if the shape had passed in full: only the signature is wrong
    signed = wrong.signed(_unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima"), fmt="di", now=now)
    assert _short_check(signer, signed, now) == [("proof", Code.PROOF_INVALID.value)]
    # a proofValue garbled after signing, in the text and the credential alike
    good = signer.signed(_unsigned(issuer, signer, "bo@example.org", now, name="Bo Chen"), fmt="di", now=now)
    value = good.credential["proof"][0]["proofValue"]
    garbled = value[:-4] + ("1111" if not value.endswith("1111") else "2222")
    text = good.text.replace(value, garbled)
    assert _short_check(signer, Signed(text, json.loads(text), good.canonical), now) == [
        ("proof", Code.PROOF_INVALID.value)]
    # a canonical form that is not the credential's (a canonicalization bug) fails the signature check
    good = signer.signed(_unsigned(issuer, signer, "cy@example.org", now, name="Cy Diaz"), fmt="di", now=now)
    bogus = good.canonical.replace("Cy Diaz", "Cy Dias")
    assert _short_check(signer, Signed(good.text, good.credential, bogus), now) == [
        ("proof", Code.PROOF_INVALID.value)]


def test_a_respelled_credential_is_refused_when_signed(issuer, now):
    """The spelling rule runs in the signing step's canonicalization, on the very credential that is stored."""
    from errors import CredentialError

    signer = _vetted_signer(issuer, now)
    unsigned = _unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima")
    unsigned["type"] = ["VerifiableCredential",
                        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"]
    with pytest.raises(CredentialError) as caught:
        signer.sign_checked(unsigned, fmt="di", now=now)
    assert caught.value.code == Code.JSON_RESPELLED


def test_a_schema_break_fails_the_short_self_check(issuer, now):
    signer = _vetted_signer(issuer, now)
    unsigned = _unsigned(issuer, signer, "ana@example.org", now, name="Ana Lima")
    unsigned["validFrom"] = "last Tuesday"  # still a string: the same shape, correctly signed
    failures = signer.self_check(signer.signed(unsigned, fmt="di", now=now), now=now)
    assert [f.check for f in failures] == ["schema"]


def test_a_roster_batch_that_fails_its_self_check_stores_nothing(issuer, now, monkeypatch):
    """A credential mis-serialized after signing, in the middle of a batch: SELF_CHECK_FAILED, and the
    batch's transaction rolls back (no credential, no status index kept)."""
    from issuer.awarding import signing

    real = signing.AwardSigner.signed
    calls = []

    def garbled(self, unsigned, *, fmt, now):
        signed = real(self, unsigned, fmt=fmt, now=now)
        calls.append(1)
        if len(calls) == 3:  # the third of the batch: its shape is vetted by then
            return Signed(signed.text.replace('"Person 2"', '"Person 3"'), signed.credential, signed.canonical)
        return signed

    monkeypatch.setattr(signing.AwardSigner, "signed", garbled)
    requests = [IssueRequest(email=f"p{i}@example.org", name=f"Person {i}") for i in range(5)]
    with pytest.raises(ConfigError) as caught:
        issuer.issue_many(COURSE, requests)
    assert caught.value.code == Code.SELF_CHECK_FAILED
    assert issuer.registry.find_credentials(issuer.issuer_id) == []
    monkeypatch.setattr(signing.AwardSigner, "signed", real)
    assert [i.created for i in issuer.issue_many(COURSE, requests)] == [True] * 5


def test_a_new_shape_goes_through_the_whole_verifier(issuer, now):
    """A credential with evidence (a key the first one lacked) is not checked the short way: the wrong key
    signing it is caught by key resolution, as for the first credential of a run."""
    from keys.ed25519 import KeyPair

    signer = _vetted_signer(issuer, now)
    vetted = len(signer._vetted)
    _signed(issuer, signer, "ana@example.org", now, name="Ana Lima", evidence="https://lla.example/rec/1")
    assert len(signer._vetted) == vetted + 1
    other = KeyPair.from_seed(bytes(32))
    wrong = signer.__class__(signer.settings, other, signer.did, signer.verification_method, signer.did_document,
                             signer.loader)
    with pytest.raises(ConfigError) as caught:
        _signed(issuer, wrong, "bo@example.org", now, name="Bo Chen")
    assert caught.value.code == Code.SELF_CHECK_FAILED


# A roster's worker processes sign a share of each batch (issuing._sign_shared): the same code runs here with
# threads for the pool, and with the real process pool through issue_roster.

def _verified(issuer, now, records) -> None:
    from verifier.pipeline import VerifyOptions

    verifier = Verifier(loader=offline_loader(), fetch=Offline(), now=now,
                        options=VerifyOptions(allow_unreachable_status=True))
    for record in records:
        outcomes = {c.check: c.code for c in verifier.verify_credential(json.loads(record.credential)).checks}
        assert (outcomes["proof"], outcomes["schema"], outcomes["context"]) == ("PROOF_OK", "SCHEMA_OK", "CONTEXT_OK")


def test_a_share_signed_in_the_pool_comes_back_in_order_and_verifies(issuer, now):
    from concurrent.futures import ThreadPoolExecutor

    requests = [IssueRequest(email=f"p{i}@example.org", name=f"Person {i}") for i in range(20)]
    with ThreadPoolExecutor(2) as pool:
        issued = issuer.issue_many(COURSE, requests, pool=pool)
    assert [i.record.recipient_name for i in issued] == [r.name for r in requests]
    assert all(i.created for i in issued)
    for item in issued:
        assert f'"identityHash": "{item.record.recipient_name}"' in item.record.credential
    _verified(issuer, now, [i.record for i in issued])


def test_a_worker_signs_only_with_the_key_it_was_told_of(issuer, now):
    from issuer.awarding.issuing import sign_elsewhere
    from issuer.awarding.signing import SignerSpec
    from keys.ed25519 import KeyPair

    spec = SignerSpec.of(issuer.signer())
    assert spec.signer() is not None and spec.signer().key.public_key.to_multikey() == spec.public_multikey
    other = KeyPair.from_seed(bytes(32)).public_key.to_multikey()
    stale = SignerSpec(spec.settings, other, spec.did, spec.verification_method, spec.did_document)
    assert stale.signer() is None and sign_elsewhere(stale, [], now) is None
    with pytest.raises(TypeError):  # and the key itself never crosses to a worker
        import pickle

        pickle.dumps(issuer.key)


def test_a_share_the_workers_cannot_sign_is_signed_here(issuer, now, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from issuer.awarding import signing

    monkeypatch.setattr(signing.SignerSpec, "signer", lambda self: None)  # a key behind a passphrase
    requests = [IssueRequest(email=f"p{i}@example.org", name=f"Person {i}") for i in range(20)]
    with ThreadPoolExecutor(2) as pool:
        issued = issuer.issue_many(COURSE, requests, pool=pool)
    assert [i.record.recipient_name for i in issued] == [r.name for r in requests]
    _verified(issuer, now, [i.record for i in issued])


def test_a_self_check_failed_in_a_worker_fails_the_batch_and_stores_nothing(issuer, now, monkeypatch):
    """The workers' signer names a verification method that is not the issuer's key: the whole verifier
    refuses its first credential there; the error comes back here, and the batch rolls back."""
    from concurrent.futures import ThreadPoolExecutor

    from issuer.awarding import signing

    real = signing.SignerSpec.of

    def wrong_method(signer):
        spec = real(signer)
        return signing.SignerSpec(spec.settings, spec.public_multikey, spec.did, spec.did + "#not-the-key",
                                  spec.did_document)

    monkeypatch.setattr(signing.SignerSpec, "of", staticmethod(wrong_method))
    requests = [IssueRequest(email=f"p{i}@example.org", name=f"Person {i}") for i in range(20)]
    with ThreadPoolExecutor(2) as pool, pytest.raises(ConfigError) as caught:
        issuer.issue_many(COURSE, requests, pool=pool)
    assert caught.value.code == Code.SELF_CHECK_FAILED
    assert issuer.registry.find_credentials(issuer.issuer_id) == []


def test_a_roster_signed_partly_in_worker_processes_verifies(make_issuer, tmp_path, now, monkeypatch):
    from issuer.awarding import awards
    from issuer.awarding.awards import issue_roster
    from issuer.awarding.roster_workers import POOL_MIN_ROWS, RosterWorkers

    original = RosterWorkers.__init__

    def started(self):  # both workers running before the first batch, so they sign a share of each
        original(self)
        self.wait_started()

    monkeypatch.setattr(RosterWorkers, "__init__", started)
    monkeypatch.setattr(awards, "_BATCH_ROWS", 100)
    issuer = make_issuer()
    roster = tmp_path / "attendees.csv"
    rows = max(POOL_MIN_ROWS, 130)  # two batches: the second's share is signed beside the first's files
    roster.write_text("email,name\n" + "".join(f"p{i}@example.org,Person {i}\n" for i in range(rows)), "utf-8")
    summary = issue_roster(issuer, COURSE, roster)
    assert summary.created == rows
    stored = issuer.registry.find_credentials(issuer.issuer_id)
    assert sorted(r.recipient_name for r in stored) == sorted(f"Person {i}" for i in range(rows))
    _verified(issuer, now, stored)
    assert all(p.stat().st_size > 0 for a in summary.awarded for p in a.files.as_list())

