"""Structural fuzzing of the whole verification pipeline: any JSON shape gets a report, never a crash.

The byte-level fuzzers (test_corpus) stop at reading. Here hostile *structure*
goes all the way through: real credentials — ours, the spec's examples, and
the ones other implementations published — have values anywhere in their tree
replaced by arbitrary JSON, keys deleted, or known VC/OB keys inserted with
arbitrary values. Every run must end in a report (the web page and JSON shape
included); a ``TypeError`` on a list where a string was expected is exactly
the bug this looks for.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier.respellings import respell

from errors import BadgesmithError
from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.recipient import identity_object
from issuer.badge.sign import sign_credential
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from verifier.fetch import DictFetch, Offline, layered
from verifier.pipeline import Verifier, VerifyOptions
from verifier.report import Report
from verifier.web import describe

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
LOADER = offline_loader()


def _our_credential() -> dict:
    key = KeyPair.from_seed(bytes(range(32)))
    achievement = {"id": "https://badges.example.org/achievements/storytime", "type": ["Achievement"],
                   "name": "Storytime", "description": "A webinar.", "criteria": {"narrative": "Attend."},
                   "achievementType": "Course", "creditsAvailable": 1.5}
    credential = build_credential(
        issuer={"id": key.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        achievement=achievement, award=Award(credits_earned=1.5), now=NOW,
        recipient=Recipient(identity=identity_object("jane@example.org", salt="0" * 32)))
    credential["relatedResource"] = [{"id": "https://badges.example.org/syllabus", "digestSRI": "sha256-AAAA"}]
    status = "https://badges.example.org/status/revocation/1"
    credential["credentialStatus"] = {"id": f"{status}#5", "type": "BitstringStatusListEntry",
                                      "statusPurpose": "revocation", "statusListIndex": "5",
                                      "statusListCredential": status}
    return sign_credential(credential, key, loader=LOADER, created=NOW)


def _seeds() -> list[dict]:
    seeds = [_our_credential()]
    folders = [SHARED / "spec" / "examples", SHARED / "real-world" / "credentials"]
    for path in sorted(p for folder in folders if folder.exists() for p in folder.rglob("*.json")):
        try:
            document = json.loads(path.read_text("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(document, dict) and ("credentialSubject" in document or "proof" in document):
            seeds.append(document)
    return seeds


SEEDS = _seeds()
KEYS = ["id", "type", "@context", "issuer", "credentialSubject", "achievement", "credentialStatus",
        "statusListCredential", "statusListIndex", "statusPurpose", "proof", "verificationMethod", "cryptosuite",
        "proofValue", "proofPurpose", "created", "previousProof", "validFrom", "validUntil", "issuanceDate",
        "expirationDate", "relatedResource", "digestSRI", "digestMultibase", "credentialSchema", "refreshService",
        "termsOfUse", "evidence", "name", "description", "endorsement", "endorsementJwt", "association",
        "associationType", "sourceId", "targetId", "verifiableCredential", "identifier", "identityHash",
        "image", "creditsEarned", "creditsAvailable", "result", "criteria", "achievementType", "@value",
        "@language", "@id", "@type", "encodedList", "holder", "challenge", "domain", "url", "email"]
INTERESTING = ["", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
               "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
               "did:web:badges.example.org", "https://badges.example.org/status/revocation/1",
               "https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
               "VerifiableCredential", "OpenBadgeCredential", "DataIntegrityProof", "eddsa-rdfc-2022",
               "Ed25519Signature2020", "BitstringStatusListEntry", "StatusList2021Entry", "ClrCredential",
               "EndorsementCredential", "2026-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "z", "u", "sha384-",
               "zzzz", "eyJhbGciOiJFZERTQSJ9.e30.", "revocation", "suspension", "1", "-1", "1e400", "\u0000"]

_scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | st.sampled_from(INTERESTING))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=3),
                       max_leaves=8)


def _containers(node, path=()):
    """Every (path, container) in the tree, so a mutation can land at any depth."""
    yield path, node
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        if isinstance(child, (dict, list)):
            yield from _containers(child, (*path, key))


@st.composite
def mutated_credentials(draw) -> dict:
    # Half the time our own credential: it carries every optional part (status, related resources).
    return mutate(draw, draw(st.sampled_from(SEEDS[:1] * len(SEEDS) + SEEDS)))


def mutate(draw, seed: dict) -> dict:
    """A copy of ``seed`` with one to four structural mutations drawn with ``draw``."""
    document = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        _, container = draw(st.sampled_from(list(_containers(document))))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        if isinstance(container, dict):
            keys = list(container)
            if action == "insert" or not keys:
                container[draw(st.sampled_from(KEYS))] = draw(_values)
            elif action == "delete":
                del container[draw(st.sampled_from(keys))]
            else:
                container[draw(st.sampled_from(keys))] = draw(_values)
        elif isinstance(container, list):
            if action == "insert" or not container:
                container.insert(draw(st.integers(0, len(container))), draw(_values))
            elif action == "delete":
                del container[draw(st.integers(0, len(container) - 1))]
            else:
                container[draw(st.integers(0, len(container) - 1))] = draw(_values)
    return document


def _verifier() -> Verifier:
    documents = DictFetch({"https://badges.example.org/syllabus": b"a syllabus"})
    return Verifier(loader=LOADER, fetch=layered(documents, Offline()), now=NOW,
                    trust={"did:web:badges.example.org": "Example"},
                    options=VerifyOptions(accept_unbound_keys=True))


def test_the_seeds_include_ours_the_specs_and_the_real_world_ones():
    assert len(SEEDS) > 10 if SHARED.exists() else len(SEEDS) == 1
    report = _verifier().verify_credential(SEEDS[0])
    assert report.check("proof").outcome == "passed"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(mutated_credentials(), st.sampled_from([None, "jane@example.org"]))
def test_any_structure_gets_a_report_never_a_crash(credential, email):
    try:
        report = _verifier().verify_credential(credential, email=email)
    except BadgesmithError:
        return  # a refusal with a code is an answer too
    assert isinstance(report, Report)
    json.dumps(report.to_dict())
    report.to_text()
    describe(report, email=email)


PRESENTATION = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                "verifiableCredential": [SEEDS[0], {"@context": "https://www.w3.org/ns/credentials/v2",
                                                    "type": "EnvelopedVerifiableCredential",
                                                    "id": "data:application/vc+jwt,eyJhbGciOiJFZERTQSJ9.e30.AA"}]}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(st.data())
def test_any_presentation_structure_gets_a_report_never_a_crash(data):
    presentation = mutate(data.draw, PRESENTATION)
    try:
        report = _verifier().verify_bytes(json.dumps(presentation).encode())
    except BadgesmithError:
        return
    assert isinstance(report, Report)
    json.dumps(report.to_dict())
    describe(report, email=None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(st.sampled_from(SEEDS), st.data())
def test_respelled_seeds_get_a_report_and_never_pass_a_check_the_original_failed(seed, data):
    """Re-spellings of every seed (ours, the spec's, the real world's): a report, never a crash, never better."""

    respelled = json.loads(json.dumps(seed))
    for _ in range(data.draw(st.integers(1, 3))):
        respell(respelled, data)
    try:
        original = _verifier().verify_credential(seed)
        report = _verifier().verify_credential(respelled)
    except BadgesmithError:
        return
    json.dumps(report.to_dict())
    report.to_text()
    if report.check("context").code == "JSON_RESPELLED":
        assert not report.verified
        return
    failed = {c.check for c in original.checks if c.outcome == "failed"}
    assert not any(c.outcome == "passed" and c.check in failed for c in report.checks), report.to_text()
