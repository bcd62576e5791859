"""Awarding as a division does it: one person or a whole roster, with the files to hand out.

Rosters are validated in full before anything is signed. Each row is then
planned against the registry's awards (one per person and award key:
``issuer.awarding.issuing.award_key``): new, already issued, or changed (the
row states other data than the credential issued for it). New rows are issued
idempotently, so an interrupted or repeated run resumes where it stopped,
whatever changed in the clock; changed rows are reported, and re-issued only
with ``correct=True`` (the old credential revoked as superseded).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from errors import BadgesmithError, Code, Conflict, InputError, NotFound
from issuer.awarding.issuing import IssueRequest, Issuer, SigningShare, award_key
from issuer.awarding.outputs import CredentialFiles, file_stem, write_credential_files, write_credential_files_many
from issuer.awarding.pathways import award_pathways, award_pathways_many
from issuer.awarding.roster import Absent, Roster, RosterRow, RowError, check_award, read_roster, write_summary_csv
from issuer.awarding.wallet_links import (ClaimPage, OpenClaimPage, start_claim_pages, summary_claim_pages,
                                         withdraw_claim_pages)
from issuer.awarding.roster_columns import check_mapping
from issuer.awarding.roster_workers import POOL_MIN_ROWS, RosterWorkers, Syncing, chain
from issuer.awarding.status_changes import credential_id_from, publish_status_lists
from issuer.badge.achievement import Achievement
from issuer.badge.recipient import lookup_key
from issuer.store.models import CredentialRecord

NEW, EXISTING, CHANGED, CORRECTED, SKIPPED = "new", "already issued", "changed", "corrected", "skipped"
# A certification issued now that expires sooner than this gets a warning (issue 16).
EXPIRY_WARNING = timedelta(days=30)
# A wallet claim page per award and its PIN to send separately, or a note that its page is still open from an
# earlier run (issue 20).
SUMMARY_COLUMNS = ("line", "email", "name", "credential_id", "page_url", "status", "differences", "files",
                   "claim_link", "claim_pin", "claim_note")


@dataclass(frozen=True, slots=True)
class Awarded:
    """One issued (or already issued) credential and its files."""

    record: CredentialRecord
    created: bool
    page_url: str
    files: CredentialFiles
    pathways: tuple[Awarded, ...] = ()  # pathway awards this credential completed (issuer.awarding.pathways)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.record.id, "created": self.created, "achievement": self.record.achievement,
                "recipient": self.record.recipient_name, "page": self.page_url,
                "files": [str(p) for p in self.files.as_list()],
                "pathway_awards": [p.to_dict() for p in self.pathways]}


@dataclass(frozen=True, slots=True)
class RowPlan:
    """What a roster row is against the registry: ``new``, ``already issued`` or ``changed`` (the row
    states other data than the credential issued for this award; ``differences`` say what)."""

    row: RosterRow
    state: str
    existing: CredentialRecord | None = None
    differences: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.row.line, "email": self.row.email, "state": self.state,
                "credential_id": self.existing.id if self.existing else None,
                "differences": list(self.differences)}


@dataclass(slots=True)
class RosterSummary:
    """What a roster run did."""

    created: int = 0
    existing: int = 0
    corrected: int = 0
    skipped: list[str] = field(default_factory=list)
    changed: list[RowPlan] = field(default_factory=list)  # differences not re-issued (no ``correct``)
    ignored: tuple[str, ...] = ()  # headers of the columns not read
    absent: tuple[Absent, ...] = ()  # rows marked not attended: skipped, not issued
    summary_csv: Path | None = None
    awarded: list[Awarded] = field(default_factory=list)
    pathway_awards: list[Awarded] = field(default_factory=list)
    expiring: list[Awarded] = field(default_factory=list)  # issued (or corrected) now, expiring within 30 days
    claim_pages: int = 0  # new wallet claim pages in the summary CSV
    claim_pages_open: int = 0  # rows whose award has a claim page still open from earlier (none made again)

    def to_dict(self) -> dict[str, Any]:
        return {"expiring_soon": [a.record.id for a in self.expiring], "created": self.created, "existing": self.existing, "corrected": self.corrected,
                "skipped": self.skipped, "not_attended": [a.line for a in self.absent],
                "changed": [p.to_dict() for p in self.changed],
                "ignored_columns": list(self.ignored),
                "summary": str(self.summary_csv) if self.summary_csv else None,
                "claim_pages": {"new": self.claim_pages, "still_open": self.claim_pages_open},
                "credentials": [a.to_dict() for a in self.awarded],
                "pathway_awards": [a.to_dict() for a in self.pathway_awards]}


def _files(issuer: Issuer, record: CredentialRecord, *, refresh: bool,
           definition: dict[str, Any] | None = None,
           listing: Mapping[str, int] | None = None) -> tuple[str, CredentialFiles]:
    """The credential's page and files, written when ``refresh`` or when one is missing. ``listing`` (file
    name -> size, ``_folder_sizes``) saves a re-run of 10,000 rows 40,000 stat calls."""
    page = issuer.credential_page(record.id)
    definition = definition or issuer.achievement(record.achievement)
    files = write_credential_files(issuer.settings, definition, record, page) if refresh else None
    if files is None:
        folder = issuer.settings.out_dir / record.achievement
        stem = file_stem(record)
        sizes = listing if listing is not None else _folder_sizes(folder, stem)
        files = CredentialFiles(folder / f"{stem}.{'jwt' if record.format == 'jwt' else 'json'}",
                                folder / f"{stem}.png", folder / f"{stem}-qr.png",
                                folder / f"{stem}.svg" if f"{stem}.svg" in sizes else None)
        # Empty counts as missing: a crash between rename and flush can leave one behind.
        if not all(sizes.get(p.name) for p in files.as_list()):
            files = write_credential_files(issuer.settings, definition, record, page)
    return page, files


def _folder_sizes(folder: Path, stem: str | None = None) -> dict[str, int]:
    """File name -> size in ``folder`` (only the names starting with ``stem`` when given); {} when missing."""
    try:
        with os.scandir(folder) as entries:
            return {e.name: e.stat().st_size for e in entries
                    if (stem is None or e.name.startswith(stem)) and e.is_file()}
    except FileNotFoundError:
        return {}


def expires_soon(record: CredentialRecord, now: datetime) -> bool:
    """True when ``record`` has a validUntil less than 30 days after ``now`` (a warning when issuing it)."""
    return record.valid_until is not None and record.valid_until - now < EXPIRY_WARNING


def issue_single(issuer: Issuer, slug: str, request: IssueRequest, *, suspension: bool = False) -> Awarded:
    """Issue one credential and write its files (a repeat returns the stored one)."""
    issued = issuer.issue(slug, request, suspension=suspension)
    page, files = _files(issuer, issued.record, refresh=issued.created)
    pathways = _award_pathways(issuer, request.email)
    publish_status_lists(issuer)
    return Awarded(issued.record, issued.created, page, files, pathways)


def _award_pathways(issuer: Issuer, email: str) -> tuple[Awarded, ...]:
    """Award the pathways this person has now completed (each once: issuer.pathways), with their files."""
    return _with_files(issuer, award_pathways(issuer, email))


def _with_files(issuer: Issuer, issued: list) -> tuple[Awarded, ...]:
    return tuple(Awarded(i.record, i.created, *_files(issuer, i.record, refresh=i.created)) for i in issued)


def _shape(slug: str, definition: dict[str, Any]) -> Achievement:
    """The stored achievement as the row checks need it (id, name, credits available)."""
    ob = definition["ob"]
    return Achievement(id=slug, name=ob["name"], description=ob.get("description", ""), criteria="",
                       achievement_type=ob.get("achievementType", "Achievement"),
                       credits_available=ob.get("creditsAvailable"), repeatable=bool(definition.get("repeatable")),
                       valid_for=definition.get("valid_for"))


def checked_request(issuer: Issuer, slug: str, values: Mapping[str, str | None], *,
                    fmt: str | None = None, allow_expired: bool = False) -> IssueRequest:
    """An award typed by staff (``badgesmith issue --email …``), checked exactly as a roster row is:
    a date not in the future, an https evidence URL, a DID, lengths, credits within what is offered."""
    row = check_award(values, achievement=_shape(slug, issuer.achievement(slug)), today=issuer.now().date(),
                      allow_expired=allow_expired)
    return IssueRequest.from_row(row, fmt)


def award_one(issuer: Issuer, slug: str, values: Mapping[str, str | None], *, fmt: str | None = None,
              suspension: bool = False, allow_expired: bool = False) -> Awarded:
    """``badgesmith issue --email …``: check the typed award as a roster row (``checked_request``), then
    ``issue_single``."""
    return issue_single(issuer, slug, checked_request(issuer, slug, values, fmt=fmt, allow_expired=allow_expired),
                        suspension=suspension)


def plan_roster(issuer: Issuer, slug: str, rows: list[RosterRow], *,
                definition: dict[str, Any] | None = None) -> list[RowPlan]:
    """Each valid row against the registry (one query per 500 people; nothing is signed)."""
    definition = definition or issuer.achievement(slug)
    today = issuer.now().date()
    keys = [(lookup_key(row.email, issuer.settings.lookup_secret), award_key(definition, IssueRequest.from_row(row),
                                                                              today)) for row in rows]
    found = issuer.registry.find_awards(issuer.issuer_id, slug, keys)
    plans = []
    for row, key in zip(rows, keys):
        existing = found.get(key)
        if existing is None:
            plans.append(RowPlan(row, NEW))
            continue
        differences = _differences(row, existing, definition)
        plans.append(RowPlan(row, CHANGED if differences else EXISTING, existing, differences))
    return plans


def _differences(row: RosterRow, record: CredentialRecord, definition: dict[str, Any]) -> tuple[str, ...]:
    """What the row states that the issued credential does not (an empty cell states nothing)."""
    stored = {"date": record.issued_on, "credits": record.credits, "name": record.recipient_name,
              "did": record.recipient_did, "organization": record.organization}
    given = row.given()
    if "evidence" in given:
        stored["evidence"] = _stored_evidence(record)
    changes = []
    for name, value in given.items():
        before = stored.get(name)
        same = (before is not None and abs(float(before) - value) < 1e-9) if name == "credits" else before == value
        if not same:
            shown = value.isoformat() if name == "date" else f"{value:g}" if name == "credits" else value
            was = before.isoformat() if name == "date" and before else f"{before:g}" if (
                name == "credits" and before is not None) else before or "(none)"
            changes.append(f"{name}: {was} -> {shown}")
    return tuple(changes)


def _stored_credential(record: CredentialRecord) -> dict[str, Any]:
    """The issued credential as a dict (a VC-JWT's payload read back as the credential)."""
    try:
        if record.format == "jwt":
            from keys.vc_jwt import decode_jwt
            from verifier.pipeline import credential_from_jwt_payload

            return credential_from_jwt_payload(decode_jwt(record.credential)[1])
        return json.loads(record.credential)
    except (ValueError, KeyError, TypeError):
        return {}


def _stored_evidence(record: CredentialRecord) -> str | None:
    """The evidence URL the issued credential names (its first Evidence with an https id)."""
    return next((item["id"] for item in _evidence_items(record) if _is_evidence_url(item)), None)


def _evidence_items(record: CredentialRecord) -> list[dict[str, Any]]:
    items = _stored_credential(record).get("evidence") or []
    return [item for item in (items if isinstance(items, list) else [items]) if isinstance(item, dict)]


def _is_evidence_url(item: dict[str, Any]) -> bool:
    """An Evidence that is only a URL, as ``--evidence`` and a roster's evidence column make it."""
    return str(item.get("id", "")).startswith("https://") and set(item) <= {"id", "type"}


@dataclass(frozen=True, slots=True)
class Reissued:
    """``badgesmith reissue``: the corrected credential, the one it superseded and what differs."""

    awarded: Awarded
    previous: str
    differences: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.awarded.to_dict(), "supersedes": self.previous, "differences": list(self.differences)}


