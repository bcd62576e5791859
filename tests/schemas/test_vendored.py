"""The shipped contexts and schemas are exactly the pinned registry packages' content."""

import hashlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "spec"
CONTEXTS = ROOT / "schemas" / "contexts"
INDEX = json.loads((CONTEXTS / "index.json").read_text())

needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/spec is not beside the project")


@pytest.mark.parametrize("url", sorted(INDEX))
def test_each_shipped_context_matches_its_pinned_sha256(url):
    entry = INDEX[url]
    data = (CONTEXTS / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert entry["package"] and entry["version"] and entry["licence"]


def _reference_contexts():
    index = json.loads((SHARED / "contexts" / "INDEX.json").read_text())
    refs = {}
    for entry in index["entries"]:
        for url in [entry.get("url"), *(entry.get("aliases") or [])]:
            if url:
                refs[url] = SHARED / "contexts" / entry["file"]
    return refs


@needs_shared
@pytest.mark.parametrize("url", sorted(INDEX))
def test_each_shipped_context_is_json_equal_to_the_reference_copy(url):
    refs = _reference_contexts()
    assert url in refs, f"{url} has no reference copy in ../shared/spec/contexts"
    shipped = json.loads((CONTEXTS / INDEX[url]["file"]).read_text())
    assert shipped == json.loads(refs[url].read_text())


@needs_shared
@pytest.mark.parametrize("name", ["ob_v3p0_achievementcredential_schema.json", "ob_v3p0_profile_schema.json"])
def test_shipped_schemas_equal_the_official_json_ld_family(name):
    shipped = json.loads((ROOT / "schemas" / "json" / name).read_text())
    official = json.loads((SHARED / "schemas" / "ob-v3p0" / "json-ld" / name).read_text())
    assert shipped == official


def test_the_current_ob_context_and_vc2_are_shipped():
    assert "https://www.w3.org/ns/credentials/v2" in INDEX
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in INDEX


@pytest.mark.parametrize("kind", ["credential", "profile"])
def test_compiled_schema_checks_are_what_vendor_py_generates_today(kind):
    """schemas/compiled/ is generated source: regenerating it from json/ changes nothing.

    When this fails after a schema or fastjsonschema upgrade, run `python schemas/vendor.py --compile`.
    """
    from schemas.vendor import compiled_source

    shipped = (ROOT / "schemas" / "compiled" / f"{kind}.py").read_text("utf-8")
    assert shipped == compiled_source(kind)


@pytest.mark.parametrize("name", ["ob_v3p0_achievementcredential_schema.json", "ob_v3p0_profile_schema.json"])
def test_shipped_schemas_are_valid_draft_2019_09(name):
    """Checked here once, instead of at every start-up (it cost most of a second)."""
    from jsonschema import Draft201909Validator

    Draft201909Validator.check_schema(json.loads((ROOT / "schemas" / "json" / name).read_text()))
