"""keys.rdfc: canonical N-Quads byte for byte, JSON-LD safe mode, limits.

Published vectors are checked byte for byte; a hypothesis differential test
holds the fast path (and our RDFC-1.0 labelling) to plain pyld's output.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from errors import Code, CredentialError, InputTooLarge
from keys import _rdfc_fast, _rdfc_pyld, rdfc
from keys.rdfc import DEFAULT_LIMITS, Limits, canonicalize
from schemas.loader import OfflineLoader, offline_loader, pinned_contexts

SHARED = Path(__file__).resolve().parents[3] / "shared"
SPEC = SHARED / "spec"
EXAMPLES = SPEC / "examples"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
OB_EXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
XSD_FLOAT = "<https://www.w3.org/2001/XMLSchema#float>"  # sic: https in the OB context


def _read(path: Path):
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def loader():
    return offline_loader()


@pytest.fixture(scope="module")
def examples_loader():
    """The pinned contexts plus the W3C examples context (test vectors only)."""
    return offline_loader(extra={EXAMPLES_V2: _read(SPEC / "contexts" / "w3c-credentials-examples-v2.jsonld")})


def plain_pyld(document, loader) -> str:
    """The reference: pyld's normalize, same loader, no made-up base."""
    return jsonld.normalize(copy.deepcopy(document), {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": loader,
        "base": None,
    })


def via_pyld_only(document, loader) -> str:
    """canonicalize() with the fast path switched off (pyld + safe mode)."""
    quads = _rdfc_pyld.quads_via_pyld(copy.deepcopy(document), rdfc._state_for(loader))
    return rdfc.canonize_quads(quads, max_blank_nodes=DEFAULT_LIMITS.max_blank_nodes,
                               max_hash_work=DEFAULT_LIMITS.max_hash_work)


def base_credential() -> dict:
    return _read(EXAMPLES / "ob-v3p0-impl-guide-vector" / "credential.json")


# --- published vectors, byte for byte -------------------------------------------------

W3C = EXAMPLES / "w3c-vc-di-eddsa"
VECTORS = [
    pytest.param(W3C / "unsigned.json", W3C / "eddsa-rdfc-2022" / "canonDocDataInt.txt", id="w3c-document"),
    pytest.param(W3C / "eddsa-rdfc-2022" / "proofConfigDataInt.json",
                 W3C / "eddsa-rdfc-2022" / "proofCanonDataInt.txt", id="w3c-proof-config"),
    pytest.param(EXAMPLES / "ob-v3p0-impl-guide-vector" / "credential.json",
                 EXAMPLES / "ob-v3p0-impl-guide-vector" / "document-canon.nq", id="ob-document"),
    pytest.param(EXAMPLES / "clr-v2p0-impl-guide-vector" / "credential.json",
                 EXAMPLES / "clr-v2p0-impl-guide-vector" / "document-canon.nq", id="clr-document"),
]


@pytest.mark.parametrize(("document", "expected"), VECTORS)
def test_canonicalize_reproduces_published_vector(document, expected, examples_loader):
    assert canonicalize(_read(document), loader=examples_loader) == expected.read_text("utf-8")


@pytest.mark.parametrize("vector", ["ob-v3p0-impl-guide-vector", "clr-v2p0-impl-guide-vector"])
def test_canonicalize_proof_options_with_document_context_reproduces_vector(vector, loader):
    options = _read(EXAMPLES / vector / "proof-options.json")
    options["@context"] = _read(EXAMPLES / vector / "credential.json")["@context"]
    assert canonicalize(options, loader=loader) == (EXAMPLES / vector / "proof-canon.nq").read_text("utf-8")


@pytest.mark.parametrize(("value", "lexical"), [
    (36, '"36"'), (2.0, '"2"'), (1.5, '"1.5E0"'), (0.6, '"6.0E-1"'), (1e21, '"1.0E21"'),
])
def test_credits_are_typed_float_like_pyld_and_jsonld_js(value, lexical, loader):
    document = base_credential()
    document["credentialSubject"]["achievement"]["creditsAvailable"] = value
    out = canonicalize(document, loader=loader)
    assert f"creditsAvailable> {lexical}^^{XSD_FLOAT} ." in out
    assert out == plain_pyld(document, loader)


# --- safe mode ------------------------------------------------------------------------

def _undefined(document, loader) -> CredentialError:
    with pytest.raises(CredentialError) as caught:
        canonicalize(document, loader=loader)
    return caught.value