REISSUE_FIELDS = ("date", "credits", "name", "evidence")


def reissue_award(issuer: Issuer, credential_id: str, changes: Mapping[str, str | None], *,
                  allow_expired: bool = False) -> Reissued:
    """Correct one award (``badgesmith reissue ID|URL --date/--credits/--name/--evidence``; the id or the badge
    page URL, as ``revoke`` takes them) as ``issue --roster
    --correct`` corrects a changed row: the award's data with ``changes`` over it, checked as a roster row,
    re-issued by ``Issuer.reissue`` (the old credential revoked as "superseded by <new id>" in the same
    transaction). Everything not changed is carried over: recipient, DID, organization, format,
    suspendability, a renewal's cycle and evidence, a session.

    USAGE when nothing is given or nothing differs, or when a repeatable achievement's new date would make it
    another award; CREDENTIAL_NOT_FOUND; STATUS_CHANGE_INVALID when it is not a current award.
    """
    given = {name: value for name, value in changes.items() if value is not None}
    unknown = set(given) - set(REISSUE_FIELDS)
    if not given or unknown:
        raise InputError(Code.USAGE, "Give what to correct: --date, --credits, --name and/or --evidence.")
    record = issuer.registry.get_credential(credential_id_from(issuer, credential_id), issuer_id=issuer.issuer_id)
    if record is None:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"There is no credential {credential_id} in this instance.")
    if record.achievement is None or record.award_key is None or record.status == "revoked":
        what = "a VC API credential" if record.achievement is None else (
            f"superseded by {record.superseded_by}" if record.superseded_by else record.status
            if record.status == "revoked" else "not the current award")
        raise Conflict(Code.STATUS_CHANGE_INVALID, f"{record.id} is {what}: only a current award can be "
                       "re-issued; nothing was re-issued.")
    if not record.recipient_email:
        raise Conflict(Code.STATUS_CHANGE_INVALID, f"No e-mail address is stored with {record.id} (issued before "
                       "addresses were kept): revoke it and issue the award again with `badgesmith issue`.")
    definition = issuer.achievement(record.achievement)
    kind, _, value = record.award_key.partition(":")
    values = {"email": record.recipient_email, "name": record.recipient_name, "did": record.recipient_did,
              "credits": None if record.credits is None else f"{record.credits:g}",
              "date": record.issued_on.isoformat(), "evidence": _stored_evidence(record),
              "organization": record.organization, "session": value if kind == "session" else None, **given}
    row = check_award(values, achievement=_shape(record.achievement, definition), today=issuer.now().date(),
                      allow_expired=allow_expired)
    differences = _differences(row, record, definition)
    if not differences:
        raise InputError(Code.USAGE, f"{record.id} already says that: nothing to re-issue.")
    request = replace(IssueRequest.from_row(row, record.format), renews=value if kind == "renews" else None,
                      evidence_items=tuple(i for i in _evidence_items(record) if not _is_evidence_url(i)),
                      starts=record.valid_from.date() if record.valid_from.date() != record.issued_on else None)
    if award_key(definition, request, row.date) != record.award_key:
        raise InputError(Code.USAGE, f"{record.achievement!r} is repeatable and its awards are told apart by date: "
                         f"on {row.date.isoformat()} it would be another award. Revoke {record.id} and issue that "
                         "one instead.")
    issued = issuer.reissue(record, request, definition=definition)
    page, files = _files(issuer, issued.record, refresh=True, definition=definition)
    pathways = _award_pathways(issuer, record.recipient_email)
    publish_status_lists(issuer)
    return Reissued(Awarded(issued.record, True, page, files, pathways), record.id, differences)


