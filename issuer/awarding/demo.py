"""``badgesmith demo``: a demo issuer, a CEU badge issued, baked and verified, ready to serve.

Idempotent: run it twice and the second run reuses the instance and issues
nothing new (the registry's award key), so ``make demo`` can be repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from issuer.awarding.awards import issue_single
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.status_changes import change_status
from issuer.instance.folder import init_instance
from issuer.instance.settings import SETTINGS_FILE
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.loader import offline_loader
import templates
from verifier.fetch import build_fetch
from verifier.pipeline import verify_bytes

EXAMPLES = Path(templates.__file__).resolve().parent / "achievements"
NAME = "Lakeshore Library Association — Youth Services Division"


@dataclass(frozen=True, slots=True)
class DemoResult:
    verified: bool
    home: Path
    pages: dict[str, str]


def run_demo(home: Path, *, base_url: str, echo: Callable[[str], None] = print) -> DemoResult:
    """Set up (or reuse) the demo instance in ``home``, issue three badges, revoke one, verify one."""
    home = home.absolute()
    if not (home / SETTINGS_FILE).exists():
        settings = init_instance(home, name=NAME, url=base_url, email="youth-services@lakeshore.example")
        save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
        echo(f"Created a demo issuer in {home}")
    else:
        echo(f"Reusing the demo issuer in {home}")
    issuer = Issuer.open(home)
    try:
        for example in sorted(EXAMPLES.glob("*.toml")):
            issuer.add_achievement(example, replace=True)
        today = date.today()
        course = issue_single(issuer, "storytime-early-literacy",
                              IssueRequest(email="jane.doe@example.org", name="Jane Doe", credits=1.5, date=today))
        certification = issue_single(issuer, "certified-youth-services-librarian",
                                     IssueRequest(email="sam.lee@example.org", name="Sam Lee", date=today))
        revoked = issue_single(issuer, "inclusive-teen-programming",
                               IssueRequest(email="alex.kim@example.org", name="Alex Kim", date=today))
        if revoked.record.status != "revoked":
            change_status(issuer, revoked.record.id, "revoke", reason="Demo: issued in error")
        status_dir = issuer.settings.out_dir / "status"
        report = verify_bytes(course.files.png.read_bytes(), loader=offline_loader(),
                              fetch=build_fetch(documents=status_dir, offline=True), now=issuer.now(),
                              email="jane.doe@example.org")
        echo("")
        if course.created:
            echo(f"Issued a 1.5-CEU course badge to Jane Doe, baked into {course.files.png}")
        else:  # the registry's award key makes a repeat run a no-op: say so rather than claim a new badge
            echo(f"Jane Doe's 1.5-CEU course badge was issued by an earlier demo run; nothing new was issued. "
                 f"Reusing it: {course.files.png}")
        echo("Verifying it as an employer would:")
        echo(report.to_text())
        pages = {"course": course.page_url, "certification": certification.page_url,
                 "revoked": revoked.page_url, "verify": f"{issuer.settings.url}/verify"}
        echo("")
        echo("Open these once the server is running:")
        echo(f"  Jane's CEU course badge page:   {pages['course']}")
        echo(f"  Sam's certification:            {pages['certification']}")
        echo(f"  A revoked micro-credential:     {pages['revoked']}")
        echo(f"  The verification page:          {pages['verify']}")
        echo(f"Files: {issuer.settings.out_dir}")
        return DemoResult(report.verified, home, pages)
    finally:
        issuer.close()


__all__ = ["DemoResult", "run_demo"]