def test_extra_top_level_key_is_undefined_term(loader):
    document = base_credential()
    document["foo"] = "bar"
    error = _undefined(document, loader)
    assert error.code is Code.UNDEFINED_TERM
    assert error.details == {"term": "foo", "path": "foo"}


def test_undefined_key_in_credential_subject_names_term_and_path(loader):
    document = base_credential()
    document["credentialSubject"]["foo"] = 1
    error = _undefined(document, loader)
    assert error.code is Code.UNDEFINED_TERM
    assert error.details == {"term": "foo", "path": "credentialSubject.foo"}
    assert str(error) == ("The term 'foo' at credentialSubject.foo is not defined by any of the "
                          "credential's contexts, so it would not be signed.")


def test_undefined_key_inside_array_item_has_index_in_path(loader):
    document = base_credential()
    document["credentialSubject"]["identifier"] = [
        {"type": "IdentityObject", "identityHash": "x", "identityType": "emailAddress", "hashed": False},
        {"type": "IdentityObject", "identityHash": "y", "identityType": "emailAddress", "colour": "red"},
    ]
    error = _undefined(document, loader)
    assert error.details == {"term": "colour", "path": "credentialSubject.identifier[1].colour"}


def test_undefined_type_value_is_undefined_term(loader):
    """1EdTech's simple-err-type.json expects this credential to be invalid."""
    error = _undefined(_read(EXAMPLES / "1edtech-validator-ob30" / "simple-err-type.json"), loader)
    assert error.code is Code.UNDEFINED_TERM
    assert error.details == {"term": "OtherCredential", "path": "type[1]"}


def test_dcc_safe_mode_breaker_fails(loader):
    document = _read(SHARED / "real-world" / "credentials" / "dcc-verifier-core" / "vcore-safe-mode-breaker.json")
    assert _undefined(document, loader).code is Code.UNDEFINED_TERM
    document = {k: v for k, v in document.items() if k not in ("endorsementJwt", "proof")}
    document["issuer"].pop("endorsementJwt")
    for node in (document["credentialSubject"]["achievement"], document["credentialSubject"]["achievement"]["creator"],
                 document["credentialSubject"]["source"]):
        node.pop("endorsementJwt")
    error = _undefined(document, loader)  # StatusList2021Entry is not in VC 2.0 or OB 3.0
    assert error.details == {"term": "StatusList2021Entry", "path": "credentialStatus.type"}


@pytest.mark.parametrize("name", [
    "achievement-alignment-case", "achievement-alignment-ctdl", "basic-openbadgecredential",
    "complete-openbadgecredential", "docformat-sample-openbadgecredential", "endorsementcredential",
    "skill-assertion-case", "skill-assertion-ctdl",
])
def test_spec_unsigned_examples_pass_safe_mode(name, loader):
    document = _read(EXAMPLES / "ob-v3p0-spec" / "unsigned" / f"{name}.json")
    assert canonicalize(document, loader=loader) == plain_pyld(document, loader)


@pytest.mark.parametrize("letter", "abcd")
def test_spec_equality_examples_name_a_context_that_does_not_exist(letter, loader):
    document = _read(EXAMPLES / "ob-v3p0-spec" / "unsigned" / f"equality-sample-credential-{letter}.json")
    assert _undefined(document, loader).code is Code.CONTEXT_NOT_ALLOWED


@pytest.mark.parametrize(("edit", "path"), [
    (lambda d: d["credentialSubject"].__setitem__("id", "learner-1"), "credentialSubject.id"),
    (lambda d: d["credentialSubject"]["achievement"].__setitem__("image", "badge.png"),
     "credentialSubject.achievement.image"),
    (lambda d: d.__setitem__("id", "credentials/1"), "id"),
    (lambda d: d.__setitem__("id", "https://example.com/has space"), "id"),
])
def test_relative_iri_is_refused_not_resolved_against_a_made_up_base(edit, path, loader):
    document = base_credential()
    edit(document)
    error = _undefined(document, loader)
    assert error.code is Code.JSONLD_INVALID
    assert error.details["path"] == path
    assert "example.org/base" not in str(error)


def test_fast_path_and_pyld_path_report_the_same_safe_mode_error(loader):
    for edit in (lambda d: d["credentialSubject"]["achievement"]["criteria"].__setitem__("x", 1),
                 lambda d: d["issuer"].__setitem__("type", ["Profile", "Org"]),
                 lambda d: d["credentialSubject"].__setitem__("id", "rel")):
        document = base_credential()
        edit(document)
        with pytest.raises(CredentialError) as fast:
            _rdfc_fast.quads_fast(copy.deepcopy(document), rdfc._state_for(loader), DEFAULT_LIMITS.max_depth)
        with pytest.raises(CredentialError) as slow:
            via_pyld_only(document, loader)
        assert (fast.value.code, fast.value.details) == (slow.value.code, slow.value.details)