@dataclass(frozen=True, slots=True)
class RosterCheck:
    """A dry run (``issue --roster FILE --dry-run``): every bad row with its reason, and what the valid rows
    would be. The rows are checked by the same ``read_roster`` a real run uses, whose evidence and DID rules
    are the self-check's (``verifier.data_model.is_url``), so a row that passes here does not fail at signing."""

    roster: str
    errors: tuple[RowError, ...]
    plans: tuple[RowPlan, ...]
    correct: bool = False
    ignored: tuple[str, ...] = ()  # headers of the columns not read
    absent: tuple[Absent, ...] = ()  # rows marked not attended (they would be skipped)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def count(self, state: str) -> int:
        return sum(1 for p in self.plans if p.state == state)

    def to_dict(self) -> dict[str, Any]:
        return {"roster": self.roster, "valid": self.is_valid, "new": self.count(NEW),
                "already_issued": self.count(EXISTING),
                "corrected" if self.correct else "changed": self.count(CHANGED),
                "invalid_rows": len({e.line for e in self.errors}), "not_attended": len(self.absent),
                "errors": [{"line": e.line, "field": e.field, "code": e.code.value, "message": e.message}
                           for e in self.errors],
                "changed_rows": [p.to_dict() for p in self.plans if p.state == CHANGED],
                "ignored_columns": list(self.ignored)}


