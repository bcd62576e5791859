"""validate() reports every problem with its JSON path, against the official OB 3.0 schema."""

import copy
import json
from pathlib import Path

import pytest

from schemas.validate import validate

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="../shared/spec is not beside the project")


def _vector():
    return json.loads((SHARED / "examples" / "ob-v3p0-impl-guide-vector" / "signed.json").read_text())


def test_signed_impl_guide_vector_is_valid():
    assert validate(_vector()) == []


def test_proof_as_single_object_is_accepted_by_the_json_ld_family():
    doc = _vector()
    doc["proof"] = doc["proof"][0] if isinstance(doc["proof"], list) else doc["proof"]
    assert validate(doc) == []


def test_every_problem_is_reported_with_its_path():
    doc = copy.deepcopy(_vector())
    del doc["validFrom"]
    doc["credentialSubject"]["achievement"]["criteria"] = "not an object"
    paths = {p.path for p in validate(doc)}
    assert "$" in paths  # validFrom missing
    assert any(p.startswith("$.credentialSubject.achievement") for p in paths)


def test_profile_schema_is_available():
    profile = {"id": "https://example.org/issuer", "type": ["Profile"], "name": "Example"}
    assert validate(profile, kind="profile") == []
    assert validate({"type": ["Profile"]}, kind="profile")


@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED / "examples" / "ob-v3p0-spec" / "unsigned").glob("*.json")
                                        if not p.name.startswith("equality")) if SHARED.exists() else [])
def test_official_unsigned_examples_pass(name):
    doc = json.loads((SHARED / "examples" / "ob-v3p0-spec" / "unsigned" / name).read_text())
    if "OpenBadgeCredential" in doc.get("type", []) or "AchievementCredential" in doc.get("type", []):
        assert validate(doc) == []


def _mutations(doc):
    """Credentials one change away from a valid one: removed keys, wrong types, odd values."""
    import itertools

    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append(path + (key,))
                walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append(path + (i,))
                walk(value, path + (i,))

    walk(doc, ())
    replacements = [None, 7, "text", [], {"id": "urn:x"}, "ext:Thing"]
    for path, replacement in itertools.product(paths, ["<delete>", *replacements]):
        changed = copy.deepcopy(doc)
        parent = changed
        for part in path[:-1]:
            parent = parent[part]
        if replacement == "<delete>":
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
        yield path, changed


def test_fast_check_agrees_with_jsonschema_on_every_near_miss():
    """The compiled fast path and jsonschema agree on validity for thousands of one-change variants."""
    from jsonschema import Draft201909Validator

    from schemas.validate import _validator, is_valid

    reference: Draft201909Validator = _validator("credential")
    documents = [_vector(), json.loads((SHARED / "examples" / "ob-v3p0-spec" / "unsigned" /
                                        "complete-openbadgecredential.json").read_text())]
    import random

    variants = [v for doc in documents for v in _mutations(doc)]
    sample = random.Random(7).sample(variants, min(500, len(variants)))
    for path, changed in sample:
        assert is_valid(changed) == reference.is_valid(changed), path
    assert len(sample) == 500


def test_the_fast_check_never_writes_into_the_document():
    """The generated check is a pure yes/no: no schema defaults are filled in, nothing changes."""
    from schemas.validate import is_valid

    doc = _vector()
    before = copy.deepcopy(doc)
    assert is_valid(doc)
    del doc["validFrom"]
    assert not is_valid(doc)
    del before["validFrom"]
    assert doc == before