# --- loader and pyld errors -----------------------------------------------------------

def test_refused_context_comes_out_unchanged(loader):
    document = base_credential()
    document["@context"].append("https://evil.example/context.json")
    error = _undefined(document, loader)
    assert type(error) is CredentialError
    assert error.code is Code.CONTEXT_NOT_ALLOWED
    assert error.details == {"url": "https://evil.example/context.json"}


def test_context_loaded_by_one_loader_is_not_served_to_a_stricter_one(examples_loader, loader):
    document = _read(W3C / "unsigned.json")
    canonicalize(document, loader=examples_loader)
    assert _undefined(document, loader).code is Code.CONTEXT_NOT_ALLOWED


@pytest.mark.parametrize("document", [
    {"@context": [VC_V2, OB_303], "id": 5, "type": "VerifiableCredential"},
    {"@context": [VC_V2, OB_303], "type": "VerifiableCredential", "name": {"@value": "x", "@type": "https://e.org/t", "@language": "en"}},
    {"@context": 7, "name": "x"},
    {"@context": [VC_V2, {"@version": 2.0}], "name": "x"},
])
def test_invalid_jsonld_is_one_readable_jsonld_invalid_error(document, loader):
    error = _undefined(document, loader)
    assert error.code is Code.JSONLD_INVALID
    assert "\n" not in str(error) and "Traceback" not in str(error)
    assert error.__class__.__module__ == "errors"


def test_nothing_to_sign_is_jsonld_invalid(loader):
    assert _undefined({"@context": [VC_V2], "id": "urn:uuid:1"}, loader).code is Code.JSONLD_INVALID


@pytest.mark.parametrize("document", [[1, 2], "text", None])
def test_non_object_is_refused(document, loader):
    assert _undefined(document, loader).code is Code.JSON_NOT_OBJECT


def test_nan_is_not_json(loader):
    document = base_credential()
    document["credentialSubject"]["achievement"]["creditsAvailable"] = float("nan")
    assert _undefined(document, loader).code is Code.JSONLD_INVALID


# --- limits ---------------------------------------------------------------------------

def test_document_over_byte_limit_is_input_too_large_before_jsonld(loader):
    document = base_credential()
    document["@context"].append("https://evil.example/never-loaded")  # would fail later
    with pytest.raises(InputTooLarge) as caught:
        canonicalize(document, loader=loader, limits=Limits(max_bytes=500))
    assert caught.value.code is Code.INPUT_TOO_LARGE


def test_document_over_depth_limit_is_too_deep(loader):
    document = base_credential()
    deep: dict = {"narrative": "x"}
    for _ in range(100):
        deep = {"narrative": [deep]}
    document["credentialSubject"]["achievement"]["criteria"] = deep
    with pytest.raises(InputTooLarge) as caught:
        canonicalize(document, loader=loader)
    assert caught.value.code is Code.JSON_TOO_DEEP


def test_too_many_blank_nodes_is_canonicalization_limit(loader):
    document = base_credential()
    document["evidence"] = [{"type": "Evidence", "name": f"e{i}"} for i in range(20)]
    with pytest.raises(CredentialError) as caught:
        canonicalize(document, loader=loader, limits=Limits(max_blank_nodes=10))
    assert caught.value.code is Code.CANONICALIZATION_LIMIT


def _linked_blank_nodes(edges: dict[int, list[int]]) -> dict:
    """A credential whose subjects are blank nodes linked by ``knows`` edges."""
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "id": "urn:uuid:6f1b1f7e-0000-4000-8000-000000000000",
        "type": ["VerifiableCredential"],
        "credentialSubject": [
            {"id": f"_:n{i}", "knows": [{"id": f"_:n{j}"} for j in targets]}
            for i, targets in edges.items()
        ],
    }


def test_complete_graph_of_identical_blank_nodes_fails_fast(examples_loader):
    """12 mutually linked, indistinguishable blank nodes: 11! permutations per node."""
    nodes = range(12)
    document = _linked_blank_nodes({i: [j for j in nodes if j != i] for i in nodes})
    with pytest.raises(CredentialError) as caught:
        canonicalize(document, loader=examples_loader)
    assert caught.value.code is Code.CANONICALIZATION_LIMIT


