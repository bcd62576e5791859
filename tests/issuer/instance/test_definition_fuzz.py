"""Structural fuzzing of the TOML files staff write: any shape is read or refused with a code, never a crash.

The example achievement and pathway files and a fresh ``badgesmith.toml`` are
parsed, have values anywhere replaced by arbitrary TOML values (or keys
deleted or added), are written back as TOML, and go through the real readers.
"""

from __future__ import annotations

import json
import math
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errors import BadgesmithError
from issuer.badge.achievement import load_achievement
from issuer.instance.folder import init_instance
from issuer.instance.settings import load_settings
from issuer.awarding.pathway_definition import load_pathway

ROOT = Path(__file__).resolve().parents[3]
ACHIEVEMENTS = sorted((ROOT / "templates" / "achievements").glob("*.toml")) + sorted(
    (ROOT / "templates" / "pathways" / "achievements").glob("*.toml"))
PATHWAY = ROOT / "templates" / "pathways" / "youth-services.toml"
KEYS = ["id", "name", "description", "criteria", "achievement_type", "credits", "tags", "valid_for", "renewal",
        "within", "alignment", "target_url", "target_name", "image", "field_of_study", "human_code", "all",
        "n_of", "n", "of", "min", "awards", "requirements", "issuer", "url", "email", "did_method", "keys",
        "current", "database", "defaults", "format", "status_list_size", "paths", "web", "smtp", "host", "port"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.function_scoped_fixture])

_scalars = (st.booleans() | st.integers(min_value=-2**63, max_value=2**63 - 1)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
            | st.sampled_from(["", "3y", "0d", "-1m", "99999999y", "https://example.org/x", "http://x", "Course",
                               "Certification", "did:web:x", "key-1", "di", "jwt", "../../etc/passwd", "\u0000"])
            | st.dates(min_value=date(1, 1, 1)))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3), max_leaves=6)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, date)):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "0.0"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def dump_toml(document: dict) -> str:
    """Top-level keys as ``key = value`` (tables inline): enough TOML for any parsed document."""
    return "".join(f"{json.dumps(key)} = {_toml_value(value)}\n" for key, value in document.items())


def _containers(node, path=()):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        if isinstance(child, (dict, list)):
            yield from _containers(child)


def _mutated(draw, document: dict) -> dict:
    document = tomllib.loads(dump_toml(document))  # a deep copy
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        container = draw(st.sampled_from(list(_containers(document))))
        if isinstance(container, dict):
            if container and draw(st.booleans()):
                key = draw(st.sampled_from(sorted(container)))
                if draw(st.booleans()):
                    del container[key]
                else:
                    container[key] = draw(_values)
            else:
                container[draw(st.sampled_from(KEYS))] = draw(_values)
        elif container:
            container[draw(st.integers(0, len(container) - 1))] = draw(_values)
    return document


def test_the_toml_writer_round_trips_the_examples():
    for path in [*ACHIEVEMENTS, PATHWAY]:
        document = tomllib.loads(path.read_text("utf-8"))
        assert tomllib.loads(dump_toml(document)) == document


@FUZZ
@given(data=st.data(), source=st.sampled_from(ACHIEVEMENTS))
def test_any_achievement_file_is_read_or_refused_with_a_code(tmp_path, data, source):
    path = tmp_path / "achievement.toml"
    path.write_text(dump_toml(_mutated(data.draw, tomllib.loads(source.read_text("utf-8")))), "utf-8")
    try:
        load_achievement(path)
    except BadgesmithError as error:
        assert error.code and error.message


@FUZZ
@given(data=st.data())
def test_any_pathway_file_is_read_or_refused_with_a_code(tmp_path, data):
    achievements = {load_achievement(p).id: load_achievement(p) for p in ACHIEVEMENTS}
    path = tmp_path / "pathway.toml"
    path.write_text(dump_toml(_mutated(data.draw, tomllib.loads(PATHWAY.read_text("utf-8")))), "utf-8")
    try:
        load_pathway(path, achievements=achievements, pathways={})
    except BadgesmithError as error:
        assert error.code and error.message


@pytest.fixture(scope="module")
def settings_text(tmp_path_factory) -> str:
    home = tmp_path_factory.mktemp("settings") / "inst"
    init_instance(home, name="Lakeshore Library Association", url="https://badges.example.org")
    return (home / "badgesmith.toml").read_text("utf-8")


@FUZZ
@given(data=st.data())
def test_any_settings_file_is_read_or_refused_with_a_code(tmp_path, settings_text, data):
    home = tmp_path / "inst"
    home.mkdir(exist_ok=True)
    (home / "keys").mkdir(exist_ok=True)
    (home / "keys" / "lookup.secret").write_text("00" * 32)
    (home / "badgesmith.toml").write_text(dump_toml(_mutated(data.draw, tomllib.loads(settings_text))), "utf-8")
    try:
        load_settings(home)
    except BadgesmithError as error:
        assert error.code and error.message
