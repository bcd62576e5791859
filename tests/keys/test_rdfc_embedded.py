"""keys.rdfc on documents that embed whole credentials (a CLR 2.0 transcript).

The fast path follows embedded ``@context``s and ``@graph`` containers (the
embedded credentials' proofs); a hypothesis differential test holds it to
plain pyld, and the transcript-sized case must not fall back to pyld.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from errors import Code, CredentialError
from keys import _rdfc_fast, rdfc
from keys.rdfc import DEFAULT_LIMITS, canonicalize
from schemas.loader import offline_loader

VECTOR = Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples" / "clr-v2p0-impl-guide-vector"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
CLR = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"

LOADER = offline_loader()


def plain_pyld(document) -> str:
    return jsonld.normalize(copy.deepcopy(document), {
        "algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": LOADER, "base": None})


def _outcome(fn):
    try:
        return fn()
    except CredentialError as error:
        return ("error", error.code)


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
iri = st.sampled_from(["https://example.edu/a", "urn:uuid:0d7c3cb4-2d8a-4c7e-9c57-0c1f7f1d3a10",
                       "did:example:ebfeb1f712ebc6f1c276e12ec21", "https://example.edu/issuers/565049"])
proof = st.fixed_dictionaries(
    {"type": st.just("DataIntegrityProof"), "cryptosuite": st.just("eddsa-rdfc-2022"),
     "proofPurpose": st.just("assertionMethod"), "verificationMethod": iri, "proofValue": text},
    optional={"created": st.just("2026-03-01T09:00:00Z"), "id": iri})
identity = st.fixed_dictionaries({"type": st.just("IdentityObject"), "identityHash": text,
                                  "identityType": st.sampled_from(["emailAddress", "name"]),
                                  "hashed": st.booleans()})
achievement = st.fixed_dictionaries(
    {"id": iri, "type": st.just(["Achievement"]), "name": text},
    optional={"criteria": st.fixed_dictionaries({"narrative": text}), "creditsAvailable": st.sampled_from([1.5, 12])})
embedded = st.fixed_dictionaries(
    {
        # a string, the usual list, an older data model (protected terms clash: an error
        # both ways), or an inline context object (pyld path)
        "@context": st.sampled_from([[VC_V2, OB_303, OB_EXT], [VC_V2, OB_303], VC_V2, [VC_V1, OB_303],
                                     [VC_V2, OB_303, {"x": "https://example.edu/x"}]]),
        "type": st.just(["VerifiableCredential", "OpenBadgeCredential"]),
        "issuer": st.one_of(iri, st.fixed_dictionaries({"id": iri, "type": st.just(["Profile"]), "name": text})),
        "credentialSubject": st.fixed_dictionaries(
            {"type": st.just(["AchievementSubject"]), "achievement": achievement},
            optional={"id": iri, "identifier": st.lists(identity, max_size=2)}),
    },
    optional={"id": iri, "name": text, "validFrom": st.just("2026-01-01T00:00:00Z"),
              "proof": st.one_of(proof, st.lists(proof, max_size=2))},
)
transcript = st.fixed_dictionaries(
    {
        "@context": st.sampled_from([[VC_V2, CLR, OB_303], [VC_V2, CLR, OB_303, OB_EXT]]),
        "type": st.just(["VerifiableCredential", "ClrCredential"]),
        "issuer": st.fixed_dictionaries({"id": iri, "type": st.just(["Profile"]), "name": text}),
        "name": text,
        "credentialSubject": st.fixed_dictionaries(
            {"type": st.just(["ClrSubject"]), "verifiableCredential": st.lists(embedded, min_size=1, max_size=3)},
            optional={"id": iri, "identifier": st.lists(identity, max_size=2),
                      "achievement": st.lists(achievement, max_size=2),
                      "association": st.lists(st.fixed_dictionaries(
                          {"type": st.just("Association"), "associationType": st.just("isPartOf"),
                           "sourceId": iri, "targetId": iri}), max_size=2)}),
    },
    optional={"id": iri, "validFrom": st.just("2026-11-23T00:00:00Z"), "proof": st.lists(proof, max_size=1)},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript)
def test_canonicalize_equals_plain_pyld_for_transcripts_with_embedded_credentials(document):
    ours = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=LOADER, spelling=False))
    strict = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=LOADER))
    assert strict == ours or strict == ("error", Code.JSON_RESPELLED)  # the spelling rule only refuses
    if isinstance(ours, tuple):
        assert ours[1] in (Code.UNDEFINED_TERM, Code.JSONLD_INVALID)
    else:
        assert ours == plain_pyld(document)


def test_clr_vector_with_its_signed_credential_takes_the_fast_path():
    document = json.loads((VECTOR / "signed.json").read_text("utf-8"))
    quads = _rdfc_fast.quads_fast(document, rdfc._state_for(LOADER), DEFAULT_LIMITS.max_depth)
    assert len(quads) == len(plain_pyld(document).splitlines())
    assert canonicalize(document, loader=LOADER) == plain_pyld(document)


def test_embedded_proofs_become_named_graphs_in_fast_path():
    document = json.loads((VECTOR / "credential.json").read_text("utf-8"))
    quads = _rdfc_fast.quads_fast(document, rdfc._state_for(LOADER), DEFAULT_LIMITS.max_depth)
    graphs = {g for *_, g in quads if g is not None}
    assert len(graphs) == 1  # the embedded credential's one proof
    assert canonicalize(document, loader=LOADER) == (VECTOR / "document-canon.nq").read_text("utf-8")
