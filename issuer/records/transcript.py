"""A learner's transcript: a signed CLR 2.0 ``ClrCredential`` bundling their credentials.

``issue_transcript(issuer, email)`` is the front door (CLI ``badgesmith
transcript``, the learner page's download); underneath it:

- ``build_transcript(issuer, email | lookup_key=…, since=, until=)`` picks the
  learner's *current* credentials (active, inside their validity window,
  signed with an embedded proof) from the registry through the e-mail lookup
  key, and builds the unsigned ClrCredential with ``build_clr``;
- ``build_clr(...)`` is pure: the signed originals go, unchanged, into
  ``credentialSubject.verifiableCredential``; the achievements and the
  pathway relations (CLR ``Association``: component ``isPartOf`` the
  pathway's award) into ``achievement`` / ``association``;
- ``sign_transcript`` adds an ``eddsa-rdfc-2022`` proof (it reproduces
  1EdTech's CLR signing vector byte for byte; ``transcript_json`` is that
  vector's serialisation).

Decisions (README, *Transcripts*): credentials that would not verify on
their own today (revoked, suspended, expired, not yet valid) and VC-JWT
credentials (CLR 2.0 embeds credentials with embedded proofs) are left out,
and ``partial: true`` then says the record is not complete. CLR 2.0 has no
field for credit totals, so the CEUs per year are stated in ``description``.
A credential issued ``--suspendable`` carries two status entries (an array);
the CLR 2.0 schema wants one object there, and the signed original cannot
change, so a transcript embedding one does not claim that schema in
``credentialSchema`` (``Transcript.outside_clr_schema`` names them; the CLI warns).
The verifier reads this format (``verifier/clr.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from errors import Code, InputTooLarge, NotFound
from issuer.awarding.issuing import Issuer
from issuer.awarding.pathway_rules import earned_achievements
from issuer.awarding.pathways import list_pathways
from issuer.badge.credential import OB_CONTEXT, OB_EXTENSIONS, VC_V2, format_datetime
from issuer.badge.recipient import lookup_key as email_lookup_key, normalise_email
from issuer.badge.sign import sign_credential
from issuer.store.models import CredentialRecord
from keys.ed25519 import KeyPair
from templates import template_environment
from verifier.clr import CLR_CONTEXT, CLR_SCHEMA, CLR_SUBJECT_TYPE, CLR_TYPE, MAX_EMBEDDED
from verifier.summary import summarize

CONTEXTS = (VC_V2, CLR_CONTEXT, OB_CONTEXT, OB_EXTENSIONS)
SCHEMA_VALIDATOR = "1EdTechJsonSchemaValidator2019"
_PROOF_ORDER = ("type", "created", "verificationMethod", "cryptosuite", "proofPurpose", "proofValue")


@dataclass(frozen=True, slots=True)
class Transcript:
    """A transcript and what went into it (``document`` is signed once ``issue_transcript`` returns)."""

    document: dict[str, Any]
    learner_name: str | None
    records: tuple[CredentialRecord, ...]  # the credentials included, oldest first
    left_out: int  # the learner's other credentials (period, status, expiry, VC-JWT)
    ceus_by_year: tuple[tuple[int, float], ...]
    since: date | None = None
    until: date | None = None

    @property
    def ceus_total(self) -> float:
        return sum(total for _, total in self.ceus_by_year)

    @property
    def outside_clr_schema(self) -> tuple[str, ...]:
        """Ids of the embedded credentials the CLR 2.0 JSON Schema refuses (several status entries)."""
        return several_status_entries(self.document["credentialSubject"]["verifiableCredential"])


def several_status_entries(credentials: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """Ids of the credentials whose ``credentialStatus`` is an array (``--suspendable`` ones).

    The CLR 2.0 and strict OB 3.0 JSON Schemas allow one status object; a Bitstring Status List
    entry with ``statusSize`` 2 could carry both purposes in one, but the two status-list
    libraries wallets and verifiers use read a single bit whatever ``statusSize`` says (README,
    *Decisions*), so suspendable credentials keep two entries.
    """
    return tuple(str(c.get("id")) for c in credentials if isinstance(c.get("credentialStatus"), list))


def is_current(record: CredentialRecord, now: datetime) -> bool:
    """Active and inside its validity window: what verifies on its own today."""
    return (record.status == "active" and record.valid_from <= now
            and (record.valid_until is None or now < record.valid_until))


def ceus_by_year(records: Iterable[CredentialRecord]) -> tuple[tuple[int, float], ...]:
    """CEUs earned per calendar year of the award date, oldest year first."""
    totals: dict[int, float] = defaultdict(float)
    for record in records:
        if record.credits:
            totals[record.issued_on.year] += record.credits
    return tuple((year, round(total, 3)) for year, total in sorted(totals.items()))


def describe_ceus(totals: Sequence[tuple[int, float]]) -> str:
    """``"CEUs by year: 2025: 13.5; 2026: 3 (total 16.5)."``, or a sentence saying there are none."""
    if not totals:
        return "No continuing-education units (CEUs) are recorded in these credentials."
    years = "; ".join(f"{year}: {total:g}" for year, total in totals)
    return f"Continuing-education units (CEUs) by year: {years} (total {sum(t for _, t in totals):g})."


def build_clr(*, issuer_profile: dict[str, Any], credentials: Sequence[dict[str, Any]],
              subject: dict[str, Any], credential_id: str, valid_from: datetime, name: str,
              description: str | None = None, achievements: Sequence[dict[str, Any]] = (),
              associations: Sequence[dict[str, Any]] = (), partial: bool = False) -> dict[str, Any]:
    """The unsigned ClrCredential (pure). ``subject`` names the learner (``id`` and/or ``identifier``)."""
    if len(credentials) > MAX_EMBEDDED:
        raise InputTooLarge(Code.INPUT_TOO_LARGE,
                            f"A transcript of {len(credentials)} credentials is more than the {MAX_EMBEDDED} "
                            "a verifier checks; narrow it with --since and --until.", limit=MAX_EMBEDDED)
    clr_subject: dict[str, Any] = {**subject, "type": [CLR_SUBJECT_TYPE],
                                   "verifiableCredential": list(credentials)}
    if achievements:
        clr_subject["achievement"] = list(achievements)
    if associations:
        clr_subject["association"] = list(associations)
    document: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", CLR_TYPE],
        "issuer": issuer_profile,
        "validFrom": format_datetime(valid_from),
        "name": name,
    }
    if description:
        document["description"] = description
    if partial:
        document["partial"] = True
    document["credentialSubject"] = clr_subject
    # A claim a validator would refuse is worse than none: credentials with two status
    # entries fail the CLR schema, and the signed originals cannot be rewritten to pass it.
    if not several_status_entries(credentials):
        document["credentialSchema"] = [{"id": CLR_SCHEMA, "type": SCHEMA_VALIDATOR}]
    return document


def sign_transcript(document: dict[str, Any], key: KeyPair, *, loader: Any, created: datetime,
                    verification_method: str | None = None) -> dict[str, Any]:
    """``document`` with an eddsa-rdfc-2022 proof (the whole transcript, embedded proofs included, is signed)."""
    signed = sign_credential(document, key, fmt="di", loader=loader, created=created,
                             verification_method=verification_method)
    assert isinstance(signed, dict)  # "di" always gives a document
    # Key order does not change the signature; this order is 1EdTech's (and
    # Digital Bazaar's), so the CLR vector's signed file comes out byte for byte.
    *earlier, proof = signed["proof"]
    ordered = {k: proof[k] for k in _PROOF_ORDER if k in proof}
    signed["proof"] = [*earlier, {**ordered, **proof}]
    return signed


def transcript_json(document: dict[str, Any]) -> str:
    """The file form: 2-space JSON and a final newline (as 1EdTech's CLR vector is written)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _records(issuer: Issuer, key: str, since: date | None, until: date | None,
             who: str) -> tuple[list[CredentialRecord], int]:
    everything = issuer.registry.find_credentials(issuer.issuer_id, lookup_key=key)
    if not everything:
        raise NotFound(Code.LEARNER_NOT_FOUND, f"No credential was ever issued to {who} here: check the "
                       "address (it is the one the badges were sent to); nothing was written.")
    now = issuer.now()
    chosen = [r for r in everything if r.format == "di" and is_current(r, now)
              and (since is None or r.issued_on >= since) and (until is None or r.issued_on <= until)]
    if not chosen:
        period = "" if since is None and until is None else " in that period"
        raise NotFound(Code.TRANSCRIPT_EMPTY,
                       f"{who} holds no current credential{period} (revoked, suspended, expired and VC-JWT "
                       "credentials are left out of a transcript); nothing was written.")
    return chosen, len(everything) - len(chosen)


