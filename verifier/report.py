"""The verification report: one shape for the CLI and HTTP (DESIGN.md).

``Report.to_dict()`` is the JSON contract; ``Report.to_text()`` the CLI's
human output. Checks run in a fixed order; ``verified`` is true only when no
check failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHECK_ORDER = ("container", "json", "context", "schema", "proof", "validity", "status",
               "issuer_trust", "recipient")

PASSED, FAILED, SKIPPED, WARNING = "passed", "failed", "skipped", "warning"


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
        """One plain sentence: the verdict first."""
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
        """The CLI's output for people: a verdict line, then one line per check."""
        marks = {PASSED: "✓", FAILED: "✗", SKIPPED: "-", WARNING: "!"}
        colours = {PASSED: "32", FAILED: "31", SKIPPED: "90", WARNING: "33"}
        head = self.headline()
        if colour:
            head = f"\033[1;{32 if self.verified else 31}m{head}\033[0m"
        lines = [head]
        for c in self.checks:
            mark = marks.get(c.outcome, "?")
            if colour:
                mark = f"\033[{colours.get(c.outcome, '0')}m{mark}\033[0m"
            lines.append(f"  {mark} {c.check:<13} {c.message}")
        for cid, report in self.embedded:
            lines.append(f"  embedded {cid}:")
            lines.extend("    " + line for line in report.to_text(colour=colour).splitlines())
        for warning in self.warnings:
            lines.append(f"  ! {warning}")
        return "\n".join(lines)


__all__ = ["CHECK_ORDER", "Check", "FAILED", "PASSED", "Report", "SKIPPED", "WARNING"]