def test_cycles_of_identical_blank_nodes_needing_n_degree_match_pyld(examples_loader):
    # two 5-cycles: every node looks alike at first degree
    edges = {i: [(i + 1) % 5] for i in range(5)} | {5 + i: [5 + (i + 1) % 5] for i in range(5)}
    document = _linked_blank_nodes(edges)
    assert canonicalize(document, loader=examples_loader) == plain_pyld(document, examples_loader)


def test_large_cycle_of_identical_blank_nodes_fails_fast(examples_loader):
    document = _linked_blank_nodes({i: [(i + 1) % 40, (i + 2) % 40] for i in range(40)})
    with pytest.raises(CredentialError) as caught:
        canonicalize(document, loader=examples_loader, limits=Limits(max_hash_work=2_000))
    assert caught.value.code is Code.CANONICALIZATION_LIMIT


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.integers(0, 5), st.lists(st.integers(0, 5), max_size=3), min_size=1, max_size=6))
def test_random_blank_node_graphs_match_pyld(edges):
    """Our RDFC-1.0 labelling (N-degree included) equals pyld's."""
    examples = offline_loader(extra={EXAMPLES_V2: _read(SPEC / "contexts" / "w3c-credentials-examples-v2.jsonld")})
    document = _linked_blank_nodes(edges)  # may name one node twice in a list: the algorithm, not the spelling
    assert canonicalize(document, loader=examples, spelling=False) == plain_pyld(document, examples)


# --- differential: varied OB credentials ----------------------------------------------

# Control characters are left out: pyld writes them raw, RDFC-1.0 (and rdf-canonize) escapes
# them, and Badgesmith follows RDFC-1.0 (test_control_characters_are_escaped_as_rdfc_requires).
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
iri = st.sampled_from(["https://example.edu/a", "urn:uuid:0d7c3cb4-2d8a-4c7e-9c57-0c1f7f1d3a10",
                       "did:example:ebfeb1f712ebc6f1c276e12ec21", "https://example.edu/issuers/565049",
                       "https://example.edu/a?q=ü#frag"])
number = st.one_of(
    st.sampled_from([36, 1.5, 2.0, 0.6, 1e21, 1e-7, -3, 0, 10**22, 123456789012, 1.0e20, 2.5e-3]),
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
scalar = st.one_of(text, number, st.booleans())


def maybe(strategy):
    return st.one_of(st.none(), strategy)


def nested(strategy):
    """A value, a list of values, or a list with a nested list (JSON-LD flattens it)."""
    return st.one_of(strategy, st.lists(strategy, max_size=3),
                     st.lists(st.one_of(strategy, st.lists(strategy, max_size=2)), max_size=3))


image = st.fixed_dictionaries({"id": iri, "type": st.just("Image")}, optional={"caption": text})
identity = st.fixed_dictionaries(
    {"type": st.just("IdentityObject"), "identityHash": text, "identityType": st.just("emailAddress")},
    optional={"hashed": st.one_of(st.booleans(), st.just("true")), "salt": maybe(text)},
)
profile = st.fixed_dictionaries(
    {"id": iri, "type": st.sampled_from(["Profile", ["Profile"]])},
    optional={"name": nested(text), "url": iri, "email": text, "description": maybe(text), "image": image},
)
achievement = st.fixed_dictionaries(
    {"type": st.sampled_from(["Achievement", ["Achievement"]]), "name": text},
    optional={
        "id": iri, "description": maybe(text), "achievementType": st.sampled_from(["Course", "Certificate"]),
        "criteria": st.fixed_dictionaries({"narrative": text}, optional={"id": iri}),
        "image": st.one_of(image, iri), "creditsAvailable": nested(st.one_of(number, text)),
        "tag": nested(text), "creator": profile, "humanCode": scalar,
        "resultDescription": st.lists(st.fixed_dictionaries(  # allowedValue is an @list: pyld path
            {"id": iri, "type": st.just(["ResultDescription"]), "name": text,
             "resultType": st.just("LetterGrade")}, optional={"allowedValue": nested(text)}), max_size=2),
        "alignment": st.lists(st.fixed_dictionaries(
            {"type": st.just(["Alignment"]), "targetName": text, "targetUrl": iri}), max_size=2),
    },
)
subject = st.fixed_dictionaries(
    {"type": st.sampled_from(["AchievementSubject", ["AchievementSubject"]]), "achievement": achievement},
    optional={"id": iri, "identifier": st.lists(identity, max_size=8), "creditsEarned": nested(number),
              "activityStartDate": text, "source": st.one_of(profile, iri)},
)
credential = st.fixed_dictionaries(
    {
        "@context": st.sampled_from([[VC_V2, OB_303], [VC_V2, OB_303, OB_EXT], [VC_V2, OB_302]]),
        "type": st.sampled_from([["VerifiableCredential", "OpenBadgeCredential"],
                                 ["VerifiableCredential", "AchievementCredential"],
                                 ["VerifiableCredential", "OpenBadgeCredential", "AchievementCredential"]]),
        "issuer": st.one_of(profile, iri),
        "credentialSubject": st.one_of(subject, st.lists(subject, min_size=1, max_size=2)),
    },
    optional={
        "id": iri, "description": maybe(text),
        # a language-tagged value object takes the pyld path
        "name": st.one_of(nested(text), st.fixed_dictionaries(
            {"@value": text, "@language": st.sampled_from(["en", "de-CH", "fr"])})),
        # a proof is a named graph (@container @graph): the pyld path
        "proof": st.lists(st.fixed_dictionaries(
            {"type": st.just("DataIntegrityProof"), "cryptosuite": st.just("eddsa-rdfc-2022"),
             "created": st.just("2026-03-01T09:00:00Z"), "proofPurpose": st.just("assertionMethod"),
             "verificationMethod": iri, "proofValue": text}), max_size=2),
        "validFrom": st.sampled_from(["2010-01-01T00:00:00Z", "2026-03-01T09:00:00.123Z", "not a date"]),
        "validUntil": text,
        "credentialStatus": st.fixed_dictionaries(
            {"id": iri, "type": st.just("BitstringStatusListEntry"), "statusPurpose": text,
             "statusListIndex": st.one_of(text, number), "statusListCredential": iri}),
        "credentialSchema": st.lists(st.fixed_dictionaries(
            {"id": iri, "type": st.sampled_from(["JsonSchema", "1EdTechJsonSchemaValidator2019"])}), max_size=2),
        "evidence": st.lists(st.fixed_dictionaries(
            {"type": st.sampled_from(["Evidence", ["Evidence"]])},
            optional={"id": iri, "name": text, "description": text, "genre": text}), max_size=3),
    },
)


def _outcome(fn):
    try:
        return fn()
    except CredentialError as error:
        return ("error", error.code)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential)
