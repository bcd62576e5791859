"""Claiming an award into a wallet: offers, and the wallet copy a claim issues.

An **offer** lets one wallet claim one award, once, for a limited time
(``[wallet] offer_minutes``, 10 by default). Its secret is the VC-API
exchange token or the OID4VCI pre-authorized code; it is handed out once
(``create_offer``) and only its SHA-256 is stored. A transaction code (PIN),
when asked for, is stored only as a hash keyed by that secret, so a copy of
the database neither opens an offer nor lets anyone try PINs offline; five
wrong codes close the offer.

A **claim** consumes the offer (one conditional UPDATE, so two wallets racing
with the same offer get one copy between them, on SQLite and PostgreSQL) and
issues a **wallet copy**: the award again, as its proof covers it (same
achievement, credits, dates, evidence), bound to the holder's DID as
``credentialSubject.id``, with status entries of its own, signed now by the
current key. The copy lives in ``wallet_copies`` linked to its award, not in
``credentials``: reports, pathways and transcripts, which read awards, count
the award once, and revoking or suspending the award flips every copy's
entries in the same transaction (``issuer.store.registry``).

A second claim of the same award by the same holder in the same format
(through a fresh offer) gets the same copy back; another holder, or another
format, gets a copy of its own.

Offers that ended (expired, used or not) are **pruned** a day after their end
(``PRUNE_AFTER``), a bounded batch at a time whenever offers are made, so the
table holds the offers still open and the last day's. Until then a replay is
told OFFER_USED (or OFFER_EXPIRED); after it, OFFER_UNKNOWN: the secret's hash
is gone, and a deleted offer gives nothing, like a used one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, func, select, update

from errors import Code, Conflict, InputError, NotFound
from issuer.awarding.issuing import STATUS_URL_TEMPLATE, Issuer
from issuer.badge.credential import new_credential_id
from issuer.store.models import CredentialRow, EventRow, WalletCopyRecord, WalletCopyRow, WalletOfferRow
from verifier.pipeline import credential_from_jwt_payload

# "link": a claim page (e-mails, roster summaries; issuer.awarding.wallet_links) that makes fresh offers.
PROTOCOLS = ("vcapi", "oid4vci", "link")
# The OID4VCI names of the two formats; the registry's own names for them.
FORMATS = {"ldp_vc": "di", "jwt_vc_json": "jwt"}
SECRET_BYTES = 32
TX_CODE_DIGITS = 6
MAX_TX_CODE_FAILURES = 5
MAX_HOLDER_CHARS = 1000
UNBOUND = ""  # the holder of a copy no wallet proved a DID for (it names the learner as the award does)
# An offer that ended is kept this long (a late wallet hears why: OFFER_USED or OFFER_EXPIRED), then deleted.
PRUNE_AFTER = timedelta(days=1)
# Ended offers deleted per call that makes offers, at least (a bulk call deletes twice what it makes): bounded
# work per request, and deletion outpaces creation, so the table never grows past the open offers.
PRUNE_BATCH = 200
_SECRET = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
# did:method:specific-id (DID Core §3.1), without a fragment: the subject is the holder, not one of its keys.
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%_-]*[A-Za-z0-9._%_-]$")


@dataclass(frozen=True, slots=True)
class Offer:
    """One offer to claim ``credential_id`` into a wallet.

    ``secret`` is the exchange token / pre-authorized code (in clear only
    when the offer is created or opened with it); ``tx_code`` is the PIN in
    clear, only from ``create_offer``; ``challenge`` is what a VC-API DIDAuth
    presentation must sign (the offer's id: not secret, unique).
    """

    id: str
    secret: str
    credential_id: str
    protocol: str
    expires_at: datetime
    tx_code: str | None = None
    tx_code_required: bool = False
    created_at: datetime | None = None

    @property
    def challenge(self) -> str:
        return self.id


def hash_secret(secret: str) -> str:
    """What the registry keeps of an offer's secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _hash_tx_code(secret: str, tx_code: str) -> str:
    # Keyed by the secret, which is never stored: a stolen database cannot be searched for the PIN.
    return hmac.new(secret.encode("utf-8"), tx_code.encode("utf-8"), hashlib.sha256).hexdigest()


def offer_ttl(issuer: Issuer) -> timedelta:
    """How long a new offer lives: ``[wallet] offer_minutes`` in ``badgesmith.toml`` (10 by default)."""
    return timedelta(minutes=getattr(issuer.settings, "offer_minutes", 10))


def create_offer(issuer: Issuer, credential_id: str, *, protocol: str, ttl: timedelta | None = None,
                 tx_code: bool = False, now: datetime | None = None) -> Offer:
    """A new single-use offer for the award ``credential_id``; the only time its secret (and PIN) are known.

    AWARD_NOT_CLAIMABLE when the award is revoked, suspended, superseded or
    not an award (a VC API credential); CREDENTIAL_NOT_FOUND when unknown.
    """
    if protocol not in PROTOCOLS:
        raise InputError(Code.USAGE, f"Unknown wallet protocol {protocol!r}; use vcapi, oid4vci or link.")
    now = now or issuer.now()
    ttl = offer_ttl(issuer) if ttl is None else ttl
    if ttl <= timedelta(0):
        raise InputError(Code.USAGE, "An offer must live for some time: give a positive ttl.")
    award = _claimable_award(issuer, _normalise_id(credential_id))
    with issuer.registry.session() as s:
        _prune_offers(s, issuer, now, PRUNE_BATCH)
        return _add_offer(s, issuer, award.id, protocol=protocol, ttl=ttl, tx_code=tx_code, now=now)


def create_offers(issuer: Issuer, credential_ids: list[str], *, protocol: str, ttl: timedelta,
                  tx_code: bool = False, now: datetime | None = None,
                  just_issued: Collection[str] = (), pending: bool = False) -> dict[str, Offer]:
    """``create_offer`` for many awards in one transaction (a roster summary's claim pages), by award id;
    awards that cannot be claimed (revoked, suspended, superseded, unknown) get none. ``just_issued`` are
    awards among them this process issued moments ago (a roster run's new ones): claimable, so they are
    not looked up (a claim checks its award again anyway).

    ``pending``: stored as ended (not open, not yet pruned) until ``start_offers`` gives them the
    ``expires_at`` they are returned with, once their secrets and PINs have been shown (written in a
    roster summary). A run killed in between leaves no open offer whose PIN nobody saw."""
    if protocol not in PROTOCOLS:
        raise InputError(Code.USAGE, f"Unknown wallet protocol {protocol!r}; use vcapi, oid4vci or link.")
    now = now or issuer.now()
    offers: dict[str, Offer] = {}
    ids = {_normalise_id(i) for i in credential_ids}
    fresh = ids & {_normalise_id(i) for i in just_issued}
    wanted = sorted(ids - fresh)
    rows: list[dict[str, Any]] = []
    with issuer.registry.session() as s:
        claimable = sorted(fresh)
        for start in range(0, len(wanted), 500):
            # Only what _check_award reads: a roster's 10,000 awards need not bring their credential texts.
            for award in s.execute(select(CredentialRow.id, CredentialRow.achievement, CredentialRow.superseded_by,
                                          CredentialRow.status)
                                   .where(CredentialRow.id.in_(wanted[start:start + 500]),
                                          CredentialRow.issuer_id == issuer.issuer_id)):
                try:
                    _check_award(award)
                except Conflict:
                    continue
                claimable.append(award.id)
        for award_id in claimable:
            offer, row = _new_offer(issuer, award_id, protocol=protocol, ttl=ttl, tx_code=tx_code, now=now)
            if pending:
                row["expires_at"] = now
            offers[award_id] = offer
            rows.append(row)
        for start in range(0, len(rows), 1000):  # one executemany of the table's insert, not the ORM's
            s.execute(WalletOfferRow.__table__.insert(), rows[start:start + 1000])
        _prune_offers(s, issuer, now, max(PRUNE_BATCH, 2 * len(offers)))
    return offers


def open_offer_ends(issuer: Issuer, credential_ids: list[str], *, protocol: str,
                    now: datetime | None = None) -> dict[str, datetime]:
    """When the latest open (unused, unexpired) ``protocol`` offer of each award in ``credential_ids`` ends,
    by award id; awards without one are left out. Nothing is consumed (a roster re-run asks which awards
    still have an open claim page)."""
    now = now or issuer.now()
    wanted = sorted({_normalise_id(i) for i in credential_ids})
    ends: dict[str, datetime] = {}
    with issuer.registry.session(write=False) as s:
        for start in range(0, len(wanted), 500):
            rows = s.execute(select(WalletOfferRow.credential_id, func.max(WalletOfferRow.expires_at))
                             .where(WalletOfferRow.credential_id.in_(wanted[start:start + 500]),
                                    WalletOfferRow.issuer_id == issuer.issuer_id, WalletOfferRow.protocol == protocol,
                                    WalletOfferRow.used_at.is_(None), WalletOfferRow.expires_at > now)
                             .group_by(WalletOfferRow.credential_id))
            ends.update((award_id, end) for award_id, end in rows)
    return ends


def start_offers(issuer: Issuer, ends: Mapping[str, datetime]) -> int:
    """Open pending offers (``create_offers(pending=True)``) until their end, ``ends`` by offer id; how many.

    Only offers still pending are touched: one used, or already started, keeps its own end."""
    started = 0
    by_end: dict[datetime, list[str]] = {}
    for offer_id, end in ends.items():
        by_end.setdefault(end, []).append(offer_id)
    with issuer.registry.session() as s:
        for end, offer_ids in by_end.items():
            for start in range(0, len(offer_ids), 500):
                started += s.execute(update(WalletOfferRow).where(
                    WalletOfferRow.id.in_(offer_ids[start:start + 500]), WalletOfferRow.issuer_id == issuer.issuer_id,
                    WalletOfferRow.used_at.is_(None), WalletOfferRow.expires_at == WalletOfferRow.created_at,
                ).values(expires_at=end).execution_options(synchronize_session=False)).rowcount
    return started


def delete_offers(issuer: Issuer, offer_ids: list[str]) -> int:
    """Delete this issuer's offers ``offer_ids`` (made but never handed out); how many were deleted."""
    deleted = 0
    with issuer.registry.session() as s:
        for start in range(0, len(offer_ids), 500):
            deleted += s.execute(delete(WalletOfferRow).where(WalletOfferRow.id.in_(offer_ids[start:start + 500]),
                                                              WalletOfferRow.issuer_id == issuer.issuer_id)).rowcount
    return deleted


def prune_offers(issuer: Issuer, *, now: datetime | None = None, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` offers that ended more than ``PRUNE_AFTER`` ago (used or not); how many went.
    Making offers does this already; a replayed secret of a deleted offer is OFFER_UNKNOWN."""
    with issuer.registry.session() as s:
        return _prune_offers(s, issuer, now or issuer.now(), limit)


def find_offer(issuer: Issuer, secret: str, *, now: datetime | None = None) -> Offer:
    """The unused, unexpired offer ``secret`` names, before its transaction code is checked (a claim page
    shows which badge it is for, then asks for the PIN). OFFER_UNKNOWN, OFFER_EXPIRED, OFFER_USED."""
    row = _offer_row(issuer, secret)
    _check_usable(row, now or issuer.now())
    return _offer(row, secret)


def open_offer(issuer: Issuer, secret: str, *, tx_code: str | None = None, now: datetime | None = None) -> Offer:
    """The offer ``secret`` opens, still unused (nothing is consumed).

    OFFER_UNKNOWN, OFFER_EXPIRED, OFFER_USED; TX_CODE_REQUIRED when the offer
    has a PIN and none is given, TX_CODE_WRONG when it does not match (the
    fifth wrong one closes the offer).
    """
    now = now or issuer.now()
    row = _offer_row(issuer, secret)
    _check_usable(row, now)
    if row.tx_code_hash is not None:
        if tx_code is None or tx_code == "":
            raise InputError(Code.TX_CODE_REQUIRED, "This offer needs its transaction code: the PIN that was sent "
                             "separately from the link.")
        if not _reserve_tx_code_try(issuer, row.id):
            _check_usable(_offer_row(issuer, secret), now)  # OFFER_USED once the wrong ones closed it
            raise Conflict(Code.OFFER_USED, f"{MAX_TX_CODE_FAILURES} codes are being tried for this offer at "
                           "once; try yours again in a moment.")
        right = hmac.compare_digest(row.tx_code_hash, _hash_tx_code(secret, str(tx_code)))
        _settle_tx_code_try(issuer, row.id, right=right, now=now)
        if not right:
            raise InputError(Code.TX_CODE_WRONG, "The transaction code does not match this offer; after "
                             f"{MAX_TX_CODE_FAILURES} wrong codes the offer closes.")
    return _offer(row, secret)


def renew_tx_code(issuer: Issuer, secret: str, *, now: datetime | None = None) -> tuple[Offer, str]:
    """A new transaction code for the open offer ``secret`` (a claim page whose PIN is e-mailed to the
    award's address on request): the old one stops working, wrong tries so far still count."""
    now = now or issuer.now()
    row = _offer_row(issuer, secret)
    _check_usable(row, now)
    if row.tx_code_hash is None:
        raise InputError(Code.USAGE, "This offer has no transaction code to renew.")
    pin = _new_pin()
    with issuer.registry.session() as s:
        s.execute(update(WalletOfferRow).where(WalletOfferRow.id == row.id)
                  .values(tx_code_hash=_hash_tx_code(secret, pin)))
    return _offer(row, secret), pin


def claim(issuer: Issuer, secret: str, holder_id: str | None, *, format: str = "ldp_vc",
          tx_code: str | None = None, now: datetime | None = None, protocol: str | None = None,
          unbound: bool = False) -> dict[str, Any] | str:
    """Consume the offer and return the wallet copy bound to ``holder_id``: a dict (``ldp_vc``,
    eddsa-rdfc-2022) or a compact VC-JWT (``jwt_vc_json``).

    The offer is consumed in the transaction that stores the copy, so a failure
    (a self-check, the database) leaves it usable. ``protocol`` overrides the
    one recorded with the copy (the offer's by default). ``unbound=True`` with
    no holder issues a copy that names the learner as the award does (the VC-API
    interaction flow, where no holder has proved a DID before the answer).
    """
    return claim_copy(issuer, secret, holder_id, format=format, tx_code=tx_code, now=now,
                      protocol=protocol, unbound=unbound).signed


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim gave: the stored copy, and whether this claim created it."""

    record: WalletCopyRecord
    created: bool

    @property
    def signed(self) -> dict[str, Any] | str:
        """The copy as the wallet receives it: a dict (Data Integrity) or a compact JWT."""
        return self.record.credential if self.record.format == "jwt_vc_json" else json.loads(self.record.credential)


def claim_copy(issuer: Issuer, secret: str, holder_id: str | None, *, format: str = "ldp_vc",
               tx_code: str | None = None, now: datetime | None = None, protocol: str | None = None,
               unbound: bool = False) -> Claimed:
    """``claim``, returning the stored record (its id, its award) as well."""
    now = now or issuer.now()
    if format not in FORMATS:
        raise InputError(Code.USAGE, f"Unknown credential format {format!r}; use ldp_vc or jwt_vc_json.")
    holder = UNBOUND if unbound and holder_id is None else check_holder(holder_id)
    offer = open_offer(issuer, secret, tx_code=tx_code, now=now)
    if offer.protocol == "link":
        refuse_unknown_offer()  # a claim page only makes offers; its secret claims nothing
    signer = issuer.signer()
    with issuer.registry.session() as s:
        award = s.get(CredentialRow, offer.credential_id, with_for_update=True)  # a revocation waits for us
        _check_award(award)
        consumed = s.execute(
            update(WalletOfferRow)
            .where(WalletOfferRow.id == offer.id, WalletOfferRow.used_at.is_(None), WalletOfferRow.expires_at > now)
            .values(used_at=now).returning(WalletOfferRow.id)).first()
        if consumed is None:  # another claim with this offer won the race (or it expired meanwhile)
            raise Conflict(Code.OFFER_USED, "This offer has been used already: each offer gives one credential. "
                           "Open the learner page again for a new one.")
        existing = s.scalar(select(WalletCopyRow).where(WalletCopyRow.award_id == award.id,
                                                        WalletCopyRow.holder == holder,
                                                        WalletCopyRow.format == format))
        if existing is not None:
            s.execute(update(WalletOfferRow).where(WalletOfferRow.id == offer.id).values(copy_id=existing.id))
            return Claimed(WalletCopyRecord.from_row(existing), created=False)
        copy_id = new_credential_id()
        purposes = ["revocation"] + (["suspension"] if award.suspension_list_id is not None else [])
        # The registry's own allocator: random indexes in the issuer's lists, in this transaction.
        slots = [issuer.registry._allocate(s, issuer.issuer_id, p, copy_id,
                                           STATUS_URL_TEMPLATE.format(base=issuer.settings.url), now)
                 for p in purposes]
        unsigned = wallet_copy(award.credential, award.format, copy_id=copy_id, holder=holder,
                               profile=signer.profile, status=[entry.to_dict() for _, entry in slots])
        text = signer.sign_checked(unsigned, fmt=FORMATS[format], now=now)
        by_purpose = {entry.purpose: (list_id, entry.index) for list_id, entry in slots}
        row = WalletCopyRow(id=copy_id, issuer_id=issuer.issuer_id, award_id=award.id, holder=holder, format=format,
                            protocol=protocol or offer.protocol, status="active",
                            status_list_id=by_purpose["revocation"][0], status_index=by_purpose["revocation"][1],
                            suspension_list_id=by_purpose.get("suspension", (None, None))[0],
                            suspension_index=by_purpose.get("suspension", (None, None))[1],
                            credential=text, created_at=now)
        s.add(row)
        s.flush()
        s.execute(update(WalletOfferRow).where(WalletOfferRow.id == offer.id).values(copy_id=copy_id))
        s.add(EventRow(issuer_id=issuer.issuer_id, credential_id=award.id, kind="claimed", actor=issuer.actor,
                       at=now, details={"copy": copy_id, "holder": holder[:200], "format": format,
                                        "protocol": protocol or offer.protocol}))
        return Claimed(WalletCopyRecord.from_row(row), created=True)


def wallet_copy(award_text: str, award_format: str, *, copy_id: str, holder: str, profile: dict[str, Any],
                status: list[dict[str, Any]]) -> dict[str, Any]:
    """The unsigned wallet copy of an award: what its proof covers, with a new id, the holder as subject,
    the current issuer profile and its own status entries."""
    if award_format == "jwt":
        from keys.vc_jwt import decode_jwt

        credential = credential_from_jwt_payload(decode_jwt(award_text)[1])
    else:
        credential = json.loads(award_text)
        credential.pop("proof", None)
    subject = credential["credentialSubject"]
    credential.update(id=copy_id, issuer=profile)
    if holder != UNBOUND:
        credential["credentialSubject"] = {"id": holder, **{k: v for k, v in subject.items() if k != "id"}}
    credential["credentialStatus"] = status[0] if len(status) == 1 else status
    return credential


def check_holder(holder_id: Any) -> str:
    """The holder as a DID without a fragment (a ``did:key`` key id becomes its DID); HOLDER_INVALID else."""
    if not isinstance(holder_id, str) or len(holder_id) > MAX_HOLDER_CHARS:
        raise InputError(Code.HOLDER_INVALID, "The wallet's holder must be a DID (did:key:…, did:web:…).")
    holder = holder_id.split("#", 1)[0]
    if not _DID.fullmatch(holder):
        raise InputError(Code.HOLDER_INVALID, "The wallet's holder must be a DID (did:key:…, did:web:…).")
    return holder


def wallet_copies(issuer: Issuer, award_id: str) -> list[WalletCopyRecord]:
    """Every wallet copy of one award, oldest first."""
    with issuer.registry.session(write=False) as s:
        rows = s.scalars(select(WalletCopyRow).where(WalletCopyRow.award_id == _normalise_id(award_id),
                                                     WalletCopyRow.issuer_id == issuer.issuer_id)
                         .order_by(WalletCopyRow.created_at, WalletCopyRow.id))
        return [WalletCopyRecord.from_row(row) for row in rows]


# -- internals ------------------------------------------------------------------------------------


def _normalise_id(credential_id: str) -> str:
    text = str(credential_id).strip()
    return text if text.startswith("urn:uuid:") else f"urn:uuid:{text}"


def _claimable_award(issuer: Issuer, credential_id: str) -> CredentialRow:
    with issuer.registry.session(write=False) as s:
        award = s.get(CredentialRow, credential_id)
        if award is None or award.issuer_id != issuer.issuer_id:
            raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"There is no credential {credential_id} in this instance.")
        if award.superseded_by is not None and award.achievement is not None:
            # staff asked for the old one: name the correction that replaced it and how to offer that instead
            raise Conflict(Code.AWARD_NOT_CLAIMABLE, f"This award was superseded by a correction, "
                           f"{award.superseded_by}, so it cannot be added to a wallet: offer the correction instead "
                           f"(badgesmith claim-link {award.superseded_by}).", status="superseded by a correction",
                           superseded_by=award.superseded_by)
        _check_award(award)
        return award


def _check_award(award: Any) -> None:  # a CredentialRow, or a row of its columns
    if award is None:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND, "The award of this offer no longer exists.")
    if award.achievement is None:
        raise Conflict(Code.AWARD_NOT_CLAIMABLE, "This credential was issued through the VC API, not awarded: "
                       "it has no wallet offers.")
    if award.superseded_by is not None or award.status != "active":
        state = "superseded by a correction" if award.superseded_by else award.status
        raise Conflict(Code.AWARD_NOT_CLAIMABLE, f"This award is {state}, so it cannot be added to a wallet.",
                       status=state)


def _add_offer(s: Any, issuer: Issuer, award_id: str, *, protocol: str, ttl: timedelta, tx_code: bool,
               now: datetime) -> Offer:
    """A new offer row in the session ``s``; the Offer with its secret (and PIN) in clear, this once."""
    offer, row = _new_offer(issuer, award_id, protocol=protocol, ttl=ttl, tx_code=tx_code, now=now)
    s.add(WalletOfferRow(**row))
    return offer


def _new_offer(issuer: Issuer, award_id: str, *, protocol: str, ttl: timedelta, tx_code: bool,
               now: datetime) -> tuple[Offer, dict[str, Any]]:
    """A new offer: the Offer with its secret (and PIN) in clear, this once, and the row that stores only
    their hashes."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    pin = _new_pin() if tx_code else None
    offer = Offer(id=str(uuid.uuid4()), secret=secret, credential_id=award_id, protocol=protocol,
                  expires_at=now + ttl, tx_code=pin, tx_code_required=pin is not None, created_at=now)
    return offer, {"id": offer.id, "issuer_id": issuer.issuer_id, "credential_id": award_id, "protocol": protocol,
                   "secret_hash": hash_secret(secret),
                   "tx_code_hash": None if pin is None else _hash_tx_code(secret, pin),
                   "tx_code_failures": 0, "created_at": now, "expires_at": now + ttl}


def _prune_offers(s: Any, issuer: Issuer, now: datetime, limit: int) -> int:
    # Select, then delete by primary key: DELETE … LIMIT is not portable, and the expiry index bounds the select.
    ended = list(s.scalars(select(WalletOfferRow.id)
                           .where(WalletOfferRow.issuer_id == issuer.issuer_id,
                                  WalletOfferRow.expires_at < now - PRUNE_AFTER)
                           .limit(limit)))
    for start in range(0, len(ended), 500):  # a bulk call may prune thousands: bound the bound parameters
        s.execute(delete(WalletOfferRow).where(WalletOfferRow.id.in_(ended[start:start + 500])))
    return len(ended)


def _new_pin() -> str:
    return f"{secrets.randbelow(10 ** TX_CODE_DIGITS):0{TX_CODE_DIGITS}d}"  # uniform, as six choices were


def refuse_unknown_offer() -> None:
    """Raise OFFER_UNKNOWN: no offer of the kind asked for has this secret."""
    raise NotFound(Code.OFFER_UNKNOWN, "There is no such wallet offer here: check the link, or open the "
                   "learner page again for a new one.")


def _offer_row(issuer: Issuer, secret: str) -> WalletOfferRow:
    row = None
    if isinstance(secret, str) and _SECRET.fullmatch(secret):
        with issuer.registry.session(write=False) as s:
            row = s.scalar(select(WalletOfferRow).where(WalletOfferRow.secret_hash == hash_secret(secret)))
    if row is None or row.issuer_id != issuer.issuer_id:
        refuse_unknown_offer()
    return row


def _check_usable(row: WalletOfferRow, now: datetime) -> None:
    if row.used_at is not None:
        raise Conflict(Code.OFFER_USED, "This offer has been used already: each offer gives one credential. "
                       "Open the learner page again for a new one.")
    if row.expires_at <= now:
        raise Conflict(Code.OFFER_EXPIRED, "This offer has expired. Open the learner page again (or ask the "
                       "office) for a new one.", expired_at=row.expires_at.isoformat())


def _reserve_tx_code_try(issuer: Issuer, offer_id: str) -> bool:
    """Count a try before its code is compared, by one UPDATE: guesses racing each other cannot all read the
    count below the limit (they did, and a burst of them was each compared). False when the offer is closed
    or ``MAX_TX_CODE_FAILURES`` tries are spent or under way."""
    with issuer.registry.session() as s:
        return s.execute(update(WalletOfferRow).where(
            WalletOfferRow.id == offer_id, WalletOfferRow.used_at.is_(None),
            WalletOfferRow.tx_code_failures < MAX_TX_CODE_FAILURES).values(
            tx_code_failures=WalletOfferRow.tx_code_failures + 1)).rowcount == 1


def _settle_tx_code_try(issuer: Issuer, offer_id: str, *, right: bool, now: datetime) -> None:
    """A right code gives its try back; the wrong one that reaches the limit closes the offer."""
    with issuer.registry.session() as s:
        if right:
            s.execute(update(WalletOfferRow).where(WalletOfferRow.id == offer_id)
                      .values(tx_code_failures=WalletOfferRow.tx_code_failures - 1))
        else:
            s.execute(update(WalletOfferRow).where(
                WalletOfferRow.id == offer_id, WalletOfferRow.used_at.is_(None),
                WalletOfferRow.tx_code_failures >= MAX_TX_CODE_FAILURES).values(used_at=now))  # guessing is pointless


def _offer(row: WalletOfferRow, secret: str) -> Offer:
    return Offer(id=row.id, secret=secret, credential_id=row.credential_id, protocol=row.protocol,
                 expires_at=row.expires_at, tx_code=None, tx_code_required=row.tx_code_hash is not None,
                 created_at=row.created_at)


__all__ = ["Claimed", "FORMATS", "MAX_TX_CODE_FAILURES", "Offer", "PROTOCOLS", "PRUNE_AFTER", "UNBOUND",
           "check_holder", "claim", "claim_copy", "create_offer", "create_offers", "delete_offers", "find_offer",
           "hash_secret", "offer_ttl", "open_offer", "open_offer_ends", "prune_offers", "refuse_unknown_offer",
           "renew_tx_code", "start_offers", "wallet_copies", "wallet_copy"]
