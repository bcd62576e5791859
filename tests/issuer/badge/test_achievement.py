"""issuer.badge.achievement: TOML loading with line-numbered errors, durations, the OB 3.0 Achievement."""

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator

from errors import Code, InputError, InputTooLarge
from issuer.badge.achievement import (
    ACHIEVEMENT_TYPES, ALIGNMENT_TARGET_TYPES, MAX_TOML_BYTES, Achievement, TomlSource, add_duration,
    load_achievement, parse_duration, subtract_duration,
)
from issuer.badge.art import render_badge_png

ROOT = Path(__file__).resolve().parents[3]
STRICT_SCHEMA = ROOT.parent / "shared/spec/schemas/ob-v3p0/json/ob_v3p0_achievementcredential_schema.json"
EXAMPLES = sorted((ROOT / "templates/achievements").glob("*.toml"))
PNG = render_badge_png("Storytime", "Course", "1.5 CEUs")  # a real PNG: images are checked by baking them
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

MINIMAL = '''\
id = "storytime-basics"
name = "Storytime Basics"
description = "An introduction to storytime."
criteria = "Attend the webinar."
achievement_type = "Course"
'''


def _schema():
    return json.loads(STRICT_SCHEMA.read_text("utf-8"))


def _strict(definition):
    """A validator for one definition of the official strict schema (its $defs kept for $ref)."""
    schema = _schema()
    return Draft201909Validator({"$schema": schema["$schema"], "$defs": schema["$defs"],
                                 "$ref": f"#/$defs/{definition}"})


def _write(tmp_path, text, name="a.toml"):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _rejected(tmp_path, text):
    with pytest.raises(InputError) as caught:
        load_achievement(_write(tmp_path, text))
    return caught.value


# --- the enumerations stay in step with the official schema --------------------

def test_achievement_types_equal_the_official_schema_enumeration():
    one_of = _schema()["$defs"]["Achievement"]["properties"]["achievementType"]["oneOf"]
    assert list(ACHIEVEMENT_TYPES) == next(o["enum"] for o in one_of if "enum" in o)


def test_alignment_target_types_equal_the_official_schema_enumeration():
    one_of = _schema()["$defs"]["Alignment"]["properties"]["targetType"]["oneOf"]
    assert list(ALIGNMENT_TARGET_TYPES) == next(o["enum"] for o in one_of if "enum" in o)


# --- the shipped examples -----------------------------------------------------