def test_canonicalize_equals_plain_pyld_for_varied_credentials(document):
    _assert_plain_pyld_or_refused(document, offline_loader())


def _assert_plain_pyld_or_refused(document, loader):
    """canonicalize() is plain pyld's output, or refuses what pyld would have signed silently; returns
    the outcome with the spelling rule on."""
    ours = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader, spelling=False))
    strict = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader))
    assert strict == ours or strict == ("error", Code.JSON_RESPELLED)  # the spelling rule only refuses
    if isinstance(ours, tuple):
        # refused: only for safe-mode reasons pyld would have hidden
        assert ours[1] in (Code.UNDEFINED_TERM, Code.JSONLD_INVALID)
        assert ours == _outcome(lambda: via_pyld_only(document, loader))
    else:
        assert ours == plain_pyld(document, loader)
        assert ours == via_pyld_only(document, loader)
    return strict


def test_demo_shaped_credential_takes_the_fast_path(loader):
    document = base_credential()
    quads = _rdfc_fast.quads_fast(document, rdfc._state_for(loader), DEFAULT_LIMITS.max_depth)
    assert len(quads) == len(plain_pyld(document, loader).splitlines())


def test_concurrent_canonicalization_matches_sequential():
    """Shared per-loader caches stay consistent under threads (gunicorn --threads)."""
    from concurrent.futures import ThreadPoolExecutor

    loader = offline_loader(extra={EXAMPLES_V2: _read(SPEC / "contexts" / "w3c-credentials-examples-v2.jsonld")})
    documents = []
    for i in range(40):
        document = base_credential()
        document["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        if i % 3 == 0:  # some take the pyld path
            document["name"] = {"@value": f"Teamwork {i}", "@language": "en"}
        documents.append(document)
    documents.append(_read(W3C / "unsigned.json"))
    expected = [plain_pyld(d, loader) for d in documents]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda d: canonicalize(d, loader=loader), documents * 3))
    assert got == expected * 3


def test_canonicalize_does_not_modify_its_input(loader):
    for document in (base_credential(), _read(EXAMPLES / "ob-v3p0-spec" / "unsigned" / "complete-openbadgecredential.json")):
        before = copy.deepcopy(document)
        canonicalize(document, loader=loader)
        assert document == before


