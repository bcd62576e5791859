"""Awarding as a division does it: one person or a whole roster, with the files to hand out.

Rosters are validated in full before anything is signed; the loop is
idempotent (the registry's unique award key), so an interrupted or repeated
run resumes where it stopped and never issues the same person the same
achievement twice for the same date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.outputs import CredentialFiles, file_stem, write_credential_files
from issuer.awarding.pathways import award_pathways, award_pathways_many
from issuer.awarding.roster import check_award, read_roster, write_summary_csv
from issuer.awarding.status_changes import publish_status_lists
from issuer.badge.achievement import Achievement
from issuer.store.models import CredentialRecord


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


@dataclass(slots=True)
class RosterSummary:
    """What a roster run did."""

    created: int = 0
    existing: int = 0
    skipped: list[str] = field(default_factory=list)
    summary_csv: Path | None = None
    awarded: list[Awarded] = field(default_factory=list)
    pathway_awards: list[Awarded] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "existing": self.existing, "skipped": self.skipped,
                "summary": str(self.summary_csv) if self.summary_csv else None,
                "credentials": [a.to_dict() for a in self.awarded],
                "pathway_awards": [a.to_dict() for a in self.pathway_awards]}


def _files(issuer: Issuer, record: CredentialRecord, *, refresh: bool,
           definition: dict[str, Any] | None = None) -> tuple[str, CredentialFiles]:
    page = issuer.credential_page(record.id)
    definition = definition or issuer.achievement(record.achievement)
    files = write_credential_files(issuer.settings, definition, record, page) if refresh else None
    if files is None:
        folder = issuer.settings.out_dir / record.achievement
        stem = file_stem(record)
        files = CredentialFiles(folder / f"{stem}.{'jwt' if record.format == 'jwt' else 'json'}",
                                folder / f"{stem}.png", folder / f"{stem}-qr.png",
                                folder / f"{stem}.svg" if (folder / f"{stem}.svg").exists() else None)
        # Empty counts as missing: a crash between rename and flush can leave one behind.
        if not all(p.exists() and p.stat().st_size for p in files.as_list()):
            files = write_credential_files(issuer.settings, definition, record, page)
    return page, files


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
                       credits_available=ob.get("creditsAvailable"))


def checked_request(issuer: Issuer, slug: str, values: Mapping[str, str | None], *,
                    fmt: str | None = None) -> IssueRequest:
    """An award typed by staff (``badgesmith issue --email …``), checked exactly as a roster row is:
    a date not in the future, an https evidence URL, a DID, lengths, credits within what is offered."""
    row = check_award(values, achievement=_shape(slug, issuer.achievement(slug)), today=issuer.now().date())
    return IssueRequest.from_row(row, fmt)


def award_one(issuer: Issuer, slug: str, values: Mapping[str, str | None], *, fmt: str | None = None,
              suspension: bool = False) -> Awarded:
    """``badgesmith issue --email …``: check the typed award as a roster row (``checked_request``), then
    ``issue_single``."""
    return issue_single(issuer, slug, checked_request(issuer, slug, values, fmt=fmt), suspension=suspension)


def issue_roster(issuer: Issuer, slug: str, roster: Path, *, skip_invalid: bool = False,
                 fmt: str | None = None, suspension: bool = False, progress: bool = False) -> RosterSummary:
    """Validate every row, then issue the valid ones (idempotently) and write a summary CSV."""
    definition = issuer.achievement(slug)
    parsed = read_roster(roster, achievement=_shape(slug, definition), today=issuer.now().date())
    if parsed.errors and not skip_invalid:
        raise parsed.to_error(f"The roster {roster.name}")
    summary = RosterSummary(skipped=[str(e) for e in parsed.errors])
    rows = []
    for row, awarded in _issue_rows(issuer, slug, definition, parsed.rows, fmt, suspension, progress):
        summary.awarded.append(awarded)
        if awarded.created:
            summary.created += 1
        else:
            summary.existing += 1
        rows.append({"line": row.line, "email": row.email, "name": row.name or "", "credential_id": awarded.record.id,
                     "page_url": awarded.page_url, "status": "issued" if awarded.created else "already issued",
                     "files": " ".join(str(p) for p in awarded.files.as_list())})
    # After the rows, for everyone on it: a re-run or a resumed run evaluates them again (idempotent).
    summary.pathway_awards.extend(_with_files(issuer, award_pathways_many(issuer, [r.email for r in parsed.rows])))
    summary.summary_csv = issuer.settings.out_dir / slug / f"{roster.stem}-summary.csv"
    summary.summary_csv.parent.mkdir(parents=True, exist_ok=True)
    write_summary_csv(summary.summary_csv, rows)
    publish_status_lists(issuer)
    return summary


# Below this many new credentials, starting worker processes costs more than it saves.
_POOL_MIN_ROWS = 20
# Rows per registry transaction in a roster run.
_BATCH_ROWS = 100


def _issue_rows(issuer: Issuer, slug: str, definition: dict[str, Any], rows: list, fmt: str | None,
                suspension: bool, progress: bool):
    """Yield (row, Awarded) in roster order.

    Signing stays in this process, one registry transaction per batch of
    ``_BATCH_ROWS`` rows (a commit per row would cost more than signing; an
    interrupted run keeps every batch it finished, and the idempotency key
    makes the re-run skip them). The files of a new credential (QR, baking)
    go to worker processes and are made while the next rows are signed; a
    re-run rewrites any that are missing.
    """
    from concurrent.futures import Future

    pool, lifeline = _start_pool() if len(rows) >= _POOL_MIN_ROWS else (None, ())
    pending: list[tuple[Any, CredentialRecord, bool, str, Future | CredentialFiles]] = []

    def start(batch: list) -> None:
        requests = [IssueRequest.from_row(row, fmt) for row in batch]
        for row, issued in zip(batch, issuer.issue_many(slug, requests, suspension=suspension,
                                                        definition=definition)):
            page = issuer.credential_page(issued.record.id)
            if issued.created and pool is not None:
                files = pool.submit(write_credential_files, issuer.settings, definition, issued.record, page,
                                    durable=False)
            else:
                page, files = _files(issuer, issued.record, refresh=issued.created, definition=definition)
            pending.append((row, issued.record, issued.created, page, files))

    batches = [rows[i:i + _BATCH_ROWS] for i in range(0, len(rows), _BATCH_ROWS)]

    def finish(entry) -> tuple[Any, Awarded]:
        row, record, created, page, files = entry
        return row, Awarded(record, created, page, files.result() if isinstance(files, Future) else files)

    try:
        if not progress:
            for batch in batches:
                start(batch)
            for entry in pending:
                yield finish(entry)
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      transient=True) as bar:
            task = bar.add_task("issuing", total=len(rows))
            for batch in batches:
                start(batch)
                bar.advance(task, len(batch))
        for entry in pending:
            yield finish(entry)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)  # files of every stored credential get written, even on an error
            os.sync()  # the workers skipped a sync per file; one for the whole run
        for end in lifeline:
            end.close()


def _start_pool():
    """A pool of file-writing workers that exit when this process dies, and the lifeline they watch.

    forkserver (spawn where there is none): workers never inherit the
    registry's open connections or the progress bar's thread, unlike fork.
    Each worker gets the read end of a pipe whose only write end stays here:
    when this process dies, even by SIGKILL, the worker reads end-of-file and
    exits, instead of waiting forever on a task queue it holds open itself.
    (The forkserver exits on its own when this process dies.)
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    reader, writer = context.Pipe(duplex=False)
    pool = ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1), mp_context=context,
                               initializer=_exit_with_parent, initargs=(reader,))
    return pool, (reader, writer)


def _exit_with_parent(lifeline) -> None:
    """Worker initializer: a daemon thread that ends the worker once the lifeline's writer is gone."""
    import threading

    def watch() -> None:
        try:
            lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


__all__ = ["Awarded", "RosterSummary", "award_one", "checked_request", "issue_roster", "issue_single"]
