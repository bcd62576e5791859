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
from typing import Any, Sequence

from sqlalchemy import func, select

from errors import Code, InputError
from issuer.awarding.issuing import Issuer
from issuer.awarding.roster import spreadsheet_cell
from issuer.store.models import CredentialRow, PathwayAwardRow
from issuer.store.registry import Registry

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
    until = check_period(by, GROUPS, since, until or issuer.now().date())
    names = _names(issuer, by)
    if by == "pathway":
        # Completions are the pathway's awards in the period, CEUs those of the components they were made of.
        totals = tally(issuer.registry, [issuer.issuer_id], [PathwayAwardRow.pathway], since=since, until=until,
                       credentials=False)
        for entry in totals.values():
            entry.completions, entry.ceus = entry.pathway_completions, entry.component_ceus
    else:
        column = {"achievement": CredentialRow.achievement, "learner": CredentialRow.lookup_key,
                  "organization": CredentialRow.organization}[by]
        totals = tally(issuer.registry, [issuer.issuer_id], [column], since=since, until=until)
    by_key: dict[str, Tally] = defaultdict(Tally)
    for (value,), entry in totals.items():
        by_key[group_key(by, value, entry.email)].add(entry)
    start, end = until + timedelta(days=1), until + RENEWALS_AHEAD
    renewals: dict[str, int] = defaultdict(int)
    for key in _renewals_due(issuer, by, until):
        renewals[key] += 1
    rows = tuple(ReportRow(key, by_key[key].name if by == "learner" and by_key[key].name else names.get(key, key),
                           by_key[key].completions, by_key[key].ceus, by_key[key].pathway_completions, renewals[key])
                 for key in sorted({*by_key, *renewals}, key=lambda k: (k == NO_ORGANIZATION, k)))
    return CoordinatorReport(by, since, until, start, end, rows)


def check_period(by: str, groups: tuple[str, ...], since: date | None, until: date) -> date:
    """``until`` once ``by`` is one of ``groups`` and the period is not upside down; USAGE otherwise."""
    if by not in groups:
        raise InputError(Code.USAGE, f"--by {by!r} is not one of {', '.join(groups)}.")
    if since is not None and since > until:
        raise InputError(Code.USAGE, f"--since {since} is after --until {until}: swap them.")
    return until


@dataclass(slots=True)
class Tally:
    """One group's running totals while a report is made (``name``/``email``: the learner's, when known)."""

    completions: int = 0
    ceus: float = 0.0
    pathway_completions: int = 0
    component_ceus: float = 0.0  # CEUs of the credentials the group's pathway awards were made of
    name: str | None = None
    email: str | None = None

    def add(self, other: Tally) -> None:
        """Fold ``other`` in (two stored values that a report shows as one group)."""
        self.completions += other.completions
        self.ceus += other.ceus
        self.pathway_completions += other.pathway_completions
        self.component_ceus += other.component_ceus
        self.name, self.email = self.name or other.name, self.email or other.email


def counted_credentials(issuer_ids: Sequence[int], *, since: date | None, until: date) -> list[Any]:
    """The filters for what every report counts: credentials these issuers awarded in ``since``..``until``,
    neither revoked nor superseded by a correction (a correction revokes what it replaces; ``superseded_by``
    is checked too, so a record can never count twice). Credentials issued through the VC API carry no
    achievement (no CEUs) and are not part of these reports."""
    c = CredentialRow
    issuers = c.issuer_id == issuer_ids[0] if len(issuer_ids) == 1 else c.issuer_id.in_(list(issuer_ids))
    where = [issuers, c.status != "revoked", c.superseded_by.is_(None), c.issued_on <= until,
             c.achievement.is_not(None)]
    if since is not None:
        where.append(c.issued_on >= since)
    return where


def tally(registry: Registry, issuer_ids: Sequence[int], group: Sequence[Any], *, since: date | None,
          until: date, credentials: bool = True) -> dict[tuple[Any, ...], Tally]:
    """Totals per value of the ``group`` columns over ``counted_credentials``, in two grouped queries.

    ``group`` holds ``CredentialRow`` columns (or ``PathwayAwardRow.pathway`` with ``credentials=False``):
    completions and CEUs come from the credentials, pathway completions from the pathway awards whose
    credential is counted (grouped by that award credential's columns).
    """
    c = CredentialRow
    where = counted_credentials(issuer_ids, since=since, until=until)
    totals: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    # No filter on pathway_awards.issuer_id: the credential's issuer says it (ids are global),
    # and with one SQLite would walk every award of the issuer for each credential.
    awards = (select(*group, PathwayAwardRow.components, c.recipient_email, c.recipient_name)
              .join(c, c.id == PathwayAwardRow.credential_id).where(*where))
    width = len(group)
    with registry.session(write=False) as s:
        if credentials:
            query = (select(*group, func.count(c.id), func.coalesce(func.sum(c.credits), 0),
                            func.max(c.recipient_email), func.max(c.recipient_name))
                     .where(*where).group_by(*group))
            for row in s.execute(query):
                entry = totals[tuple(row[:width])]
                entry.completions, entry.ceus = row[width], float(row[width + 1])
                entry.email, entry.name = row[width + 2], row[width + 3]
        for row in s.execute(awards):
            entry = totals[tuple(row[:width])]
            components, email, name = row[width:]
            entry.pathway_completions += 1
            entry.component_ceus += sum(float(item.get("credits") or 0) for item in components)
            entry.email, entry.name = entry.email or email, entry.name or name
    return totals


def group_key(by: str, value: str | None, email: str | None) -> str:
    """The key a report shows for a stored group value: the e-mail for a learner (the lookup key when
    none was recorded), NO_ORGANIZATION for credentials issued without an organisation."""
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
    """The report as CSV rows (header first, totals last), for the command line; a name or organisation
    that a spreadsheet would run as a formula is written as text (``spreadsheet_cell``)."""
    header = [report.by, "name", "completions", "ceus", "pathway_completions", "renewals_due"]
    body = [[r.key, r.name, r.completions, round(r.ceus, 3), r.pathway_completions, r.renewals_due]
            for r in (*report.rows, report.totals)]
    return [[spreadsheet_cell(cell) for cell in row] for row in (header, *body)]


__all__ = ["CoordinatorReport", "GROUPS", "NO_ORGANIZATION", "ReportRow", "Tally", "check_period", "coordinator_report",
           "counted_credentials", "group_key", "report_csv_rows", "tally"]