@dataclass(frozen=True, slots=True)
class RosterOptions:
    """How to read a roster file (the ``issue --roster`` options that are not about issuing)."""

    columns: Mapping[str, str] | None = None  # --map, over [roster.columns]
    strict: bool = False  # refuse unknown columns
    allow_expired: bool = False  # issue a certification already expired
    sheet: str | None = None  # a workbook's sheet (default: the first)
    date_order: str | None = None  # MDY or DMY (default: [roster] date_order, else the file's own dates)


def check_roster(issuer: Issuer, slug: str, roster: Path, *, correct: bool = False,
                 options: RosterOptions = RosterOptions()) -> RosterCheck:
    """Check every row and plan it against the registry; nothing is signed or stored."""
    definition = issuer.achievement(slug)
    parsed = _read(issuer, slug, definition, roster, options)
    return RosterCheck(roster.name, tuple(parsed.errors),
                       tuple(plan_roster(issuer, slug, parsed.rows, definition=definition)), correct,
                       parsed.ignored, tuple(parsed.absent))


def _read(issuer: Issuer, slug: str, definition: dict[str, Any], roster: Path, options: RosterOptions) -> Roster:
    """The roster read with the instance's [roster.columns] and then ``--map`` (which wins), and dates in
    ``--date-order``, else the instance's [roster] date_order."""
    mapping = {**check_mapping(dict(issuer.settings.roster_columns), where="[roster.columns] in badgesmith.toml:",
                                 settings=True),
               **(options.columns or {})}
    return read_roster(roster, achievement=_shape(slug, definition), today=issuer.now().date(), columns=mapping,
                       strict=options.strict, allow_expired=options.allow_expired, sheet=options.sheet,
                       date_order=options.date_order or issuer.settings.roster_date_order)


