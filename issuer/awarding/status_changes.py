"""Status changes: revoke, suspend or reinstate, then re-sign and republish the status lists.

The published files under ``out/status/`` double as a ``--documents`` folder
(``index.json``), so anyone can verify this instance's credentials offline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from errors import Code, Conflict, InputError
from issuer.awarding.documents import forget_status_lists, signed_status_list_text
from issuer.awarding.issuing import Issuer
from issuer.awarding.outputs import write_status_list
from issuer.instance.files import write_file_atomic
from issuer.store.models import CredentialRecord


def publish_status_lists(issuer: Issuer) -> list[Path]:
    """(Re)write every status list whose published file is missing or older than the list.

    The signed text is also kept in the database at its version, where the association and the other
    divisions sharing it read it (``issuer.awarding.documents``): only this instance holds the key.
    """
    written = []
    kept = issuer.registry.signed_status_list_versions(issuer.issuer_id)
    for status_list in issuer.registry.list_status_lists(issuer.issuer_id):
        if kept.get(status_list.id) != status_list.version:
            issuer.registry.keep_signed_status_list(status_list.id, status_list.version,
                                                    signed_status_list_text(status_list, issuer))
        path = issuer.settings.out_dir / "status" / f"{status_list.purpose}-{status_list.seq}.json"
        marker = path.with_suffix(".version")
        if path.exists() and marker.exists() and marker.read_text().strip() == str(status_list.version):
            continue
        written.append(write_status_list(issuer.settings, status_list.purpose, status_list.seq,
                                         json.loads(signed_status_list_text(status_list, issuer))))
        marker.write_text(str(status_list.version))
    _write_documents_index(issuer)
    return written


def _write_documents_index(issuer: Issuer) -> None:
    # out/status doubles as a --documents folder: verifiers (and the oracle's
    # --status-dir) can check these credentials offline against it.
    index = {s.url: f"{s.purpose}-{s.seq}.json" for s in issuer.registry.list_status_lists(issuer.issuer_id)}
    folder = issuer.settings.out_dir / "status"
    folder.mkdir(parents=True, exist_ok=True)
    write_file_atomic(folder / "index.json", json.dumps(index, indent=2).encode())


MAX_REASON_CHARS = 1000  # as the VC API keeps


# What each action leaves a credential as: asking for it again changes nothing and is no error.
_RESULT = {"revoke": "revoked", "suspend": "suspended", "reinstate": "active"}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A status change: the credential as it is now, the status list file re-signed (None when nothing
    changed), and whether anything changed (False: it already was revoked / suspended / active)."""

    record: CredentialRecord
    path: Path | None
    changed: bool


def credential_id_from(issuer: Issuer, text: str) -> str:
    """The credential id in ``text``: a ``urn:uuid:…`` id, a bare uuid, or this instance's badge page URL
    (``<base url>/credentials/<uuid>``, also one of its sub-pages, with a query or fragment)."""
    text = text.strip()
    if "://" in text:
        pages = issuer.settings.url + "/credentials/"
        if not text.startswith(pages):
            raise InputError(Code.CREDENTIAL_NOT_FOUND, f"{text[:200]} is not a badge page of this instance "
                             f"(they are under {pages}): give the page's URL or the credential's id.")
        text = re.split(r"[/?#]", text[len(pages):], maxsplit=1)[0]
    return text if text.startswith("urn:uuid:") else f"urn:uuid:{text}"


def change_status(issuer: Issuer, credential: str, action: str, *, reason: str | None) -> StatusChange:
    """Revoke, suspend or reinstate ``credential`` (its id or badge page URL), then re-sign and write the
    affected status list. A credential already in the state asked for is left as it is (``changed`` False)."""
    if action not in _RESULT:
        raise InputError(Code.USAGE, f"Unknown status action {action!r}.")
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise InputError(Code.USAGE, f"The reason is longer than {MAX_REASON_CHARS:,} characters; the event log "
                         "keeps a sentence or two, not a document.")
    credential_id = credential_id_from(issuer, credential)
    current = issuer.registry.get_credential(credential_id, issuer_id=issuer.issuer_id)
    if current is not None and current.status == _RESULT[action]:
        return StatusChange(current, None, False)
    if action == "suspend" and current is not None and current.status == "active" and current.suspension_list_id is None:
        # the store would only say "no suspension entry": tell staff what they can do instead
        raise Conflict(Code.STATUS_CHANGE_INVALID, f"Cannot suspend {credential_id}: it was issued without a "
                       "suspension entry, so verifiers could never see it suspended. Revoke it instead if it must "
                       f"stop verifying (badgesmith revoke {credential_id} --reason …), and issue with --suspendable "
                       "the credentials you may need to pause.", status=current.status)
    record = issuer.set_status(credential_id, action, reason=reason)
    forget_status_lists()
    publish_status_lists(issuer)
    purpose = "revocation" if action == "revoke" else "suspension"
    lists = [s for s in issuer.registry.list_status_lists(issuer.issuer_id) if s.purpose == purpose]
    return StatusChange(record, issuer.settings.out_dir / "status" / f"{purpose}-{lists[-1].seq if lists else 1}.json",
                        True)


__all__ = ["MAX_REASON_CHARS", "StatusChange", "change_status", "credential_id_from", "publish_status_lists"]