def test_the_four_examples_are_shipped():
    assert {p.name for p in EXAMPLES} == {"ceu-course.toml", "certification.toml", "micro-credential.toml",
                                          "attendance.toml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_loads_and_its_ob_form_passes_the_strict_schema(path):
    achievement = load_achievement(path)
    ob = achievement.to_ob(f"https://badges.lakeshore.example/achievements/{achievement.id}",
                           f"https://badges.lakeshore.example/achievements/{achievement.id}/image")
    errors = [e.message for e in _strict("Achievement").iter_errors(ob)]
    assert errors == []


def test_example_values_are_what_the_issue_asks_for():
    by_name = {p.name: load_achievement(p) for p in EXAMPLES}
    assert by_name["ceu-course.toml"].credits_available == 1.5
    assert by_name["ceu-course.toml"].achievement_type == "Course"
    certification = by_name["certification.toml"]
    assert (certification.name, certification.valid_for) == ("Certified Youth Services Librarian", "3y")
    assert (certification.renewal.credits, certification.renewal.within, certification.renewal.tags) == (
        30.0, "3y", ("youth-services",))
    assert by_name["attendance.toml"].achievement_type == "CertificateOfCompletion"
    assert by_name["micro-credential.toml"].achievement_type == "MicroCredential"


# --- to_ob --------------------------------------------------------------------

def test_to_ob_maps_every_field(tmp_path):
    (tmp_path / "badge.svg").write_bytes(SVG)
    path = _write(tmp_path, MINIMAL + '''\
credits_available = 3.0
field_of_study = "Library Science"
human_code = "LLA-1"
tags = ["a", "b", "a"]
image = "badge.svg"

[[alignment]]
target_name = "Reading"
target_url = "https://example.org/frameworks/reading"
target_type = "ext:LocalSkill"
target_code = "R1"
''')
    achievement = load_achievement(path)
    assert achievement.image == tmp_path / "badge.svg"
    assert achievement.image_media_type == "image/svg+xml"
    ob = achievement.to_ob("https://x.example/achievements/storytime-basics", "https://x.example/img")
    assert ob == {
        "id": "https://x.example/achievements/storytime-basics", "type": ["Achievement"],
        "achievementType": "Course", "name": "Storytime Basics", "description": "An introduction to storytime.",
        "criteria": {"narrative": "Attend the webinar."}, "image": {"id": "https://x.example/img", "type": "Image"},
        "creditsAvailable": 3, "fieldOfStudy": "Library Science", "humanCode": "LLA-1", "tag": ["a", "b"],
        "alignment": [{"type": ["Alignment"], "targetName": "Reading",
                       "targetUrl": "https://example.org/frameworks/reading", "targetCode": "R1",
                       "targetType": "ext:LocalSkill"}],
    }
    assert list(_strict("Achievement").iter_errors(ob)) == []


def test_to_ob_without_image_url_has_no_image_and_extension_type_is_allowed(tmp_path):
    achievement = load_achievement(_write(tmp_path, MINIMAL.replace('"Course"', '"ext:Webinar"')))
    ob = achievement.to_ob("https://x.example/achievements/storytime-basics")
    assert "image" not in ob and ob["achievementType"] == "ext:Webinar"
    assert list(_strict("Achievement").iter_errors(ob)) == []


def test_png_image_is_accepted(tmp_path):
    (tmp_path / "art").mkdir()
    (tmp_path / "art/badge.png").write_bytes(PNG)
    achievement = load_achievement(_write(tmp_path, MINIMAL + 'image = "art/badge.png"\n'))
    assert achievement.image_media_type == "image/png"


# --- rejected files name the field and the line --------------------------------

@pytest.mark.parametrize("extra, line, field, words", [
    ('credits_available = -1\n', 6, "credits_available", "0 or more"),
    ('credits_available = "1.5"\n', 6, "credits_available", "number"),
    ('credits_available = nan\n', 6, "credits_available", "number"),
    ('credits_available = true\n', 6, "credits_available", "number"),
    ('credits_availabel = 1.5\n', 6, "credits_availabel", "did you mean 'credits_available'"),
    ('tags = "youth"\n', 6, "tags", "list"),
    ('tags = [1, 2]\n', 6, "tags", "list"),
    ('valid_for = "3 years"\n', 6, "valid_for", "duration"),
    ('valid_for = "0d"\n', 6, "valid_for", "duration"),
    ('image = "missing.png"\n', 6, "image", "does not exist"),
    ('\n[renewal]\ncredits = 30\nwithin = "forever"\n', 9, "renewal.within", "duration"),
    ('\n[renewal]\ncredits = 30\n', 7, "renewal", "within"),
    ('\n[renewal]\ncredits = 30\nwithin = "3y"\ntag = ["x"]\n', 10, "renewal.tag", "did you mean 'tags'"),
    ('\n[renewal]\ncredits = 30\nwithin = "3y"\nfield_of_study = 3\n', 10, "renewal.field_of_study", "text"),
    ('\n[[alignment]]\ntarget_name = "A"\ntarget_url = "https://e.org/a"\n\n[[alignment]]\n'
     'target_name = "B"\ntarget_url = "not a url"\n', 13, "alignment[1].target_url", "https://"),
    ('\n[[alignment]]\ntarget_url = "https://e.org/a"\n', 7, "alignment[0]", "'target_name' is required"),
    ('\n[[alignment]]\ntarget_name = "A"\ntarget_url = "https://e.org/a"\ntarget_type = "Competency"\n', 10,
     "alignment[0].target_type", "did you mean 'ceasn:Competency'"),
    ('\n[[alignment]]\ntarget_name = "A"\ntarget_url = "https://e.org/a"\ntarget_nmae = "x"\n', 10,
     "alignment[0].target_nmae", "did you mean 'target_name'"),
])
def test_bad_value_is_rejected_with_field_and_line(tmp_path, extra, line, field, words):
    error = _rejected(tmp_path, MINIMAL + extra)
    assert error.code is Code.ACHIEVEMENT_INVALID
    assert (error.details["line"], error.details["field"]) == (line, field)
    assert f"a.toml, line {line}:" in str(error)
    assert words in str(error)


@pytest.mark.parametrize("old, new, line, field, words", [
    ('id = "storytime-basics"', 'id = "Storytime Basics"', 1, "id", "lowercase letters"),
    ('id = "storytime-basics"', 'id = "storytime--basics"', 1, "id", "hyphens"),
    ('name = "Storytime Basics"', 'name = ""', 2, "name", "non-empty text"),
    ('description = "An introduction to storytime."', 'description = 5', 3, "description", "text"),
    ('achievement_type = "Course"', 'achievement_type = "Cource"', 5, "achievement_type", "did you mean 'Course'"),
    ('achievement_type = "Course"', 'achievement_type = "Nonsense"', 5, "achievement_type", "ext:"),
])
def test_bad_required_value_is_rejected_with_field_and_line(tmp_path, old, new, line, field, words):
    error = _rejected(tmp_path, MINIMAL.replace(old, new))
    assert (error.details["line"], error.details["field"], error.code) == (line, field, Code.ACHIEVEMENT_INVALID)
    assert words in str(error)


@pytest.mark.parametrize("key", ["id", "name", "description", "criteria", "achievement_type"])
def test_missing_required_field_is_named(tmp_path, key):
    text = "".join(line + "\n" for line in MINIMAL.splitlines() if not line.startswith(key + " "))
    error = _rejected(tmp_path, text)
    assert f"{key!r} is required" in str(error)


def test_line_finder_skips_multiline_strings_and_follows_tables(tmp_path):
    text = MINIMAL.replace('criteria = "Attend the webinar."', 'criteria = """\nvalid_for = "x"\n"""') + \
        'valid_for = "nope"\n'
    error = _rejected(tmp_path, text)
    assert error.details["line"] == 8


def test_line_finder_handles_quoted_and_dotted_keys(tmp_path):
    source = TomlSource.parse('a = 1\n"b" = 2\nc.d = 3\n[t]\n e = 4\n[[arr]]\nx=1\n[[arr]]\nx=2\n',
                              path=tmp_path / "t.toml")
    assert [source.line_of(w) for w in [("b",), ("c", "d"), ("t", "e"), ("arr", 1, "x"), ("arr", 1), ("zz",)]] == [
        2, 3, 5, 9, 8, None]


def test_malformed_toml_names_line_and_column(tmp_path):
    with pytest.raises(InputError) as caught:
        load_achievement(_write(tmp_path, MINIMAL + 'tags = ["a",\nname = \n'))
    assert caught.value.code is Code.TOML_MALFORMED
    assert caught.value.details["line"] == 7
    assert "line 7, column" in str(caught.value)


def test_non_utf8_file_is_malformed(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes(MINIMAL.encode() + b'field_of_study = "Biblioth\xe8que"\n')
    with pytest.raises(InputError) as caught:
        load_achievement(path)
    assert caught.value.code is Code.TOML_MALFORMED


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(InputError) as caught:
        load_achievement(tmp_path / "nope.toml")
    assert "does not exist" in str(caught.value)


def test_oversized_file_is_refused(tmp_path):
    path = _write(tmp_path, MINIMAL + "#" * MAX_TOML_BYTES + "\n")
    with pytest.raises(InputTooLarge):
        load_achievement(path)


def test_image_that_is_neither_png_nor_svg_is_refused(tmp_path):
    (tmp_path / "badge.png").write_bytes(b"GIF89a" + b"\x00" * 20)
    error = _rejected(tmp_path, MINIMAL + 'image = "badge.png"\n')
    assert (error.details["field"], error.details["line"]) == ("image", 6)
    assert "PNG or SVG" in str(error)


def _png(width: int, height: int, body: bytes = b"") -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize("image, words", [
    (_png(60_000, 60_000), "60000×60000 pixels"),  # a decompression bomb's header: refused before reading on
    (_png(64, 64)[:-12], "truncated"),
    (b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "DTD"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><g>', "not well-formed"),
])
def test_an_image_that_cannot_be_baked_is_refused_when_the_achievement_is_added(tmp_path, image, words):
    name = "badge.png" if image.startswith(b"\x89PNG") else "badge.svg"
    (tmp_path / name).write_bytes(image)
    error = _rejected(tmp_path, MINIMAL + f'image = "{name}"\n')
    assert (error.details["field"], error.details["line"]) == ("image", 6)
    assert "cannot carry a badge" in str(error) and words in str(error)


def test_oversized_image_is_refused(tmp_path):
    (tmp_path / "badge.png").write_bytes(PNG + b"\x00" * (3 * 1024 * 1024))
    assert "larger than" in str(_rejected(tmp_path, MINIMAL + 'image = "badge.png"\n'))


def test_bom_is_tolerated(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_achievement(path).id == "storytime-basics"


# --- durations ----------------------------------------------------------------

@pytest.mark.parametrize("start, text, expected", [
    (date(2024, 1, 31), "1m", date(2024, 2, 29)),
    (date(2025, 1, 31), "1m", date(2025, 2, 28)),
    (date(2025, 3, 31), "1m", date(2025, 4, 30)),
    (date(2025, 10, 15), "18m", date(2027, 4, 15)),
    (date(2024, 2, 29), "1y", date(2025, 2, 28)),
    (date(2024, 2, 29), "4y", date(2028, 2, 29)),
    (date(2025, 5, 10), "3y", date(2028, 5, 10)),
    (date(2025, 12, 31), "2w", date(2026, 1, 14)),
    (date(2025, 1, 1), "90d", date(2025, 4, 1)),
    (date(2025, 1, 1), " 12 M ", date(2026, 1, 1)),
])
def test_add_duration(start, text, expected):
    assert add_duration(start, text) == expected


def test_add_duration_keeps_time_of_day_for_datetimes():
    moment = datetime(2025, 1, 31, 14, 30, tzinfo=timezone.utc)
    assert add_duration(moment, "1m") == datetime(2025, 2, 28, 14, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("start, text, expected", [
    (date(2026, 3, 31), "1m", date(2026, 2, 28)),  # not Mar 1: "today minus the next month's length"
    (date(2024, 3, 31), "1m", date(2024, 2, 29)),
    (date(2026, 2, 28), "1m", date(2026, 1, 28)),  # not Jan 31
    (date(2026, 5, 31), "1m", date(2026, 4, 30)),
    (date(2024, 2, 29), "1y", date(2023, 2, 28)),
    (date(2028, 2, 29), "4y", date(2024, 2, 29)),
    (date(2026, 1, 15), "18m", date(2024, 7, 15)),
    (date(2026, 1, 31), "13m", date(2024, 12, 31)),
    (date(2026, 3, 15), "30d", date(2026, 2, 13)),  # days stay days, across a 28-day February
    (date(2026, 1, 7), "2w", date(2025, 12, 24)),
    (date(2026, 1, 1), " 12 M ", date(2025, 1, 1)),
])
def test_subtract_duration_is_calendar_exact(start, text, expected):
    assert subtract_duration(start, text) == expected


def test_subtract_duration_keeps_time_of_day_for_datetimes():
    moment = datetime(2026, 3, 31, 14, 30, tzinfo=timezone.utc)
    assert subtract_duration(moment, "1m") == datetime(2026, 2, 28, 14, 30, tzinfo=timezone.utc)


def test_subtract_duration_refuses_what_add_duration_refuses():
    with pytest.raises(InputError):
        subtract_duration(date(2026, 1, 1), "3 years")


@pytest.mark.parametrize("text", ["", "3", "y", "3 years", "1.5y", "-1y", "0m", "101y", "9999d9", None])
def test_parse_duration_rejects(text):
    with pytest.raises(InputError):
        parse_duration(text)


def test_valid_until_uses_valid_for(tmp_path):
    achievement = load_achievement(_write(tmp_path, MINIMAL + 'valid_for = "3y"\n'))
    assert achievement.valid_until(date(2025, 6, 1)) == date(2028, 6, 1)
    assert Achievement("x", "X", "d", "c", "Course").valid_until(date(2025, 6, 1)) is None


def test_strict_achievement_validator_is_not_vacuous():
    """The schema check above would catch a bad Achievement (image as a bare URL, no criteria)."""
    ob = {"id": "https://x.example/a", "type": ["Achievement"], "name": "A", "description": "d",
          "image": "https://x.example/a.png"}
    assert len(list(_strict("Achievement").iter_errors(ob))) >= 2