def learner_subject(credentials: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The learner as the newest credential names them: its DID, else its (salted, hashed) identifiers."""
    newest = credentials[-1].get("credentialSubject") or {}
    dids = {(c.get("credentialSubject") or {}).get("id") for c in credentials}
    subject: dict[str, Any] = {}
    if len(dids) == 1 and isinstance(newest.get("id"), str):
        subject["id"] = newest["id"]
    identifiers = newest.get("identifier")
    if identifiers:
        subject["identifier"] = identifiers if isinstance(identifiers, list) else [identifiers]
    return subject


def _pathway_relations(issuer: Issuer, held: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Achievements, Associations) of the instance's pathways this learner has started or finished."""
    pathways = list_pathways(issuer)
    if not pathways:
        return [], []
    obs = {r.slug: r.definition["ob"] for r in issuer.registry.list_achievements(issuer.issuer_id)}
    return pathway_relations(pathways, obs, held)


def pathway_relations(pathways: Iterable[Any], obs: dict[str, dict[str, Any]],
                      held: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Achievements, Associations) of the ``pathways`` a learner holding ``held`` has started or finished.

    ``obs`` maps what requirements name to the OB Achievement. Each component
    achievement ``isPartOf`` the achievement its pathway awards; the
    Achievements include what is still to do (CLR 2.0: the achievements the
    issuer expects the learner to achieve).
    """
    achievements: dict[str, dict[str, Any]] = {}
    associations: list[dict[str, Any]] = []
    for pathway in pathways:
        components = sorted(s for s in earned_achievements(pathway.requirements) if s in obs)
        if pathway.awards not in obs or not (held & ({pathway.awards} | set(components))):
            continue  # not started: it would only list what the learner has not done
        for slug in (pathway.awards, *components):
            achievements.setdefault(slug, obs[slug])
        associations.extend({"type": "Association", "associationType": "isPartOf",
                             "sourceId": obs[slug]["id"], "targetId": obs[pathway.awards]["id"]}
                            for slug in components)
    return list(achievements.values()), associations


def build_transcript(issuer: Issuer, email: str | None = None, *, lookup_key: str | None = None,
                     since: date | None = None, until: date | None = None) -> Transcript:
    """The unsigned transcript of the learner named by ``email`` (or by its registry ``lookup_key``).

    Raises ``NotFound`` LEARNER_NOT_FOUND (nothing was ever issued to them)
    or TRANSCRIPT_EMPTY (nothing current in the period).
    """
    if email is not None:
        email = normalise_email(email)
        lookup_key = email_lookup_key(email, issuer.settings.lookup_secret)
    if lookup_key is None:
        raise ValueError("build_transcript needs an e-mail address or a lookup key")
    records, left_out = _records(issuer, lookup_key, since, until, email or "this learner")
    credentials = [json.loads(r.credential) for r in records]
    name = next((r.recipient_name for r in reversed(records) if r.recipient_name), None)
    extra, associations = _pathway_relations(issuer, {r.achievement for r in records})
    achievements: dict[str, dict[str, Any]] = {}
    for achievement in [(c.get("credentialSubject") or {}).get("achievement") or {} for c in credentials] + extra:
        achievements.setdefault(achievement.get("id"), achievement)
    totals = ceus_by_year(records)
    period = ""
    if since or until:
        period = f" ({since.isoformat() if since else '…'} to {until.isoformat() if until else '…'})"
    document = build_clr(
        issuer_profile=issuer.profile(), credentials=credentials, subject=learner_subject(credentials),
        credential_id=issuer.new_id(), valid_from=issuer.now(),
        name=f"Learning record of {name or 'a learner'} from {issuer.settings.name}",
        description=(f"{len(records)} current credential(s) awarded by {issuer.settings.name}{period}. "
                     + describe_ceus(totals)),
        achievements=list(achievements.values()), associations=associations, partial=left_out > 0)
    return Transcript(document, name, tuple(records), left_out, totals, since, until)


def issue_transcript(issuer: Issuer, email: str | None = None, *, lookup_key: str | None = None,
                     since: date | None = None, until: date | None = None) -> Transcript:
    """The learner's transcript, signed with the instance's key (nothing is stored or written)."""
    built = build_transcript(issuer, email, lookup_key=lookup_key, since=since, until=until)
    signed = sign_transcript(built.document, issuer.key, loader=issuer.loader, created=issuer.now(),
                             verification_method=issuer.verification_method)
    return Transcript(signed, built.learner_name, built.records, built.left_out, built.ceus_by_year,
                      built.since, built.until)


# -- the human-readable form ----------------------------------------------------------------------


def render_transcript_html(transcript: Transcript, *, issuer: Issuer) -> str:
    """A printable HTML page of the transcript that carries the signed ClrCredential inside it."""
    rows = []
    for record, credential in zip(transcript.records,
                                  transcript.document["credentialSubject"]["verifiableCredential"]):
        summary = summarize(credential)
        rows.append({"id": record.id, "name": summary["achievement"]["name"] or summary["name"],
                     "type": summary["achievement"]["achievementType"], "credits": record.credits,
                     "issued_on": record.issued_on.isoformat(),
                     "valid_until": record.valid_until.date().isoformat() if record.valid_until else None,
                     "page": issuer.credential_page(record.id)})
    names = {a.get("id"): a.get("name") for a in transcript.document["credentialSubject"].get("achievement", [])}
    relations = [{"source": names.get(a["sourceId"], a["sourceId"]), "target": names.get(a["targetId"], a["targetId"])}
                 for a in transcript.document["credentialSubject"].get("association", [])]
    return template_environment().get_template("transcript/transcript.html").render(
        t=transcript, document=transcript.document, rows=rows, relations=relations,
        issuer_name=issuer.settings.name, generated=transcript.document["validFrom"][:10])


__all__ = ["CONTEXTS", "Transcript", "build_clr", "build_transcript", "ceus_by_year", "describe_ceus",
           "is_current", "issue_transcript", "learner_subject", "pathway_relations", "render_transcript_html",
           "several_status_entries", "sign_transcript", "transcript_json"]
