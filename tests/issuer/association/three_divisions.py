"""A test helper (no tests here): an association with three divisions on one database, as
``badgesmith association init`` and ``badgesmith init --association`` make them.

- Youth Services Division: the example achievements (templates/achievements) and the example pathway
  (templates/pathways: the Youth Services Certificate);
- Academic Libraries Division: two courses and a small pathway made of them (the Academic Starter
  Certificate), with an ACRL alignment;
- Library Support Staff Certification: one certificate course.

Each division's ``Issuer`` is reopened with a fixed clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from issuer.association.setup import Association, create_association, create_division, open_association
from issuer.awarding.issuing import Issuer
from issuer.awarding.pathways import add_pathway

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "templates" / "achievements"
PATHWAYS = ROOT / "templates" / "pathways"

ACADEMIC = {
    "information-literacy-instruction.toml": '''id = "information-literacy-instruction"
name = "Teaching Information Literacy"
achievement_type = "Course"
description = "A four-week online course on planning one-shot library instruction sessions."
criteria = "Completed the four modules and submitted a lesson plan reviewed by an instructor."
credits_available = 2
field_of_study = "Library and Information Science"
tags = ["instruction", "academic-libraries"]

[[alignment]]
target_name = "Framework for Information Literacy for Higher Education"
target_url = "https://www.ala.org/acrl/standards/ilframework"
target_framework = "ACRL"
target_code = "ILFHE-1"
''',
    "cataloging-basics.toml": '''id = "cataloging-basics"
name = "Cataloging Basics with RDA"
achievement_type = "Course"
description = "An introduction to describing resources with RDA and MARC 21."
criteria = "Attended the live sessions and catalogued ten practice records."
credits_available = 1
tags = ["cataloging", "technical-services"]
''',
    "academic-starter-certificate.toml": '''id = "academic-starter-certificate"
name = "Academic Starter Certificate"
achievement_type = "Certificate"
description = "Recognises new academic library staff who completed the two starter courses."
criteria = "Awarded on completing the Academic Starter pathway."
tags = ["academic-libraries"]
''',
}
ACADEMIC_PATHWAY = '''id = "academic-starter"
name = "Academic Starter"
description = "Both starter courses of the Academic Libraries Division."
awards = "academic-starter-certificate"

[requirements]
all = ["information-literacy-instruction", "cataloging-basics"]
'''
SUPPORT = {
    "support-staff-foundations.toml": '''id = "support-staff-foundations"
name = "Foundations of Library Service"
achievement_type = "Certificate"
description = "The first competency set of the Library Support Staff Certification."
criteria = "Passed the Foundations assessment (a portfolio and an exam)."
credits_available = 3
tags = ["support-staff", "foundations"]

[[alignment]]
target_name = "Foundations of Library Services"
target_url = "https://www.ala.org/educationcareers/libsupportstaff/certification/competencysets"
target_framework = "LSSC Competency Sets"
target_code = "LSSC-F"
''',
}


@dataclass
class Divisions:
    """The association (opened from its folder) and its three divisions' Issuers."""

    association: Association
    youth: Issuer
    academic: Issuer
    support: Issuer

    @property
    def all(self) -> tuple[Issuer, Issuer, Issuer]:
        return self.youth, self.academic, self.support

    def close(self) -> None:
        for issuer in self.all:
            issuer.close()
        self.association.close()


def _add(issuer: Issuer, folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        issuer.add_achievement(folder / name, replace=True)


def build_association(root: Path, database_url: str | None = None, *, association_url: str =
                      "https://lla.example") -> Divisions:
    """The association in ``root/association`` (on ``database_url``, else its own SQLite file) and its
    divisions in ``root/youth``, ``root/academic`` and ``root/support``, with their achievements and pathways."""
    made = create_association(root / "association", name="Lakeshore Library Association", url=association_url,
                              email="ce@lla.example", database_url=database_url)
    home = str(made.issuer.settings.home)
    made.close()
    opened = []
    for folder, name, url in (("youth", "Youth Services Division", "https://youth.lla.example"),
                              ("academic", "Academic Libraries Division", "https://academic.lla.example"),
                              ("support", "Library Support Staff Certification", "https://lssc.lla.example")):
        create_division(root / folder, association=home, name=name, url=url).close()
        opened.append(Issuer.open(root / folder, now=lambda: NOW))
    youth, academic, support = opened
    for example in sorted(EXAMPLES.glob("*.toml")):
        youth.add_achievement(example, replace=True)
    for example in sorted((PATHWAYS / "achievements").glob("*.toml")):
        youth.add_achievement(example, replace=True)
    add_pathway(youth, PATHWAYS / "youth-services.toml")
    _add(academic, root / "academic-files", ACADEMIC)
    (root / "academic-files" / "academic-starter.toml").write_text(ACADEMIC_PATHWAY, encoding="utf-8")
    add_pathway(academic, root / "academic-files" / "academic-starter.toml")
    _add(support, root / "support-files", SUPPORT)
    return Divisions(open_association(home), youth, academic, support)


LEADERSHIP_AWARD = '''id = "leadership-certificate"
name = "Association Leadership Certificate"
achievement_type = "Certificate"
description = "Recognises members who completed a course in two divisions and five CEUs in instruction or foundations."
criteria = "Awarded on completing the Leadership pathway."
tags = ["leadership"]
'''


def add_leadership_pathway(divisions: Divisions, folder: Path) -> Any:
    """An association pathway across divisions: the youth storytime course, the academic cataloging course, and
    5 CEUs tagged instruction or foundations (from any division); awards the association's Leadership Certificate."""
    from issuer.association.pathways import achievement_key, add_association_pathway

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leadership.toml").write_text(LEADERSHIP_AWARD, "utf-8")
    divisions.association.issuer.add_achievement(folder / "leadership.toml", replace=True)
    parts = [achievement_key("https://youth.lla.example", "storytime-early-literacy"),
             achievement_key("https://academic.lla.example", "cataloging-basics")]
    (folder / "leadership-pathway.toml").write_text(
        'id = "leadership"\nname = "Leadership"\nawards = "leadership-certificate"\n\n[requirements]\n'
        f"all = {json.dumps(parts)}\n"
        'credits = { min = 5, tags = ["instruction", "foundations"] }\n', "utf-8")
    return add_association_pathway(divisions.association, folder / "leadership-pathway.toml")


__all__ = ["Divisions", "NOW", "add_leadership_pathway", "build_association"]
