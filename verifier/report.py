"""The verification report: one shape for the CLI and HTTP (DESIGN.md).

``Report.to_dict()`` is the JSON contract; ``Report.to_text()`` the CLI's
human output. Checks run in a fixed order; ``verified`` is true only when no
check failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from errors import Code

CHECK_ORDER = ("container", "json", "context", "schema", "proof", "validity", "status",
               "issuer_trust", "recipient")

PASSED, FAILED, SKIPPED, WARNING = "passed", "failed", "skipped", "warning"
STATUS_UNREACHABLE = Code.STATUS_UNREACHABLE.value

# Characters a terminal would act on instead of showing: C0 controls (a carriage return
# rewrites the line, ESC starts colour and cursor sequences), DEL, C1 controls (U+009B is
# a CSI to some terminals), the Unicode line separators, and the bidi controls that show
# text in another order than it is written (U+202E, U+2066–U+2069, and the marks).
# Beyond C0, which JSON escapes itself, the rest is also escaped in JSON output (as \u).
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_JSON_UNSAFE = re.compile(f"[{_BEYOND_C0}]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """``text`` with every control and bidi character written as an escape (``\\r``, ``\\x1b``, ``\\u202e``).

    For text shown to people on a terminal, where credential text must not
    move the cursor, colour the output, start a new line that looks like a
    check, or reverse what follows. JSON output is never escaped this way.
    """
    return _CONTROLS.sub(_escape, text) if _CONTROLS.search(text) else text


def escape_json_controls(text: str) -> str:
    """JSON ``text`` with what a terminal acts on written as ``\\u`` escapes: the same JSON once parsed."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome: ``passed`` / ``failed`` / ``skipped`` / ``warning``."""

    check: str
    outcome: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "outcome": self.outcome, "code": self.code,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class Report:
    """What the verifier concluded about one credential, and why."""

    checks: tuple[Check, ...]
    format: str | None = None
    container: str | None = None
    credential: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    embedded: tuple[tuple[str, "Report"], ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        """True only when no check failed (and no embedded credential failed)."""
        return (all(c.outcome != FAILED for c in self.checks)
                and all(r.verified for _, r in self.embedded))

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == FAILED]

    def check(self, name: str) -> Check | None:
        """The named check, if it ran."""
        return next((c for c in self.checks if c.check == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md report shape."""
        data: dict[str, Any] = {
            "verified": self.verified,
            "format": self.format,
            "container": self.container,
            "credential": self.credential,
            "checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
        }
        if self.embedded:
            data["embedded"] = [{"id": cid, **r.to_dict()} for cid, r in self.embedded]
        return data

    def headline(self) -> str:
        """One plain sentence: the verdict first (credential text in it has its controls escaped)."""
        return escape_controls(self._headline())

    def _headline(self) -> str:
        summary = self.credential or {}
        if self.verified and summary.get("type") == "VerifiablePresentation":
            count = summary.get("credentials") or 0
            holder = f" by {summary['holder']}" if summary.get("holder") else ""
            return (f"Verified: a presentation{holder} of {count} credential{'' if count == 1 else 's'}, "
                    "each verified on its own.")
        if self.verified:
            issuer = (summary.get("issuer") or {}).get("name") or (summary.get("issuer") or {}).get("id")
            name = summary.get("name") or (summary.get("achievement") or {}).get("name") or "credential"
            text = f"Verified: {name}, issued by {issuer or 'an unnamed issuer'}"
            recipient = (summary.get("recipient") or {}).get("name")
            if recipient:
                text += f" to {recipient}"
            if isinstance(summary.get("validFrom"), str):
                text += f" on {summary['validFrom'][:10]}"
            return text + "."
        failed = self.failures()
        if failed:
            return f"Not verified: {failed[0].message}"
        for cid, nested in self.embedded:  # the outer credential is fine: name what inside it is not
            if not nested.verified:
                summary = nested.credential or {}
                name = summary.get("name") or (summary.get("achievement") or {}).get("name") or cid
                reason = nested.failures()[0].message if nested.failures() else "it did not verify"
                return f"Not verified: {name[:200]}, inside it, did not verify: {reason}"
        return "Not verified."

    def to_text(self, *, colour: bool = False) -> str:
        """The CLI's output for people: a verdict line, then one line per check.

        Every piece of text that comes from the credential (messages quote it)
        goes through ``escape_controls``: one line per check, whatever it says.
        """
        return "\n".join(self._text_lines(colour, _Mentions(self)))

    def _unreachable(self) -> list[str]:
        """The status-list failures in this report and in the ones inside it."""
        own = [c.message for c in self.checks if c.code == STATUS_UNREACHABLE and c.outcome != PASSED]
        return own + [m for _, nested in self.embedded for m in nested._unreachable()]

    def _text_lines(self, colour: bool, mentions: _Mentions) -> list[str]:
        marks = {PASSED: "✓", FAILED: "✗", SKIPPED: "-", WARNING: "!"}
        colours = {PASSED: "32", FAILED: "31", SKIPPED: "90", WARNING: "33"}
        head = mentions.once(self.headline())
        if colour:
            head = f"\033[1;{32 if self.verified else 31}m{head}\033[0m"
        lines = [head]
        for c in self.checks:
            mark = marks.get(c.outcome, "?")
            if colour:
                mark = f"\033[{colours.get(c.outcome, '0')}m{mark}\033[0m"
            lines.append(f"  {mark} {c.check:<13} {mentions.once(escape_controls(c.message))}")
        for cid, report in self.embedded:
            lines.append(f"  embedded {escape_controls(cid)}:")
            lines.extend("    " + line for line in report._text_lines(colour, mentions))
        for warning in self.warnings:
            lines.append(f"  ! {mentions.once(escape_controls(warning))}")
        return lines


class _Mentions:
    """A status list that could not be fetched is described in full once per text; after that, a
    transcript's other credentials and checks that name the same failure refer back to it."""

    SAME = "The status list could not be fetched (the same failure as above)."

    def __init__(self, report: Report) -> None:
        self._pending = {escape_controls(m) for m in report._unreachable()}
        self._shown: set[str] = set()

    def once(self, text: str) -> str:
        for message in self._pending:
            if message in text:
                if message in self._shown:
                    text = text.replace(message, self.SAME)
                else:
                    self._shown.add(message)
        return text


__all__ = ["CHECK_ORDER", "Check", "FAILED", "PASSED", "Report", "SKIPPED", "WARNING", "escape_controls",
           "escape_json_controls"]
