"""Reports for coordinators and bulk purchasers: ``badgesmith report --by achievement|learner|organization|pathway``.

For a period (award dates ``since``..``until``, inclusive) and per group:
``completions`` (credentials awarded, revoked ones excluded), ``ceus`` (their
``creditsEarned``), ``pathway_completions`` (pathway awards among them) and
``renewals_due`` (current certifications whose validUntil falls in the 90 days
after the period ends, from ``issuer.records.renewals.renewals_due``). Everything
comes from the registry alone: what an accrediting body or a library system
that bought seats asks for.

Grouped ``by pathway``, completions are the pathway's awards in the period and
CEUs are those of the component credentials the awards were made of.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from errors import Code, InputError
from issuer.awarding.issuing import Issuer
from issuer.store.models import CredentialRow, PathwayAwardRow

GROUPS = ("achievement", "learner", "organization", "pathway")
RENEWALS_AHEAD = timedelta(days=90)
NO_ORGANIZATION = "(no organization)"  # credentials issued without one (an empty roster cell)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group's totals. ``key`` is the slug, e-mail (or lookup key), organisation or pathway id."""

    key: str
    name: str
    completions: int = 0
    ceus: float = 0.0
    pathway_completions: int = 0
    renewals_due: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "completions": self.completions, "ceus": round(self.ceus, 3),
                "pathway_completions": self.pathway_completions, "renewals_due": self.renewals_due}


@dataclass(frozen=True, slots=True)
class CoordinatorReport:
    """The report: the period, the renewals window, one row per group and the totals."""

    by: str
    since: date | None
    until: date
    renewals_from: date
    renewals_to: date
    rows: tuple[ReportRow, ...]

    @property
    def totals(self) -> ReportRow:
        return ReportRow("", "total", sum(r.completions for r in self.rows), sum(r.ceus for r in self.rows),
                         sum(r.pathway_completions for r in self.rows), sum(r.renewals_due for r in self.rows))

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat(),
                "renewals_due_between": [self.renewals_from.isoformat(), self.renewals_to.isoformat()],
                "groups": [r.to_dict() for r in self.rows], "totals": self.totals.to_dict()}


def coordinator_report(issuer: Issuer, *, by: str, since: date | None = None,
                       until: date | None = None) -> CoordinatorReport:
    """Completions, CEUs, pathway completions and renewals due per ``by`` group (``until`` defaults to today)."""
    if by not in GROUPS:
        raise InputError(Code.USAGE, f"--by {by!r} is not one of {', '.join(GROUPS)}.")
    until = until or issuer.now().date()
    if since is not None and since > until:
        raise InputError(Code.USAGE, f"--since {since} is after --until {until}: swap them.")
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"completions": 0, "ceus": 0.0, "pathway": 0,
                                                             "renewals": 0, "name": None})
    names = _names(issuer, by)
    c = CredentialRow
    # Credentials issued through the VC API carry no achievement (no CEUs): not part of these reports.
    period = [c.issuer_id == issuer.issuer_id, c.status != "revoked", c.issued_on <= until,
              c.achievement.is_not(None)]
    if since is not None:
        period.append(c.issued_on >= since)
    awards = (select(PathwayAwardRow.pathway, PathwayAwardRow.components, c.achievement, c.lookup_key,
                     c.recipient_email, c.recipient_name, c.organization)
              .join(c, c.id == PathwayAwardRow.credential_id)
              # No filter on pathway_awards.issuer_id: the credential's issuer says it (ids are global),
              # and with one SQLite would walk every award of the issuer for each credential.
              .where(*period))
    with issuer.registry.session(write=False) as s:
        if by != "pathway":
            column = {"achievement": c.achievement, "learner": c.lookup_key, "organization": c.organization}[by]
            query = (select(column, func.count(c.id), func.coalesce(func.sum(c.credits), 0),
                            func.max(c.recipient_email), func.max(c.recipient_name))
                     .where(*period).group_by(column))
            for key, count, credits, email, name in s.execute(query):
                entry = totals[_key(by, key, email)]
                entry["completions"], entry["ceus"] = count, float(credits)
                entry["name"] = name if by == "learner" else None
        for pathway, components, achievement, lookup, email, name, organization in s.execute(awards):
            key = _key(by, {"pathway": pathway, "achievement": achievement, "learner": lookup,
                            "organization": organization}[by], email)
            entry = totals[key]
            entry["pathway"] += 1
            if by == "pathway":
                entry["completions"] += 1
                entry["ceus"] += sum(float(item.get("credits") or 0) for item in components)
            elif by == "learner":
                entry["name"] = entry["name"] or name
    start, end = until + timedelta(days=1), until + RENEWALS_AHEAD
    for key in _renewals_due(issuer, by, until):
        totals[key]["renewals"] += 1
    rows = tuple(ReportRow(key, entry["name"] or names.get(key, key), entry["completions"], entry["ceus"],
                           entry["pathway"], entry["renewals"])
                 for key, entry in sorted(totals.items(), key=lambda item: (item[0] == NO_ORGANIZATION, item[0])))
    return CoordinatorReport(by, since, until, start, end, rows)


