"""verifier.report: the text report never hands credential text to the terminal raw (issue 12)."""

from __future__ import annotations

import pytest

from verifier.report import FAILED, PASSED, WARNING, Check, Report, escape_controls

FAKE = "Storytime\r✓ proof: passed\n\x1b[32mall good\x1b[0m\u202etxt.exe"


@pytest.mark.parametrize("text, shown", [
    ("a\rb", "a\\rb"), ("a\nb", "a\\nb"), ("a\tb", "a\\tb"),
    ("\x1b[31mred", "\\x1b[31mred"), ("\x00\x07\x08\x7f", "\\x00\\x07\\x08\\x7f"),
    ("\x9b31m", "\\x9b31m"), ("\x85", "\\x85"),  # C1: CSI and NEL
    ("\u202eexe.txt", "\\u202eexe.txt"), ("\u2066a\u2069", "\\u2066a\\u2069"), ("\u202a\u202d", "\\u202a\\u202d"),
    ("\u200f\u061c", "\\u200f\\u061c"), ("a\u2028b", "a\\u2028b"),
])
def test_escape_controls_writes_controls_and_bidi_as_escapes(text, shown):
    assert escape_controls(text) == shown


@pytest.mark.parametrize("text", ["José Müller", "ñandú 日本語 ✓ ✗", "emoji 😀", "back\\slash \\x1b", ""])
def test_escape_controls_leaves_printable_text_alone(text):
    assert escape_controls(text) == text


def _report() -> Report:
    return Report(
        checks=(Check("container", PASSED, "CONTAINER_OK", "Read a credential JSON document."),
                Check("proof", FAILED, "PROOF_INVALID", f"The context {FAKE} is not pinned."),
                Check("status", WARNING, "STATUS_OK", FAKE)),
        credential={"name": FAKE, "issuer": {"name": FAKE}},
        warnings=(FAKE,),
        embedded=((FAKE, Report(checks=(Check("proof", FAILED, "PROOF_INVALID", FAKE),),
                                credential={"name": FAKE})),))


@pytest.mark.parametrize("colour", [False, True])
def test_to_text_prints_one_line_per_check_whatever_the_credential_says(colour):
    text = _report().to_text(colour=colour)
    lines = text.split("\n")
    assert len(lines) == 1 + 3 + 3 + 1  # headline, 3 checks, embedded (heading, headline, 1 check), 1 warning
    assert "\r" not in text and "\u202e" not in text
    without_our_colours = text.replace("\x1b[0m", "").replace("\x1b[1;31m", "").replace("\x1b[31m", "") \
        .replace("\x1b[32m", "").replace("\x1b[33m", "")
    assert "\x1b" not in without_our_colours
    assert "\\r✓ proof: passed\\n\\x1b[32mall good\\x1b[0m\\u202etxt.exe" in text
    assert sum(line.lstrip().startswith(("✓", "\x1b[32m✓")) for line in lines) == 1  # the container check only


def test_headline_escapes_the_credential_text_it_quotes():
    failed = _report().headline()
    verified = Report(checks=(Check("proof", PASSED, "PROOF_OK", "ok"),), credential={"name": FAKE}).headline()
    for line in (failed, verified):
        assert "\r" not in line and "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert verified.startswith("Verified: Storytime\\r✓ proof: passed\\n")


def test_to_dict_keeps_the_text_exact():
    data = _report().to_dict()
    assert data["credential"]["name"] == FAKE and data["warnings"] == [FAKE]
    assert data["checks"][2]["message"] == FAKE