def issue_roster(issuer: Issuer, slug: str, roster: Path, *, skip_invalid: bool = False, correct: bool = False,
                 fmt: str | None = None, suspension: bool = False, progress: bool = False,
                 options: RosterOptions = RosterOptions()) -> RosterSummary:
    """Validate every row, plan them against the registry, then issue the new ones (idempotently),
    re-issue the changed ones when ``correct`` (else report them), and write a summary CSV. Rows marked
    not attended are left out and listed as skipped."""
    definition = issuer.achievement(slug)
    started: list[RosterWorkers] = []
    pages: dict[str, ClaimPage | OpenClaimPage] = {}
    try:
        return _issue_roster(issuer, slug, definition, roster, skip_invalid, correct, fmt, suspension, progress,
                             options, started, pages)
    except BaseException:
        # Pages whose link and PIN no summary will show: still pending (never open), so they are deleted
        # now rather than left for the pruning. (If that fails too, the run's own error is the one to report.)
        with contextlib.suppress(Exception):
            withdraw_claim_pages(issuer, pages.values())
        raise
    finally:
        for workers in started:
            workers.close(wait=False)  # a run that stopped early: nothing is left to write


def _issue_roster(issuer: Issuer, slug: str, definition: dict[str, Any], roster: Path, skip_invalid: bool,
                  correct: bool, fmt: str | None, suspension: bool, progress: bool, options: RosterOptions,
                  started: list[RosterWorkers], pages: dict[str, ClaimPage | OpenClaimPage]) -> RosterSummary:
    """``issue_roster``; the workers it starts go into ``started``, the claim pages it makes into ``pages``."""
    parsed = _read(issuer, slug, definition, roster, options)
    if parsed.errors and not skip_invalid:
        raise parsed.to_error(f"The roster {roster.name}")
    summary = RosterSummary(skipped=[str(e) for e in parsed.errors], ignored=parsed.ignored,
                            absent=tuple(parsed.absent))
    plans = plan_roster(issuer, slug, parsed.rows, definition=definition)
    rows = []

    def note(row: RosterRow, awarded: Awarded, status: str, differences: tuple[str, ...] = ()) -> None:
        summary.awarded.append(awarded)
        rows.append({"line": row.line, "email": row.email, "name": row.name or "",
                     "credential_id": awarded.record.id, "page_url": awarded.page_url, "status": status,
                     "differences": "; ".join(differences),
                     "files": " ".join(str(p) for p in awarded.files.as_list())})

    # Already issued rows need no signing and no registry write: the plan holds their credential. Only their
    # files are checked (one folder listing), and rewritten if missing.
    listing = _folder_sizes(issuer.settings.out_dir / slug)
    done = {p.row.line: (p.row, Awarded(p.existing, False, *_files(issuer, p.existing, refresh=False,
                                                                    definition=definition, listing=listing)))
            for p in plans if p.state == EXISTING}
    to_issue = [p.row for p in plans if p.state == NEW]
    # Started once the rows to sign are known (a re-run with nothing new needs none); this process signs
    # whole batches until both have started (importing Badgesmith takes a worker about half a second).
    workers = RosterWorkers() if len(to_issue) >= POOL_MIN_ROWS else None
    if workers is not None:
        started.append(workers)
    # The awards the summary lists that this run does not re-issue (a correction supersedes its old award).
    kept = [p.existing.id for p in plans if p.state == EXISTING or (p.state == CHANGED and not correct)]

    def make_pages(new_ids: list[str]) -> None:
        # Made once the last batch is stored, while the workers write its files and sync them.
        pages.update(summary_claim_pages(issuer, kept + new_ids, just_issued=new_ids, pending=True))

    try:
        for row, awarded in _issue_rows(issuer, slug, definition, to_issue, fmt, suspension, progress, workers,
                                        stored=make_pages):
            done[row.line] = (row, awarded)
    except BadgesmithError as exc:
        raise _stopped(issuer, slug, definition, plans, exc) from exc
    syncing = Syncing() if workers is not None else None  # the workers' files, without a sync each
    for line in sorted(done):
        row, awarded = done[line]
        if awarded.created:
            summary.created += 1
        else:
            summary.existing += 1  # already issued (or stored by a run at the same time as this one)
        note(row, awarded, NEW if awarded.created else EXISTING)
    for plan in (p for p in plans if p.state == CHANGED):
        if not correct:
            summary.changed.append(plan)
            rows.append({"line": plan.row.line, "email": plan.row.email, "name": plan.row.name or "",
                         "credential_id": plan.existing.id, "page_url": issuer.credential_page(plan.existing.id),
                         "status": "changed (not re-issued without --correct)",
                         "differences": "; ".join(plan.differences), "files": ""})
            continue
        issued = issuer.reissue(plan.existing, IssueRequest.from_row(plan.row, fmt), definition=definition)
        summary.corrected += 1
        note(plan.row, Awarded(issued.record, True, *_files(issuer, issued.record, refresh=True,
                                                             definition=definition)), CORRECTED,
             plan.differences)
    for line, problems in _by_line(parsed.errors).items():  # --skip-invalid: the rows left out, and why
        rows.append({"line": line, "email": "", "name": "", "credential_id": "", "page_url": "", "status": SKIPPED,
                     "differences": "; ".join(f"{e.field}: {e.message}" for e in problems), "files": ""})
    for absent in parsed.absent:  # marked not attended: never issued
        rows.append({"line": absent.line, "email": absent.email, "name": absent.name or "", "credential_id": "",
                     "page_url": "", "status": SKIPPED, "differences": absent.reason, "files": ""})
    rows.sort(key=lambda r: r["line"])
    summary.expiring = [a for a in summary.awarded if a.created and expires_soon(a.record, issuer.now())]
    # After the rows, for everyone on it: a re-run or a resumed run evaluates them again (idempotent).
    summary.pathway_awards.extend(_with_files(issuer, award_pathways_many(issuer, [r.email for r in parsed.rows])))
    summary.summary_csv = _new_summary_path(issuer.settings.out_dir / slug, roster.stem, issuer.now())
    listed = [r["credential_id"] for r in rows if r["credential_id"]]
    pages.update(summary_claim_pages(issuer, [i for i in listed if i not in pages],  # corrected ones, or all
                                     pending=True))
    for row in rows:
        row.update(_claim_columns(row["credential_id"], pages.get(row["credential_id"])))
    summary.claim_pages = sum(isinstance(pages.get(i), ClaimPage) for i in listed)
    summary.claim_pages_open = sum(isinstance(pages.get(i), OpenClaimPage) for i in listed)
    write_summary_csv(summary.summary_csv, rows, SUMMARY_COLUMNS)
    # The pages were made pending (not open): a run killed before this point leaves none open with a PIN
    # nobody saw, and its re-run makes new ones. Their links and PINs are written now: open them.
    try:
        start_claim_pages(issuer, pages.values())
    except BaseException:
        summary.summary_csv.unlink(missing_ok=True)  # it would show pages that never open
        raise
    pages.clear()  # shown in the summary: never withdrawn now
    publish_status_lists(issuer)
    if syncing is not None:
        syncing.wait()
    return summary