def _key(by: str, value: str | None, email: str | None) -> str:
    if by == "organization":
        return value or NO_ORGANIZATION
    if by == "learner":
        return email or value or ""  # the e-mail the issuer recorded; the lookup key when there is none
    return value or ""


def _names(issuer: Issuer, by: str) -> dict[str, str]:
    if by == "achievement":
        return {a.slug: a.definition["ob"]["name"] for a in issuer.registry.list_achievements(issuer.issuer_id)}
    if by == "pathway":
        from issuer.awarding.pathways import list_pathways

        return {p.id: p.name for p in list_pathways(issuer)}
    return {}


def _renewals_due(issuer: Issuer, by: str, until: date) -> list[str]:
    """The group key of each certification expiring in the 90 days after ``until`` (one per certification)."""
    from issuer.records.renewals import renewals_due

    period_end = datetime.combine(until + timedelta(days=1), time(0, 0), tzinfo=timezone.utc)
    rows = [r for r in renewals_due(issuer, due_within=RENEWALS_AHEAD, now=period_end)
            if r.expires >= period_end]
    if not rows:
        return []
    if by == "achievement":
        return [r.achievement for r in rows]
    if by == "learner":
        return [r.recipient_email or r.lookup_key for r in rows]
    ids = [r.credential_id for r in rows]
    found: dict[str, str | None] = {}
    with issuer.registry.session(write=False) as s:
        for i in range(0, len(ids), 500):  # bounded IN lists
            chunk = ids[i:i + 500]
            if by == "organization":
                query = select(CredentialRow.id, CredentialRow.organization).where(CredentialRow.id.in_(chunk))
            else:
                query = (select(PathwayAwardRow.credential_id, PathwayAwardRow.pathway)
                         .where(PathwayAwardRow.issuer_id == issuer.issuer_id, PathwayAwardRow.credential_id.in_(chunk)))
            found.update(dict(s.execute(query).all()))
    if by == "organization":
        return [found.get(i) or NO_ORGANIZATION for i in ids]
    return [found[i] for i in ids if i in found]


def report_csv_rows(report: CoordinatorReport) -> list[list[Any]]:
    """The report as CSV rows (header first, totals last), for the command line."""
    header = [report.by, "name", "completions", "ceus", "pathway_completions", "renewals_due"]
    body = [[r.key, r.name, r.completions, round(r.ceus, 3), r.pathway_completions, r.renewals_due]
            for r in (*report.rows, report.totals)]
    return [header, *body]


__all__ = ["CoordinatorReport", "GROUPS", "NO_ORGANIZATION", "ReportRow", "coordinator_report", "report_csv_rows"]
