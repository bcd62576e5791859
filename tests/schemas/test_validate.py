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