@pytest.mark.parametrize("char, escaped", [
    ("\b", "\\b"), ("\f", "\\f"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\x00", "\\u0000"),
    ("\x01", "\\u0001"), ("\x1f", "\\u001F"), ("\x7f", "\\u007F"), ('"', '\\"'), ("\\", "\\\\"),
    ("\u2028", "\u2028"), ("é", "é"),
])
def test_control_characters_are_escaped_as_rdfc_requires(char, escaped):
    """RDFC-1.0 canonical N-Quads escape every control character (as rdf-canonize does; pyld does not)."""
    document = {"@context": {"name": "https://schema.org/name"}, "@id": "urn:x:1", "name": f"a{char}b"}
    assert canonicalize(document, loader=offline_loader()) == f'<urn:x:1> <https://schema.org/name> "a{escaped}b" .\n'


@pytest.mark.parametrize("nested", [False, True])
def test_a_context_list_longer_than_the_limit_is_refused_before_any_json_ld_work(loader, nested):
    # Each entry clones the active context: ten thousand inline contexts took seconds.
    contexts = ["https://www.w3.org/ns/credentials/v2"] + [{f"t{n}": f"https://example.org/{n}"}
                                                            for n in range(DEFAULT_LIMITS.max_context_entries)]
    document = {"@context": contexts[:DEFAULT_LIMITS.max_context_entries], "type": ["VerifiableCredential"],
                "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:subject"}}
    canonicalize(document, loader=loader)  # exactly at the limit: canonicalized
    if nested:
        document["credentialSubject"]["@context"] = contexts
    else:
        document["@context"] = contexts
    with pytest.raises(CredentialError) as caught:
        canonicalize(document, loader=loader)
    assert caught.value.code is Code.CANONICALIZATION_LIMIT and "33 contexts" in caught.value.message


def test_a_list_of_thousands_of_values_is_refused_before_pyld_compares_them(loader):
    """pyld's duplicate test is quadratic per property: 5,000 tags beside a language-tagged name took 13 s."""
    import time

    document = base_credential()
    achievement = document["credentialSubject"]["achievement"]
    achievement["tag"] = [f"tag-{i}" for i in range(5_000)]
    achievement["name"] = {"@value": "Badge", "@language": "en"}  # forces the pyld path
    started = time.process_time()
    with pytest.raises(CredentialError) as caught:
        canonicalize(document, loader=loader)
    assert caught.value.code is Code.CANONICALIZATION_LIMIT
    assert "credentialSubject.achievement.tag" in caught.value.message
    assert time.process_time() - started < 5  # generous: refused before any JSON-LD work
    achievement["tag"] = achievement["tag"][:1_000]
    canonicalize(document, loader=loader)  # at the limit: canonicalized


# --- off the fast path: inline contexts and language-tagged values --------------------

VOCAB = "https://example.org/vocab#"
inline_context = st.fixed_dictionaries({}, optional={
    "nickname": st.sampled_from([VOCAB + "nickname", VOCAB + "alias"]),
    "title": st.sampled_from([{"@id": VOCAB + "title", "@container": "@language"},
                              {"@id": VOCAB + "title", "@container": ["@language", "@set"]},
                              {"@id": VOCAB + "title"}]),
    "rank": st.sampled_from([{"@id": VOCAB + "rank", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
                             VOCAB + "rank"]),
    "mentor": st.just({"@id": VOCAB + "mentor", "@type": "@id"}),
    # one string, a term under @vocab coercion and a (relative) IRI under @id coercion
    "Thing": st.just(VOCAB + "Thing"),
    "kind": st.just({"@id": VOCAB + "kind", "@type": "@vocab"}),
    "link": st.just({"@id": VOCAB + "link", "@type": "@id"}),
    "@language": st.sampled_from(["en", "fr-CA"]),
    "name": st.just("https://schema.org/name"),  # an inline alias for a pinned term: JSON_RESPELLED
})
language = st.sampled_from(["en", "fr", "de-CH", "not a tag!"])
tagged = st.fixed_dictionaries({"@value": text, "@language": language})
language_map = st.dictionaries(language, st.one_of(text, st.lists(text, max_size=2)), max_size=3)


@st.composite
def credential_off_the_fast_path(draw):
    """A varied credential plus inline contexts (top level or on the subject) and language-tagged values."""
    document = draw(credential)
    subject = document["credentialSubject"]
    subject = subject[0] if isinstance(subject, list) else subject
    context = draw(inline_context)
    if context:
        if draw(st.booleans()):
            document["@context"] = [*document["@context"], context]
        else:
            subject["@context"] = context
    extras = draw(st.fixed_dictionaries({}, optional={
        "nickname": st.one_of(text, tagged), "title": st.one_of(language_map, text, tagged),
        "rank": st.one_of(st.integers(0, 99), text), "mentor": iri,
        "kind": st.sampled_from(["Thing", "Achievement", VOCAB + "Other"]),
        "link": st.sampled_from(["Thing", "Achievement", "https://example.edu/a"])}))
    subject.update(extras)
    achievement = subject["achievement"]
    if draw(st.booleans()):
        achievement["name"] = draw(st.one_of(tagged, st.lists(tagged, min_size=1, max_size=2)))
    if draw(st.booleans()):
        achievement["description"] = draw(tagged)
    return document


def _pyld_only(fn):
    """Run ``fn`` with the fast path stepping aside for everything (pyld, safe mode, spelling rule)."""
    def step_aside(*args, **kwargs):
        raise _rdfc_fast.Unsupported()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rdfc, "quads_fast", step_aside)
        return fn()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential_off_the_fast_path())
