"""The known-issuer list: both file formats, exact lookups, bad files rejected with their line."""

from __future__ import annotations

import json

import pytest

from errors import Code, ConfigError, InputTooLarge
from verifier.trust import TrustList, load_trust_list

LAKESHORE = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
CE_OFFICE = "https://badges.example.org/issuers/ce-office"


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_trust_list(path)
    return info.value


def test_load_toml_issuers_table_and_issuer_array(tmp_path):
    path = _write(tmp_path, "known.toml", f'''# issuers we recognise
[issuers]
"{LAKESHORE}" = "Lakeshore Library Association"

[[issuer]]
id = "{CE_OFFICE}"
name = "  Example Association — Continuing Education "
''')
    trust = load_trust_list(path)
    assert trust == {LAKESHORE: "Lakeshore Library Association",
                     CE_OFFICE: "Example Association — Continuing Education"}
    assert trust.lookup(LAKESHORE) == "Lakeshore Library Association"


@pytest.mark.parametrize("document", [
    {"issuers": {LAKESHORE: "Lakeshore Library Association"}},
    {"issuers": [{"id": LAKESHORE, "name": "Lakeshore Library Association"}]},
    [{"id": LAKESHORE, "name": "Lakeshore Library Association"}],
])
def test_load_json_forms(tmp_path, document):
    trust = load_trust_list(_write(tmp_path, "known.json", json.dumps(document)))
    assert dict(trust) == {LAKESHORE: "Lakeshore Library Association"}


def test_load_sniffs_format_without_suffix(tmp_path):
    assert len(load_trust_list(_write(tmp_path, "known", json.dumps({"issuers": {LAKESHORE: "L"}})))) == 1
    assert len(load_trust_list(_write(tmp_path, "known.txt", f'[issuers]\n"{LAKESHORE}" = "L"\n'))) == 1


def test_load_empty_toml_is_an_empty_list(tmp_path):
    assert len(load_trust_list(_write(tmp_path, "known.toml", "# nobody yet\n"))) == 0


def test_lookup_is_exact():
    trust = TrustList({"did:web:badges.example.org": "Example", CE_OFFICE: "CE"})
    assert trust.lookup("did:web:badges.example.org") == "Example"
    assert trust.lookup("https://badges.example.org/") is None  # did:web is not its https profile
    assert trust.lookup(CE_OFFICE + "/") is None and trust.lookup(CE_OFFICE.upper()) is None
    assert trust.get(CE_OFFICE) == "CE"  # the pipeline uses it as a Mapping


def test_trust_list_is_read_only_and_copies_its_input():
    source = {LAKESHORE: "Lakeshore"}
    trust = TrustList(source)
    source[CE_OFFICE] = "added later"
    assert CE_OFFICE not in trust
    with pytest.raises(TypeError):
        trust.issuers[CE_OFFICE] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        trust.issuers = {}  # type: ignore[misc]


def test_malformed_toml_names_its_line(tmp_path):
    path = _write(tmp_path, "known.toml", f'[issuers]\n"{LAKESHORE}" = "Lakeshore"\n"{CE_OFFICE}" = CE office\n')
    error = _error(path)
    assert error.code is Code.TOML_MALFORMED and error.details["line"] == 3 and "line 3" in error.message


def test_malformed_json_names_its_line(tmp_path):
    path = _write(tmp_path, "known.json", '{\n  "issuers": {\n    "did:key:z6Mk": "L",\n  }\n}\n')
    error = _error(path)
    assert error.code is Code.JSON_MALFORMED and error.details["line"] == 4


@pytest.mark.parametrize("text, line, words", [
    ('[issuers]\n"Lakeshore Library Association" = "did:key:z6Mk"\n', 2, "not a DID or URL"),
    (f'[issuer]\nid = "{LAKESHORE}"\nname = "L"\n', 1, "[[issuer]]"),
    (f'[issuers]\n"{LAKESHORE}" = "L"\n\n[[issuer]]\nid = "{LAKESHORE}"\nname = "Other"\n', 2, "twice"),
    (f'[[issuer]]\nid = "{CE_OFFICE}"\n', 2, "no display name"),
    (f'[[issuer]]\nid = "{CE_OFFICE}"\nname = "CE"\nurl = "x"\n', 2, "not {id, name}"),
    ('title = "mine"\n', 1, 'unknown key "title"'),
])
def test_bad_shape_rejected_with_line(tmp_path, text, line, words):
    error = _error(_write(tmp_path, "known.toml", text))
    assert error.code is Code.CONFIG_INVALID
    assert error.details["line"] == line and f"(line {line})" in error.message
    assert words in error.message


def test_json_wrong_shape_rejected(tmp_path):
    assert _error(_write(tmp_path, "known.json", '"just a string"')).code is Code.CONFIG_INVALID
    assert _error(_write(tmp_path, "known.json", '{"issuers": 3}')).code is Code.CONFIG_INVALID


def test_missing_file_rejected(tmp_path):
    error = _error(tmp_path / "absent.toml")
    assert error.code is Code.CONFIG_INVALID and "cannot be read" in error.message


def test_oversize_file_rejected(tmp_path):
    path = _write(tmp_path, "known.toml", "# " + "x" * 200 + "\n")
    with pytest.raises(InputTooLarge) as info:
        load_trust_list(path, max_bytes=100)
    assert info.value.code is Code.INPUT_TOO_LARGE


def test_load_sniffs_json_list_without_suffix(tmp_path):
    path = _write(tmp_path, "known", json.dumps([{"id": LAKESHORE, "name": "L"}], indent=2))
    assert load_trust_list(path).lookup(LAKESHORE) == "L"