def _claim_columns(credential_id: str, page: ClaimPage | OpenClaimPage | None) -> dict[str, str]:
    """A summary row's claim_link, claim_pin and claim_note: a new page, or where the open one is."""
    if isinstance(page, ClaimPage):
        return {"claim_link": page.url, "claim_pin": page.pin, "claim_note": ""}
    if isinstance(page, OpenClaimPage):
        return {"claim_link": "", "claim_pin": "", "claim_note": (
            f"claim page handed out earlier (an earlier summary or e-mail), open until "
            f"{page.expires_at:%Y-%m-%d}; a new one: badgesmith claim-link {credential_id} --claim-page")}
    return {"claim_link": "", "claim_pin": "", "claim_note": ""}


def _by_line(errors: list[RowError]) -> dict[int, list[RowError]]:
    grouped: dict[int, list[RowError]] = {}
    for error in errors:
        grouped.setdefault(error.line, []).append(error)
    return grouped


def _new_summary_path(folder: Path, stem: str, now: Any) -> Path:
    """``<roster>-summary-<UTC time>.csv``, claimed with an exclusive create so no run overwrites another's."""
    folder.mkdir(parents=True, exist_ok=True)
    base = f"{stem}-summary-{now.strftime('%Y%m%dT%H%M%SZ')}"
    for n in range(1, 1000):
        path = folder / (f"{base}.csv" if n == 1 else f"{base}-{n}.csv")
        try:
            with path.open("x"):
                return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder / base}.csv")