def test_inline_contexts_and_language_values_equal_plain_pyld_on_both_paths(document):
    """Byte-identical to plain pyld; the spelling rule and safe mode give the same verdict on both paths.

    One loader for every example, so its caches (resolved and processed contexts, keyed by
    content and by active context) carry over from document to document as in a server.
    """
    loader = offline_loader()
    strict = _assert_plain_pyld_or_refused(document, loader)
    slow_strict = _pyld_only(lambda: _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader)))
    assert strict == slow_strict  # JSON_RESPELLED (or anything else) alike on the fast and the pyld path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential)
def test_the_spelling_rule_judges_alike_on_the_fast_and_the_pyld_path(document):
    loader = offline_loader()
    strict = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader))
    slow_strict = _pyld_only(lambda: _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader)))
    assert strict == slow_strict


def test_cached_contexts_never_leak_between_documents_that_define_a_term_differently(loader):
    """The same term, defined differently inline (IRI, coercion, language, container), alternating with the
    same loader: every result is plain pyld's, whatever was processed and remembered before."""
    definitions = [
        VOCAB + "nickname", VOCAB + "alias",
        {"@id": VOCAB + "nickname", "@type": "@id"},
        {"@id": VOCAB + "nickname", "@language": "fr"},
        {"@id": VOCAB + "nickname", "@container": "@language"},
    ]
    values = ["urn:uuid:0d7c3cb4-2d8a-4c7e-9c57-0c1f7f1d3a10", {"en": "Ann", "fr": ["Anne", "Annette"]}]
    documents = []
    for round_ in range(3):
        for i, definition in enumerate(definitions):
            for where in ("top", "subject"):
                document = base_credential()
                document["id"] = f"urn:uuid:00000000-0000-4000-8000-{round_:06d}{i:06d}"
                context = {"nickname": definition}
                if where == "top":
                    document["@context"] = [*document["@context"], context]
                else:
                    document["credentialSubject"]["@context"] = context
                value = values[1] if isinstance(definition, dict) and "@container" in definition else values[0]
                document["credentialSubject"]["nickname"] = value
                documents.append(document)
    for document in documents:
        assert canonicalize(copy.deepcopy(document), loader=loader) == plain_pyld(document, loader)


def test_a_term_expanded_with_vocab_is_not_reused_where_it_is_an_iri(loader):
    """The pyld path remembers expanded IRIs per context: in one node, the same string is a term where
    @vocab applies and a relative IRI where it does not, which safe mode refuses."""
    document = base_credential()
    document["@context"] = [*document["@context"], {
        "Thing": VOCAB + "Thing", "kind": {"@id": VOCAB + "kind", "@type": "@vocab"},
        "link": {"@id": VOCAB + "link", "@type": "@id"}}]
    document["credentialSubject"]["kind"] = "Thing"
    assert canonicalize(copy.deepcopy(document), loader=loader) == plain_pyld(document, loader)
    document["credentialSubject"]["link"] = "Thing"  # after 'kind' (keys are read in order)
    fresh = OfflineLoader(pinned_contexts())  # a loader that remembers nothing yet
    remembered = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader))
    assert remembered == _outcome(lambda: canonicalize(copy.deepcopy(document), loader=fresh))
    assert remembered == ("error", Code.JSONLD_INVALID)


