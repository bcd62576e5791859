"""The CE office's report across the association: ``badgesmith association report --by division|learner|
organization|achievement``.

For the accrediting body (CEUs per division, per member) and for bulk purchasers (what the staff of one
library system earned, from every division). It counts what the single-division report
(``issuer.records.reports``) counts, with the same queries, over the association and all its divisions in
the shared database: credentials awarded in ``since``..``until`` (award dates, inclusive), revoked and
superseded ones excluded; CEUs are their ``creditsEarned``; pathway completions are the pathway awards
among them (a division's, or the association's own). Per group it adds ``learners`` (distinct people) and
the ``divisions`` the credentials came from.

Renewals due are not in it: renewal rules belong to each division (``badgesmith report`` there lists them).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import distinct, func, select

from errors import Code, InputError
from issuer.association.setup import Association, divisions
from issuer.awarding.roster import spreadsheet_cell
from issuer.instance.files import write_file_atomic
from issuer.records.reports import NO_ORGANIZATION, Tally, check_period, counted_credentials, group_key, tally
from issuer.store.models import CredentialRow

GROUPS = ("division", "learner", "organization", "achievement")
FORMATS = ("csv", "json")


@dataclass(frozen=True, slots=True)
class AssociationRow:
    """One group's totals. ``key``: the division's DID, the learner's e-mail (or lookup key), the
    organisation, or the achievement id (with its division in ``divisions``)."""

    key: str
    name: str
    divisions: tuple[str, ...]
    learners: int
    completions: int
    ceus: float
    pathway_completions: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "divisions": list(self.divisions), "learners": self.learners,
                "completions": self.completions, "ceus": round(self.ceus, 3),
                "pathway_completions": self.pathway_completions}


@dataclass(frozen=True, slots=True)
class AssociationReport:
    """The report: the association, the period, one row per group, and the totals."""

    association: str
    association_id: str
    by: str
    since: date | None
    until: date
    rows: tuple[AssociationRow, ...]
    totals: AssociationRow

    def to_dict(self) -> dict[str, Any]:
        return {"association": {"id": self.association_id, "name": self.association}, "by": self.by,
                "since": self.since.isoformat() if self.since else None, "until": self.until.isoformat(),
                "groups": [r.to_dict() for r in self.rows], "totals": self.totals.to_dict()}


@dataclass(slots=True)
class _Group:
    tally: Tally = field(default_factory=Tally)
    divisions: set[str] = field(default_factory=set)
    learners: int = 0


def association_report(association: Association, *, by: str = "division", since: date | None = None,
                       until: date | None = None) -> AssociationReport:
    """Completions, CEUs, pathway completions and learners per ``by`` group, over every division
    (``until`` defaults to today). USAGE for another group or a period that ends before it starts."""
    until = check_period(by, GROUPS, since, until or _today(association))
    sources = {association.id: (association.did, association.name),
               **{d.id: (d.did, d.name) for d in divisions(association)}}
    ids = sorted(sources)
    c = CredentialRow
    column = {"division": c.issuer_id, "learner": c.lookup_key, "organization": c.organization,
              "achievement": c.achievement}[by]
    # Split by division too: which divisions a learner or organisation earned from; an achievement id
    # is one division's (two divisions may use the same id).
    split = [column] if by == "division" else [column, c.issuer_id]
    groups: dict[tuple[Any, ...], _Group] = defaultdict(_Group)
    if by == "division":  # every division has its row, zeros included: the accrediting body asks about each
        for issuer_id, (did, name) in sources.items():
            if issuer_id != association.id:
                groups[(did,)].divisions.add(name)
    for values, entry in tally(association.registry, ids, split, since=since, until=until).items():
        group = groups[_group_of(by, values, entry.email, sources)]
        group.tally.add(entry)
        group.divisions.add(sources[values[-1]][1])
    if by != "learner":  # a learner is one learner
        people = split if by != "organization" else [column]
        for values, count in _learners(association, ids, people, since, until):
            groups[_group_of(by, values, None, sources)].learners += count
    names = _achievement_names(association, ids) if by == "achievement" else {}
    rows = sorted((_row(by, key, group, names, sources) for key, group in groups.items()),
                  key=lambda r: (r.key == NO_ORGANIZATION, r.name.casefold() if by == "division" else r.key,
                                 r.divisions))
    ((_, everyone),) = _learners(association, ids, [], since, until)
    totals = AssociationRow("", "total", tuple(sorted({d for r in rows if r.completions for d in r.divisions})), everyone,
                            sum(r.completions for r in rows), sum(r.ceus for r in rows),
                            sum(r.pathway_completions for r in rows))
    return AssociationReport(association.name, association.did, by, since, until, tuple(rows), totals)


def _today(association: Association) -> date:
    issuer = association.issuer
    return (issuer.now() if issuer is not None else datetime.now(timezone.utc)).date()


def _group_of(by: str, values: tuple[Any, ...], email: str | None,
              sources: dict[int, tuple[str, str]]) -> tuple[Any, ...]:
    """The report's group for grouped column values: (DID,), (achievement id, division id) or (key,)."""
    if by == "division":
        return (sources[values[0]][0],)
    if by == "achievement":
        return (values[0], values[1])
    return (group_key(by, values[0], email),)