def _stopped(issuer: Issuer, slug: str, definition: dict[str, Any], plans: list[RowPlan],
             exc: BadgesmithError) -> BadgesmithError:
    """The error of a run that stopped part-way, saying what it did store (finished batches stay)."""
    new = [p.row for p in plans if p.state == NEW]
    stored = sum(1 for p in plan_roster(issuer, slug, new, definition=definition) if p.state != NEW)
    lines = exc.details.get("lines")
    where = f" in the rows on lines {lines[0]}-{lines[1]}" if lines else ""
    message = (f"The roster run stopped{where}: {exc.message.rstrip('.')}. {stored} of its {len(new)} new "
               f"credential(s) were stored before that and stay issued; {len(new) - stored} were not. Fix the "
               "row and run the same command again: it resumes after the stored ones.")
    return type(exc)(exc.code, message, **{**exc.details, "stored": stored, "not_stored": len(new) - stored})


# Rows per registry transaction in a roster run: a commit waits for the disk (5-10 ms on the project's VM),
# and this process is what a run waits for; 200 rather than 100 took a 10,000-row run from 13.3 to 12.7 s.
_BATCH_ROWS = 200


def _issue_rows(issuer: Issuer, slug: str, definition: dict[str, Any], rows: list, fmt: str | None,
                suspension: bool, progress: bool, workers: RosterWorkers | None = None,
                stored: Callable[[list[str]], None] | None = None):
    """Yield (row, Awarded) in roster order.

    One registry transaction per batch of ``_BATCH_ROWS`` rows (a commit per
    row would cost more than signing; an interrupted run keeps every batch it
    finished, and the idempotency key makes the re-run skip them). The
    ``workers`` (``issuer.awarding.roster_workers``; none for a short roster)
    sign a share of each batch while this process signs the rest
    (``Issuer.issue_many``), and write the files of the new credentials (QR,
    baking) once their batch is committed, while the next batch is signed: a
    rolled-back batch leaves no files, and a re-run rewrites any that are
    missing. ``stored`` is called with the ids of the new credentials once the
    last batch is committed, before waiting for the last files (the summary's
    claim pages are made meanwhile). The workers are closed when the generator
    finishes; the files they wrote (without a sync each) are synced here if it
    stops on an error, else by the caller (``Syncing``), beside the summary.
    """
    from concurrent.futures import BrokenExecutor, Future

    pool = workers.pool if workers is not None else None
    share = SigningShare()  # of each batch, signed by the workers: follows how busy their files keep them
    finished = False
    # (row, record, created, page, its files, or the batch's future files and the credential's place in them)
    pending: list[tuple[Any, CredentialRecord, bool, str, tuple[Future, int] | CredentialFiles]] = []

    # The committed batch whose files are not yet handed out: they go to the workers once the next batch's
    # share of signing is (Issuer.issue_many's ``meanwhile``), so that the signing this process waits for
    # never queues behind a batch of files; the last batch's go after the loop, or on an error.
    unwritten: list[tuple[list, Future]] = []

    def hand_out_files() -> None:
        for fresh, written in unwritten:
            # One task per half batch (one per worker): the settings and the achievement cross once.
            middle = (len(fresh) + 1) // 2
            halves = [pool.submit(write_credential_files_many, issuer.settings, definition, part, durable=False)
                      for part in (fresh[:middle], fresh[middle:]) if part]
            chain(halves, written)
        unwritten.clear()

    def start(batch: list) -> None:
        requests = [IssueRequest.from_row(row, fmt) for row in batch]
        try:
            # Until both workers have started, this process signs the whole batch.
            issued_batch = issuer.issue_many(slug, requests, suspension=suspension, definition=definition,
                                             pool=workers.ready() if workers is not None else None,
                                             meanwhile=hand_out_files if pool is not None else None, share=share)
        except BadgesmithError as exc:  # the batch rolled back: say which rows it held
            exc.details.setdefault("lines", [batch[0].line, batch[-1].line])
            raise
        pages = [issuer.credential_page(issued.record.id) for issued in issued_batch]
        fresh = [(issued.record, page) for issued, page in zip(issued_batch, pages) if issued.created]
        written: Future | None = Future() if pool is not None and fresh else None
        if written is not None:
            unwritten.append((fresh, written))
        place = 0
        for row, issued, page in zip(batch, issued_batch, pages):
            if issued.created and written is not None:
                files: tuple[Future, int] | CredentialFiles = (written, place)
                place += 1
            else:
                page, files = _files(issuer, issued.record, refresh=issued.created, definition=definition)
            pending.append((row, issued.record, issued.created, page, files))

    batches = [rows[i:i + _BATCH_ROWS] for i in range(0, len(rows), _BATCH_ROWS)]

    def finish(entry) -> tuple[Any, Awarded]:
        row, record, created, page, files = entry
        if isinstance(files, tuple):
            future, place = files
            files = future.result()[place]
        return row, Awarded(record, created, page, files)

    def all_stored() -> None:
        if pool is not None:
            hand_out_files()
        if stored is not None:
            stored([record.id for _, record, created, _, _ in pending if created])

    try:
        with _progress_bar(len(rows)) if progress else contextlib.nullcontext(lambda done: None) as advance:
            for batch in batches:
                start(batch)
                advance(len(batch))
        all_stored()
        for entry in pending:
            yield finish(entry)
        finished = True
    finally:
        if pool is not None:
            with contextlib.suppress(BrokenExecutor):  # a dead pool writes nothing: a re-run writes them
                hand_out_files()  # a later batch failed: the committed ones still get their files
            workers.close()  # files of every stored credential get written, even on an error
            if not finished:
                os.sync()


@contextlib.contextmanager
def _progress_bar(total: int):
    """A transient "issuing" bar on the terminal; yields the function that advances it by n rows."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("issuing", total=total)
        yield lambda done: bar.advance(task, done)


__all__ = ["Awarded", "CHANGED", "CORRECTED", "EXISTING", "NEW", "REISSUE_FIELDS", "Reissued", "RosterCheck",
           "RosterOptions", "RosterSummary", "RowPlan", "award_one", "check_roster", "checked_request",
           "expires_soon", "issue_roster", "issue_single", "plan_roster", "reissue_award"]
