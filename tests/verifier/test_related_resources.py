"""Integrity of related resources (VC 2.0 §5.3): digests compared with the retrieved resource."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import base58
import pytest

from errors import Code
from issuer.badge.sign import sign_credential
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from verifier.data_model import InvalidCredential
from verifier.fetch import DictFetch, Offline, layered
from verifier.pipeline import Verifier
from verifier.related_resources import (MAX_CHECKED, compare_related_resources, digests_match,
                                        require_matching_related_resources)
from verifier.report import FAILED, PASSED

SYLLABUS_URL = "https://courses.example.org/syllabus.pdf"
SYLLABUS = b"%PDF-1.7 Storytime for toddlers: a syllabus"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
KEY = KeyPair.from_seed(bytes(range(32)))


def _sri(algorithm: str, data: bytes, *, urlsafe: bool = False) -> str:
    digest = hashlib.new(algorithm, data).digest()
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(digest).decode()
    return f"{algorithm}-{encoded}"


def _multihash(algorithm: str, data: bytes) -> bytes:
    code = {"sha256": 0x12, "sha384": 0x20, "sha512": 0x13}[algorithm]
    digest = hashlib.new(algorithm, data).digest()
    return bytes([code, len(digest)]) + digest


def _u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- digests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_sri_digests_match_in_either_base64_alphabet(algorithm):
    assert digests_match(SYLLABUS, sri=_sri(algorithm, SYLLABUS))
    assert digests_match(SYLLABUS, sri=_sri(algorithm, SYLLABUS, urlsafe=True))
    assert not digests_match(SYLLABUS + b" ", sri=_sri(algorithm, SYLLABUS))


def test_sri_metadata_with_several_hashes_uses_the_strongest_algorithm():
    # SRI §3.3.3: a wrong weaker hash is ignored, a wrong strongest one is not.
    good_strong = f"{_sri('sha256', b'other')} {_sri('sha512', SYLLABUS)}"
    bad_strong = f"{_sri('sha256', SYLLABUS)} {_sri('sha512', b'other')}"
    assert digests_match(SYLLABUS, sri=good_strong)
    assert not digests_match(SYLLABUS, sri=bad_strong)


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_multibase_multihash_digests_match_in_base64url_and_base58(algorithm):
    multihash = _multihash(algorithm, SYLLABUS)
    assert digests_match(SYLLABUS, multibase=_u(multihash))
    assert digests_match(SYLLABUS, multibase="z" + base58.b58encode(multihash).decode())
    assert not digests_match(b"changed", multibase=_u(multihash))


def test_a_bare_digest_without_a_multihash_header_is_read_by_its_length():
    assert digests_match(SYLLABUS, multibase=_u(hashlib.sha256(SYLLABUS).digest()))
    assert digests_match(SYLLABUS, multibase=_u(hashlib.sha384(SYLLABUS).digest()))
    assert not digests_match(SYLLABUS, multibase=_u(hashlib.sha256(b"x").digest()))


def test_every_digest_given_must_match():
    sri, multibase = _sri("sha384", SYLLABUS), _u(_multihash("sha256", SYLLABUS))
    assert digests_match(SYLLABUS, sri=[sri, _sri("sha256", SYLLABUS)], multibase=multibase)
    assert not digests_match(SYLLABUS, sri=sri, multibase=_u(_multihash("sha256", b"x")))
    assert not digests_match(SYLLABUS, sri=[sri, _sri("sha256", b"x")])


@pytest.mark.parametrize("sri, multibase", [
    ("md5-AAAA", None), ("sha384-!!!", None), (42, None),
    (None, "uAAAA"), (None, "mAAAA"), (None, "z0OIl"), (None, 7),
])
def test_unreadable_digests_never_match(sri, multibase):
    assert not digests_match(SYLLABUS, sri=sri, multibase=multibase)


# -- retrieving and comparing ----------------------------------------------------------------


def _credential(*resources):
    return {"relatedResource": list(resources)}


def test_a_matching_resource_is_checked_and_a_changed_one_is_named():
    other = "https://courses.example.org/handout.txt"
    fetch = DictFetch({SYLLABUS_URL: SYLLABUS, other: b"handout v2"})
    report = compare_related_resources(_credential(
        {"id": SYLLABUS_URL, "digestSRI": _sri("sha384", SYLLABUS)},
        {"id": other, "digestSRI": _sri("sha384", b"handout v1")}), fetch)
    assert report.checked == (SYLLABUS_URL, other) and report.mismatched == (other,)
    assert report.unchecked == ()


def test_an_unreachable_resource_is_reported_unchecked_not_failed():
    fetch = layered(DictFetch({}), Offline())
    report = compare_related_resources(_credential({"id": SYLLABUS_URL, "digestSRI": _sri("sha384", SYLLABUS)}),
                                       fetch)
    assert report.mismatched == () and report.checked == ()
    assert len(report.notes()) == 1 and SYLLABUS_URL in report.notes()[0] and "not checked" in report.notes()[0]


def test_at_most_a_few_resources_are_fetched_per_credential():
    resources = [{"id": f"https://courses.example.org/{n}", "digestSRI": _sri("sha256", b"%d" % n)}
                 for n in range(MAX_CHECKED + 3)]
    fetch = DictFetch({r["id"]: b"%d" % n for n, r in enumerate(resources)})
    report = compare_related_resources(_credential(*resources), fetch)
    assert len(fetch.requested) == MAX_CHECKED and len(report.checked) == MAX_CHECKED
    assert len(report.unchecked) == 3


def test_entries_without_an_id_or_digest_are_left_to_the_data_model_check():
    fetch = DictFetch({SYLLABUS_URL: SYLLABUS})
    report = compare_related_resources(_credential({"digestSRI": "sha384-AAAA"}, {"id": SYLLABUS_URL}, "x"), fetch)
    assert fetch.requested == [] and report.checked == ()


def test_the_issuer_side_refuses_a_mismatch_with_422():
    fetch = DictFetch({SYLLABUS_URL: b"changed"})
    with pytest.raises(InvalidCredential) as caught:
        require_matching_related_resources(
            _credential({"id": SYLLABUS_URL, "digestSRI": _sri("sha384", SYLLABUS)}), fetch)
    assert caught.value.code == Code.RELATED_RESOURCE_MISMATCH and caught.value.http_status == 422
    assert SYLLABUS_URL in caught.value.message


# -- in the verification pipeline --------------------------------------------------------------


def _signed(resource_digest: str) -> dict:
    did = KEY.public_key.did_key
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "issuer": did, "validFrom": "2026-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:learner", "name": "Ada"},
                  "relatedResource": [{"id": SYLLABUS_URL, "digestSRI": resource_digest}]}
    return sign_credential(credential, KEY, loader=offline_loader(), created=NOW)


def _verify(credential, fetch):
    return Verifier(loader=offline_loader(), fetch=fetch, now=NOW).verify_credential(credential)


def _check(report, name):
    return next(c for c in report.checks if c.check == name)


def test_a_credential_whose_related_resource_matches_verifies():
    report = _verify(_signed(_sri("sha384", SYLLABUS)), DictFetch({SYLLABUS_URL: SYLLABUS}))
    assert report.verified and _check(report, "schema").outcome != FAILED
    assert _check(report, "proof").outcome == PASSED and report.warnings == ()


def test_a_changed_related_resource_fails_the_schema_check_though_the_signature_holds():
    report = _verify(_signed(_sri("sha384", SYLLABUS)), DictFetch({SYLLABUS_URL: b"a different syllabus"}))
    assert not report.verified
    schema = _check(report, "schema")
    assert schema.outcome == FAILED and schema.code == "RELATED_RESOURCE_MISMATCH"
    assert _check(report, "proof").outcome == PASSED


def test_offline_the_related_resource_is_a_warning_and_the_credential_verifies():
    report = _verify(_signed(_sri("sha384", SYLLABUS)), layered(DictFetch({}), Offline()))
    assert report.verified
    assert any(SYLLABUS_URL in warning and "not checked" in warning for warning in report.warnings)


def test_a_pinned_context_is_never_fetched_to_compare_its_digest():
    context = "https://www.w3.org/ns/credentials/v2"
    fetch = DictFetch({context: b"what a server would send"})
    report = compare_related_resources(_credential({"id": context, "digestSRI": _sri("sha384", b"x")}), fetch,
                                       contexts=offline_loader())
    assert fetch.requested == [] and report.mismatched == ()
    assert "JSON-LD context" in report.notes()[0]


def test_a_resource_that_does_not_answer_within_the_budget_is_unchecked_and_the_others_are_compared():
    import threading

    release = threading.Event()
    slow_url = "https://slow.example.org/never"

    def fetch(url: str) -> bytes:
        if url == slow_url:
            release.wait(10)  # answers only after the verification has moved on
        return SYLLABUS

    try:
        report = compare_related_resources(_credential(
            {"id": slow_url, "digestSRI": _sri("sha384", SYLLABUS)},
            {"id": SYLLABUS_URL, "digestSRI": _sri("sha384", SYLLABUS)}), fetch, budget=0.2)
    finally:
        release.set()
    assert report.checked == (SYLLABUS_URL,) and report.mismatched == ()
    assert report.unchecked == (f"{slow_url} did not answer within 0.2 s",)


def test_a_verification_waiting_for_its_related_resources_lets_others_take_their_turn():
    """In a threaded server the resources are fetched side by side: the turn is given up while they are awaited."""
    import threading

    from verifier.turns import Turns, holds_turn

    turns = Turns(patience=2)  # longer than the test waits: the other verification must get the turn given up
    both_asked, other_done = threading.Barrier(3), threading.Event()
    reports: list = []

    def fetch(url: str) -> bytes:
        both_asked.wait(10)
        other_done.wait(10)
        return SYLLABUS

    def verification() -> None:
        with turns.turn():
            reports.append(compare_related_resources(_credential(
                {"id": SYLLABUS_URL, "digestSRI": _sri("sha384", SYLLABUS)},
                {"id": "https://courses.example.org/handout.txt", "digestSRI": _sri("sha384", SYLLABUS)}),
                fetch, budget=10))

    thread = threading.Thread(target=verification)
    thread.start()
    both_asked.wait(10)
    with turns.turn():
        got_it = holds_turn()
    other_done.set()
    thread.join(10)
    assert got_it and reports and len(reports[0].checked) == 2
