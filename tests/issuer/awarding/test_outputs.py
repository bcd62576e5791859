"""issuer.awarding.outputs: the credential file's indented JSON is exactly what json.dumps writes."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from issuer.awarding.outputs import pretty_json

_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
_JSON = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_pretty_json_is_byte_for_byte_json_dumps_with_an_indent_of_two(value):
    assert pretty_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_values_json_loads_never_makes_are_left_to_json_dumps():
    for value in ({"a": (1, 2)}, {1: "one", None: [True]}, [float("nan")], {"x": float("-inf")},
                  {"b": 1.0, "c": -0.0, "d": 1e300, "e": 5e-324, "f": "\u2028\u0000\"\\é"}):
        assert pretty_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_signed_credential_file_round_trips_to_the_same_json():
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "credentialSubject": {"achievement": {"creditsAvailable": 1.5, "tags": []}, "empty": {}},
                  "proof": [{"proofValue": "z3FX…", "created": "2026-12-06T21:00:00Z"}]}
    text = pretty_json(credential)
    assert json.loads(text) == credential and text.startswith('{\n  "@context": [\n    "https://')
