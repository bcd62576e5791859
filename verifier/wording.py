"""The words people read: achievement types as labels, and one way of writing a date.

Machine outputs (JSON, the report, ``<time datetime>``) keep ISO 8601; pages,
certificates and e-mails write "6 December 2026" through ``long_date``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

# OB 3.0 AchievementType enumeration → what a person reads.
_TYPE_LABELS = {
    "Achievement": "Achievement", "ApprenticeshipCertificate": "Apprenticeship certificate",
    "Assessment": "Assessment", "Assignment": "Assignment", "AssociateDegree": "Associate degree",
    "Award": "Award", "Badge": "Badge", "BachelorDegree": "Bachelor's degree", "Certificate": "Certificate",
    "CertificateOfCompletion": "Certificate of completion", "Certification": "Certification",
    "CoCurricular": "Co-curricular activity", "CommunityService": "Community service",
    "Competency": "Competency", "Course": "Course", "Degree": "Degree", "Diploma": "Diploma",
    "DoctoralDegree": "Doctoral degree", "Fieldwork": "Fieldwork",
    "GeneralEducationDevelopment": "General Education Development (GED)",
    "JourneymanCertificate": "Journeyman certificate", "LearningProgram": "Learning programme",
    "License": "Licence", "MasterCertificate": "Master certificate", "MasterDegree": "Master's degree",
    "Membership": "Membership", "MicroCredential": "Micro-credential",
    "ProfessionalDoctorate": "Professional doctorate",
    "QualityAssuranceCredential": "Quality assurance credential", "ResearchDoctorate": "Research doctorate",
    "SecondarySchoolDiploma": "Secondary school diploma",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def achievement_type_label(value: Any) -> str | None:
    """"MicroCredential" → "Micro-credential"; an extension ("ext:WorkshopSeries") → "Workshop series"."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()[:100]
    if value in _TYPE_LABELS:
        return _TYPE_LABELS[value]
    words = _CAMEL.sub(" ", value.split(":", 1)[1] if value.startswith("ext:") else value).replace("_", " ")
    words = " ".join(words.split())
    return words[:1].upper() + words[1:].lower() if words else None


def long_date(value: Any) -> str:
    """"6 December 2026" for a date, a datetime or an ISO 8601 text; other text as it is; "" for nothing."""
    if value is None or value == "":
        return ""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, (date, datetime)):
        return f"{moment.day} {moment:%B} {moment.year}"
    return str(value)


__all__ = ["achievement_type_label", "long_date"]