def _learners(association: Association, ids: list[int], group: list[Any], since: date | None,
              until: date) -> list[tuple[tuple[Any, ...], int]]:
    """Distinct learners per ``group`` (no group: one row, everyone) among the counted credentials."""
    c = CredentialRow
    query = (select(*group, func.count(distinct(c.lookup_key)))
             .where(*counted_credentials(ids, since=since, until=until)))
    if group:
        query = query.group_by(*group)
    with association.registry.session(write=False) as s:
        return [(tuple(row[:-1]), row[-1]) for row in s.execute(query)]


def _row(by: str, key: tuple[Any, ...], group: _Group, names: dict[tuple[int, str], str],
         sources: dict[int, tuple[str, str]]) -> AssociationRow:
    entry = group.tally
    if by == "division":
        name = next(n for did, n in sources.values() if did == key[0])
    elif by == "achievement":
        name = names.get((key[1], key[0]), key[0])
    else:
        name = (entry.name if by == "learner" else None) or key[0]
    return AssociationRow(key[0], name, tuple(sorted(group.divisions)), 1 if by == "learner" else group.learners,
                          entry.completions, entry.ceus, entry.pathway_completions)


def _achievement_names(association: Association, ids: list[int]) -> dict[tuple[int, str], str]:
    return {(issuer_id, r.slug): str((r.definition.get("ob") or {}).get("name") or r.slug)
            for issuer_id in ids for r in association.registry.list_achievements(issuer_id)}


def report_csv(report: AssociationReport) -> str:
    """The report as CSV text (header first, totals last); text a spreadsheet would run is written as text."""
    header = [report.by, "name", "divisions", "learners", "completions", "ceus", "pathway_completions"]
    body = [[r.key, r.name, "; ".join(r.divisions), r.learners, r.completions, round(r.ceus, 3),
             r.pathway_completions] for r in (*report.rows, report.totals)]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([[spreadsheet_cell(v) for v in row]
                                                         for row in (header, *body)])
    return buffer.getvalue()


def report_json(report: AssociationReport) -> str:
    """The report as JSON text."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def write_report(report: AssociationReport, path: Path, fmt: str) -> None:
    """Write the report to ``path`` at once (never half-written): CSV as UTF-8 with a BOM, which Excel
    needs to read names rightly, or JSON."""
    if fmt not in FORMATS:
        raise InputError(Code.USAGE, f"--format {fmt!r} is not one of {', '.join(FORMATS)}.")
    text = report_csv(report).encode("utf-8-sig") if fmt == "csv" else report_json(report).encode("utf-8")
    write_file_atomic(path, text)


__all__ = ["FORMATS", "GROUPS", "AssociationReport", "AssociationRow", "association_report", "report_csv",
           "report_json", "write_report"]
