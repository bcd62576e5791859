"""Known-issuer lists in the registry format the Digital Credentials Consortium publishes (its wallet and
verifier read it): ``{"meta": …, "registry": {DID: {"name", "url", "location"}}}``."""

from __future__ import annotations

import json

import pytest

from errors import Code, ConfigError
from verifier.trust import load_trust_list

LAKESHORE = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
REGISTRY = {
    "meta": {"created": "2026-01-02T03:04:05+0000", "updated": "2026-06-01T00:00:00+0000"},
    "registry": {
        LAKESHORE: {"name": "Lakeshore Library Association", "location": "Chicago, IL, USA",
                    "url": "https://lakeshore.example"},
        "did:web:badges.example.org": {"name": "Example Association", "url": "https://example.org"},
        "did:key:z6MkwithdrawnXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX": None,
    },
}


def test_dcc_registry_file_is_read_as_a_trust_list(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(REGISTRY, indent=2))
    trust = load_trust_list(path)
    assert trust.lookup(LAKESHORE) == "Lakeshore Library Association"
    assert trust.lookup("did:web:badges.example.org") == "Example Association"
    assert len(trust) == 2, "a null entry is not a listed issuer"


def test_dcc_registry_without_a_suffix_is_sniffed_as_json(tmp_path):
    path = tmp_path / "registry"
    path.write_text(json.dumps(REGISTRY))
    assert load_trust_list(path).lookup(LAKESHORE) == "Lakeshore Library Association"


@pytest.mark.parametrize("registry, words", [
    ({"registry": []}, '"registry" that is not an object'),
    ({"registry": {LAKESHORE: "Lakeshore"}}, "not an object with a name"),
    ({"registry": {LAKESHORE: {"url": "https://x.example"}}}, "gives no display name"),
    ({"registry": {}, "issuers": {}}, 'unknown key "issuers"'),
])
def test_dcc_registry_of_the_wrong_shape_is_refused(tmp_path, registry, words):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(registry, indent=2))
    with pytest.raises(ConfigError) as info:
        load_trust_list(path)
    assert info.value.code is Code.CONFIG_INVALID and words in info.value.message