def test_one_context_as_a_type_scoped_and_as_an_embedded_context_keeps_its_propagation(loader):
    """The same context, embedded in one node (it reaches the nodes inside) and scoped to a type on its
    sibling (it does not), applied to the same active context: each keeps its own reach."""
    scoped = {"detail": VOCAB + "detail"}
    document = base_credential()
    document["@context"] = [*document["@context"], {
        "Note": {"@id": VOCAB + "Note", "@context": scoped}, "inner": VOCAB + "inner"}]
    document["credentialSubject"]["inner"] = [
        {"@context": dict(scoped), "inner": {"detail": "reached"}},
        {"type": "Note", "inner": {"detail": "not reached: undefined here"}},
    ]
    fresh = OfflineLoader(pinned_contexts())
    outcome = _outcome(lambda: canonicalize(copy.deepcopy(document), loader=loader))
    assert outcome == _outcome(lambda: canonicalize(copy.deepcopy(document), loader=fresh))
    assert outcome == ("error", Code.UNDEFINED_TERM)
    del document["credentialSubject"]["inner"][1]["inner"]
    assert canonicalize(copy.deepcopy(document), loader=loader, spelling=False) == plain_pyld(document, loader)


# One loader for every example below: the fast path remembers a plan per node shape (keys, @context,
# type values) for its loader, so documents of one shape with other values reuse it.
_ONE_LOADER = offline_loader()
_EDITS = {
    "none": lambda d: None,
    "relative subject id": lambda d: _subjects(d)[0].__setitem__("id", "rel"),
    "undefined issuer type": lambda d: d["issuer"].__setitem__("type", ["Profile", "Org"])
    if isinstance(d["issuer"], dict) else None,
    "undefined type as a string": lambda d: _subjects(d)[0].__setitem__("type", "Subjekt"),
    "undefined key": lambda d: _subjects(d)[0]["achievement"].__setitem__("zzz", 1),
    "relative evidence id": lambda d: [e.__setitem__("id", "attendance/1") for e in d.get("evidence", [])],
}


def _subjects(document):
    subject = document["credentialSubject"]
    return subject if isinstance(subject, list) else [subject]


def _outcome_with_details(fn):
    try:
        return fn()
    except CredentialError as error:
        return ("error", error.code, error.details)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential, st.sampled_from(sorted(_EDITS)))
def test_remembered_node_plans_never_carry_over_to_another_document(document, edit):
    edited = copy.deepcopy(document)
    _EDITS[edit](edited)
    for each in (document, edited):
        ours = _outcome_with_details(lambda: canonicalize(copy.deepcopy(each), loader=_ONE_LOADER, spelling=False))
        assert ours == _outcome_with_details(lambda: via_pyld_only(each, _ONE_LOADER))
        _assert_plain_pyld_or_refused(each, _ONE_LOADER)


def test_only_plans_made_of_pinned_terms_are_remembered():
    # Hostile documents full of made-up keys must not fill the fast path's memory.
    loader = offline_loader()
    for i in range(40):
        document = base_credential()
        document["credentialSubject"][f"made-up-{i}"] = "x"
        with pytest.raises(CredentialError):
            canonicalize(document, loader=loader)
    canonicalize(base_credential(), loader=loader)
    compiled = rdfc._state_for(loader).fast
    remembered = [key for ctx in [compiled] + list(compiled.wrapped.values()) for key in ctx.plans]
    assert remembered and not any("made-up" in str(key) for key in remembered)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=12),
    st.builds(lambda prefix, rest: prefix + rest,
              st.sampled_from(["", "@", "_:", "xsd:", "schema:", "did:", "urn:uuid:", "https://", "ex:/", "ex://",
                               "id:", "cred:", "xsd", ":"]),
              st.text(max_size=8))))
def test_the_fast_paths_id_expansion_is_pylds(value):
    # keys._rdfc_fast answers most ids itself; it must say what pyld's _expand_iri (base None) says.
    loader = _ONE_LOADER
    state = rdfc._state_for(loader)
    _rdfc_fast.quads_fast(base_credential(), state, DEFAULT_LIMITS.max_depth)  # compiles the contexts
    compiled = state.fast
    # the pinned credential contexts define no prefix terms; this one does (and "_", "did" as terms)
    with_prefixes = state.processor._process_context(
        state.processor._get_initial_context(state.options),
        {"xsd": "http://www.w3.org/2001/XMLSchema#", "schema": "https://schema.org/", "ex": "https://example.org/",
         "cred": {"@id": "https://www.w3.org/2018/credentials#", "@prefix": True}, "did": "https://example.org/did",
         "_": "https://example.org/underscore/"}, state.options)
    contexts = [compiled.wrap(with_prefixes)] + list(compiled.wrapped.values())[:4]
    assert any(m and m.get("_prefix") for m in with_prefixes["mappings"].values())
    for ctx in contexts:
        assert compiled.based(ctx, value) == state.processor._expand_iri(ctx.ctx, value, base=None)
