"""Verdicts read what was signed: a credential re-spelled after signing is refused, or judged the same.

Data Integrity signs the RDF graph, so JSON that spells the same graph another
way keeps a valid signature. Every re-spelling generated here is checked to
leave the graph unchanged (canonical N-Quads equal the original's), and then
the credential must be refused (``JSON_RESPELLED``) or get exactly the
original's report: never "not revoked" for a revoked credential, "current" for
an expired one.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, event, given, settings, strategies as st

from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.recipient import identity_object
from issuer.badge.sign import sign_credential
from issuer.badge.status import build_status_list_credential, new_bitstring, status_entry
from keys.ed25519 import KeyPair
from keys.rdfc import canonicalize
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import verify_bytes
from tests.verifier.respellings import respell
from verifier.status import set_bit

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
LIST = "https://badges.example.org/status/revocation/1"
SUSPENSION = "https://badges.example.org/status/suspension/1"
CRED = "https://www.w3.org/2018/credentials#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
LOADER = offline_loader()
KEY = KeyPair.from_seed(b"\x21" * 32)
ENDORSER = KeyPair.from_seed(b"\x22" * 32)
OB = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _status_list(purpose: str, url: str, revoked: int | None) -> bytes:
    bits = new_bitstring() if revoked is None else set_bit(new_bitstring(), revoked, True)
    unsigned = build_status_list_credential(url, KEY.public_key.did_key, purpose, bits, NOW - timedelta(days=2))
    return json.dumps(sign_credential(unsigned, KEY, loader=LOADER, created=NOW)).encode()


def _endorsement() -> dict:
    unsigned = {
        "@context": OB, "id": "urn:uuid:4f0e8c34-5a4b-4c1e-9b0a-5b6c2f1d9e01",
        "type": ["VerifiableCredential", "EndorsementCredential"], "name": "State library endorsement",
        "issuer": {"id": ENDORSER.public_key.did_key, "type": ["Profile"], "name": "State Library"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://badges.example.org/achievements/a", "type": ["EndorsementSubject"],
                              "endorsementComment": "Meets the state's standard."},
    }
    return sign_credential(unsigned, ENDORSER, loader=LOADER, created=NOW)


def _signed(*, valid_from=None, valid_until=None, suspendable=False, endorsed=False) -> dict:
    status = [status_entry(LIST, 5, "revocation")]
    if suspendable:
        status.append(status_entry(SUSPENSION, 5, "suspension"))
    achievement = {"id": "https://badges.example.org/achievements/a", "type": ["Achievement"], "name": "Storytime",
                   "description": "A webinar.", "criteria": {"narrative": "Attend."}, "achievementType": "Course",
                   "creditsAvailable": 1.5}
    if endorsed:
        achievement["endorsement"] = [_endorsement()]
    unsigned = build_credential(
        issuer={"id": KEY.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        achievement=achievement, recipient=Recipient(identity=identity_object("ana@example.org", salt="pepper")),
        award=Award(credits_earned=1.5, valid_from=valid_from, valid_until=valid_until, status=tuple(status)),
        now=NOW - timedelta(days=1))
    return sign_credential(unsigned, KEY, loader=LOADER, created=NOW - timedelta(days=1))


# name -> (credential, the status lists it is judged against)
CASES = {
    "revoked": (_signed(), {LIST: _status_list("revocation", LIST, 5)}),
    "expired": (_signed(valid_until=NOW - timedelta(hours=1)), {LIST: _status_list("revocation", LIST, None)}),
    "not-yet-valid": (_signed(valid_from=NOW + timedelta(days=3)), {LIST: _status_list("revocation", LIST, None)}),
    "suspended": (_signed(suspendable=True), {LIST: _status_list("revocation", LIST, None),
                                              SUSPENSION: _status_list("suspension", SUSPENSION, 5)}),
    "endorsed-valid": (_signed(endorsed=True), {LIST: _status_list("revocation", LIST, None)}),
}


def _verify(credential: dict, documents: dict, email: str | None = "ana@example.org"):
    return verify_bytes(json.dumps(credential).encode(), loader=LOADER, fetch=DictFetch(documents), now=NOW,
                        email=email)


# -- the two attacks of the issue, by hand ----------------------------------------------------

def test_a_revoked_credential_with_credential_status_spelled_as_an_iri_is_refused():
    credential, documents = CASES["revoked"]
    assert _verify(credential, documents).check("status").code == "REVOKED"
    forged = copy.deepcopy(credential)
    forged[CRED + "credentialStatus"] = forged.pop("credentialStatus")
    report = _verify(forged, documents)
    assert not report.verified
    assert report.check("context").code == "JSON_RESPELLED"
    assert "https://www.w3.org/2018/credentials#credentialStatus" in report.check("context").message
    assert "'credentialStatus'" in report.check("context").message
    assert report.check("status").code == "NOT_CHECKED" and report.check("proof").code == "NOT_CHECKED"


def test_an_expired_credential_with_valid_until_as_an_iri_and_value_object_is_refused():
    credential, documents = CASES["expired"]
    assert _verify(credential, documents).check("validity").code == "EXPIRED"
    forged = copy.deepcopy(credential)
    forged[CRED + "validUntil"] = {"@value": forged.pop("validUntil"), "@type": XSD_DATETIME}
    report = _verify(forged, documents)
    assert not report.verified and report.check("context").code == "JSON_RESPELLED"
    assert not any(c.outcome == "passed" for c in report.checks if c.check in ("validity", "status", "proof"))


@pytest.mark.parametrize("edit, named", [
    (lambda d: d.__setitem__("validUntil", {"@value": d["validUntil"], "@type": XSD_DATETIME}), "@value"),
    (lambda d: d.__setitem__("@type", d.pop("type")), "@type"),
    (lambda d: d.__setitem__("validUntil", [d["validUntil"]]), "validUntil"),
    (lambda d: (d["@context"].append({"until": CRED + "validUntil"}), d.__setitem__("until", d.pop("validUntil"))),
     "until"),
    (lambda d: (d["@context"].append({"kind": "@type"}), d.__setitem__("kind", d.pop("type"))), "kind"),
    (lambda d: (d["@context"].append({"box": "@nest"}), d.__setitem__("box", {"validUntil": d.pop("validUntil")})),
     "box"),
])
def test_each_kind_of_respelling_is_refused_naming_the_key(edit, named):
    credential, documents = CASES["expired"]
    forged = copy.deepcopy(credential)
    edit(forged)
    report = _verify(forged, documents)
    assert report.check("context").code == "JSON_RESPELLED", report.to_text()
    assert f"'{named}'" in report.check("context").message


def test_a_status_entry_split_in_two_is_refused():
    credential, documents = CASES["revoked"]
    forged = copy.deepcopy(credential)
    entry = forged["credentialStatus"]
    # both halves keep the type: its scoped context defines the entry's terms
    forged["credentialStatus"] = [{"id": entry["id"], "type": entry["type"], "statusPurpose": entry["statusPurpose"]},
                                  {k: v for k, v in entry.items() if k != "statusPurpose"}]
    assert _graph(forged) == _graph(credential)  # the signature still holds…
    assert _verify(forged, documents).check("context").code == "JSON_RESPELLED"  # …but it is refused


def test_the_credential_described_again_elsewhere_may_not_carry_what_the_checks_read():
    credential, documents = CASES["revoked"]
    forged = copy.deepcopy(credential)
    forged["credentialSubject"]["achievement"]["related"] = [
        {"id": forged["id"], "type": ["Related"], "credentialStatus": forged.pop("credentialStatus")}]
    report = _verify(forged, documents)
    assert report.check("context").code == "JSON_RESPELLED"


def test_the_plain_spelling_still_verifies_and_takes_no_detour():
    credential, documents = CASES["endorsed-valid"]
    report = _verify(credential, documents)
    assert report.verified, report.to_text()


# -- graph-preserving re-spellings, generated ---------------------------------------------------

def _graph(document: dict) -> str:
    return canonicalize(document, loader=LOADER, spelling=False)


ORIGINALS = {name: (_verify(c, docs).to_dict(), _graph(c)) for name, (c, docs) in CASES.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(sorted(CASES)), steps=st.integers(1, 3), data=st.data())
def test_graph_preserving_respellings_are_refused_or_judged_exactly_as_the_original(case, steps, data):
    credential, documents = CASES[case]
    original, graph = ORIGINALS[case]
    forged = copy.deepcopy(credential)
    for _ in range(steps):
        respell(forged, data)
    try:
        same_graph = _graph(forged) == graph
    except Exception:  # the change broke the JSON-LD: not a re-spelling
        same_graph = False
    assume(same_graph and forged != credential)
    report = _verify(forged, documents)
    refused = report.check("context").code == "JSON_RESPELLED"
    if refused:
        event("refused as re-spelled")
        assert not report.verified
        assert all(c.outcome != "passed" for c in report.checks if c.check not in ("container", "json"))
    elif report.to_dict() == original:
        event("judged exactly as the original")
    else:
        # Some re-spellings the rule lets through (a list of one where the schema wants a string)
        # fail another check instead: a refusal too, and it never hides what the original failed.
        event("failed another check")
        assert not report.verified and any(c.outcome == "failed" for c in report.checks), report.to_text()
        failed = {c["check"] for c in checks_of(original) if c["outcome"] == "failed"}
        assert not any(c.outcome == "passed" and c.check in failed for c in report.checks), report.to_text()


def checks_of(report: dict) -> list[dict]:
    return report["checks"]


def test_a_status_list_respelled_in_transit_cannot_establish_status():
    """The list is read as it was signed too: an expired list re-spelled to look current is refused."""
    credential, _ = CASES["revoked"]
    bits = set_bit(new_bitstring(), 5, True)
    unsigned = build_status_list_credential(LIST, KEY.public_key.did_key, "revocation", bits,
                                            NOW - timedelta(days=20), valid_until=NOW - timedelta(days=1))
    expired_list = sign_credential(unsigned, KEY, loader=LOADER, created=NOW - timedelta(days=20))
    assert _verify(credential, {LIST: json.dumps(expired_list).encode()}).check("status").code \
        == "STATUS_LIST_INVALID"
    forged = copy.deepcopy(expired_list)
    forged[CRED + "validUntil"] = {"@value": forged.pop("validUntil"), "@type": XSD_DATETIME}
    assert _graph(forged) == _graph(expired_list)
    report = _verify(credential, {LIST: json.dumps(forged).encode()})
    assert not report.verified and report.check("status").code == "STATUS_LIST_INVALID"
    assert "re-spelled" in report.check("status").message or "JSON_RESPELLED" in report.check("status").message \
        or "spelling" in report.check("status").message
