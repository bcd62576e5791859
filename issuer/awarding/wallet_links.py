"""The links a learner's wallet opens to claim an award (issue 20), built on fresh offers.

One call (``wallet_links``) makes two single-use offers for an award, one per
protocol, and returns every form of link a wallet or a person may need:

- the Learner Credential Wallet's deep link,
  ``https://lcw.app/request.html?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…``,
  and its ``dccrequest://request?…`` form (the app's own scheme). The wallet
  signs a DIDAuth presentation with the challenge and POSTs it to
  ``vc_request_url``, the offer's VC-API exchange URL; the copy it gets back
  is bound to the holder's DID;
- the VC-API interaction URL (``…?iuv=1``) for wallets that speak that form;
- the OID4VCI ``openid-credential-offer://`` links (by value and by reference),
  with the transaction code when one was asked for.

A **claim page** link (``claim_page``) is the long-lived kind that travels by
e-mail and in roster summaries: ``/wallet/claim/<secret>``, valid for
``[wallet] link_days`` (30 by default), opened with a PIN that travels
separately; once the PIN is right, the page starts fresh offers. A roster
summary makes one only for an award with none open (``summary_claim_pages``),
so re-running a roster does not make 10,000 new pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from issuer.awarding import claims
from issuer.awarding.issuing import Issuer
from issuer.awarding.oid4vci import offer_links

LCW_REQUEST = "https://lcw.app/request.html"
DCC_REQUEST = "dccrequest://request"
EXCHANGE_PATH = "/wallet/exchanges/"
CLAIM_PATH = "/wallet/claim/"
LINK_PROTOCOL = "link"  # a claim page: opened with its PIN, it makes fresh offers; never claimed itself
LINK_DAYS = 30


@dataclass(frozen=True, slots=True)
class WalletLinks:
    """Every link for one award's fresh offers (each offer works once, until ``expires_at``)."""

    credential_id: str
    expires_at: datetime
    lcw: str  # the Learner Credential Wallet deep link (https://lcw.app/request.html?…)
    dccrequest: str  # the same request in the app's own scheme
    vc_request_url: str  # the VC-API exchange the wallet POSTs its DIDAuth presentation to
    challenge: str
    interaction: str  # the VC-API interaction URL (iuv=1)
    oid4vci: str  # openid-credential-offer:// with the offer inline
    oid4vci_by_reference: str  # openid-credential-offer:// naming the offer's URL
    tx_code: str | None  # the OID4VCI transaction code (PIN), when one was asked for

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["expires_at"] = self.expires_at.isoformat()
        return values


def exchange_url(issuer: Issuer, secret: str) -> str:
    """The VC-API exchange URL of a ``vcapi`` offer (the LCW deep link's ``vc_request_url``)."""
    return f"{issuer.settings.url}{EXCHANGE_PATH}{secret}"


def interaction_url(issuer: Issuer, secret: str) -> str:
    """The VC-API interaction URL of a ``vcapi`` offer: a GET names the exchange (``{"protocols": …}``)."""
    return f"{exchange_url(issuer, secret)}?iuv=1"


def lcw_links(issuer: Issuer, offer: claims.Offer) -> tuple[str, str]:
    """The Learner Credential Wallet deep link for a ``vcapi`` offer, and its ``dccrequest://`` form."""
    query = urlencode({"issuer": urlsplit(issuer.settings.url).netloc, "auth_type": "bearer",
                       "challenge": offer.challenge, "vc_request_url": exchange_url(issuer, offer.secret)})
    return f"{LCW_REQUEST}?{query}", f"{DCC_REQUEST}?{query}"


def wallet_links(issuer: Issuer, credential_id: str, *, tx_code: bool = False, ttl: timedelta | None = None,
                 now: datetime | None = None) -> WalletLinks:
    """Fresh offers for the award ``credential_id`` (one VC-API, one OID4VCI) and their links."""
    now = now or issuer.now()
    vcapi = claims.create_offer(issuer, credential_id, protocol="vcapi", ttl=ttl, now=now)
    oid4vci = claims.create_offer(issuer, credential_id, protocol="oid4vci", ttl=ttl, tx_code=tx_code, now=now)
    lcw, dcc = lcw_links(issuer, vcapi)
    links = offer_links(issuer.settings.url, oid4vci.secret, tx_code=oid4vci.tx_code)
    return WalletLinks(credential_id=vcapi.credential_id, expires_at=vcapi.expires_at, lcw=lcw, dccrequest=dcc,
                       vc_request_url=exchange_url(issuer, vcapi.secret), challenge=vcapi.challenge,
                       interaction=interaction_url(issuer, vcapi.secret), oid4vci=links.by_value,
                       oid4vci_by_reference=links.by_reference, tx_code=oid4vci.tx_code)


@dataclass(frozen=True, slots=True)
class ClaimPage:
    """A long-lived claim page link and the PIN that opens it (to be sent separately)."""

    url: str
    pin: str
    expires_at: datetime
    offer_id: str | None = None  # the registry's offer behind it (``withdraw_claim_pages``)


def claim_page(issuer: Issuer, credential_id: str, *, days: int | None = None,
               now: datetime | None = None) -> ClaimPage:
    """A claim page for e-mails and roster summaries: ``/wallet/claim/<secret>`` and its PIN."""
    offer = claims.create_offer(issuer, credential_id, protocol=LINK_PROTOCOL, ttl=_link_life(issuer, days),
                                tx_code=True, now=now)
    return _page(issuer, offer)


def claim_pages(issuer: Issuer, credential_ids: list[str], *, days: int | None = None,
                now: datetime | None = None, just_issued: Collection[str] = (),
                pending: bool = False) -> dict[str, ClaimPage]:
    """Claim pages for many awards in one transaction (a roster summary), by award id; awards that cannot
    be claimed (revoked, suspended, superseded) get none. ``just_issued``, ``pending``: ``claims.create_offers``
    (pending pages open with ``start_claim_pages``)."""
    offers = claims.create_offers(issuer, credential_ids, protocol=LINK_PROTOCOL, ttl=_link_life(issuer, days),
                                  tx_code=True, now=now, just_issued=just_issued, pending=pending)
    return {award_id: _page(issuer, offer) for award_id, offer in offers.items()}


@dataclass(frozen=True, slots=True)
class OpenClaimPage:
    """An award's earlier claim page, still open until ``expires_at``. Its link and PIN were shown once,
    where it was made (an earlier roster summary, an e-mail, ``claim-link --claim-page``): only hashes are
    kept, so they cannot be shown again."""

    expires_at: datetime


def summary_claim_pages(issuer: Issuer, credential_ids: list[str], *, days: int | None = None,
                        now: datetime | None = None, just_issued: Collection[str] = (),
                        pending: bool = False) -> dict[str, ClaimPage | OpenClaimPage]:
    """A roster summary's claim pages, by award id: a new page for each award that has no open one (new or
    corrected in this run, resumed after an interrupted run, or its earlier page expired or closed), and
    the end of the open one for the others, so that re-running a roster makes no pages it made before.
    ``just_issued`` are awards among them this run issued: they have no page yet, and are claimable.
    ``pending``: the new pages open only with ``start_claim_pages``, once the summary showing them is written."""
    now = now or issuer.now()
    fresh = set(just_issued)
    still_open = claims.open_offer_ends(issuer, [i for i in credential_ids if i not in fresh], protocol=LINK_PROTOCOL,
                                       now=now)
    pages = claim_pages(issuer, [i for i in credential_ids if i not in still_open], days=days, now=now,
                        just_issued=fresh, pending=pending)
    return {**{award_id: OpenClaimPage(end) for award_id, end in still_open.items()}, **pages}


def _link_life(issuer: Issuer, days: int | None) -> timedelta:
    return timedelta(days=getattr(issuer.settings, "link_days", LINK_DAYS) if days is None else days)


def _page(issuer: Issuer, offer: claims.Offer) -> ClaimPage:
    return ClaimPage(f"{issuer.settings.url}{CLAIM_PATH}{offer.secret}", offer.tx_code or "", offer.expires_at,
                     offer.id)


def start_claim_pages(issuer: Issuer, pages: Iterable[ClaimPage | OpenClaimPage]) -> int:
    """Open the pending claim pages among ``pages`` (``ClaimPage``s made with ``pending``) until the end each
    was made with: their links and PINs are in a written summary now. How many opened."""
    return claims.start_offers(issuer, {p.offer_id: p.expires_at for p in pages
                                        if isinstance(p, ClaimPage) and p.offer_id})


def withdraw_claim_pages(issuer: Issuer, pages: Iterable[ClaimPage | OpenClaimPage]) -> int:
    """Delete the claim pages just made (``ClaimPage``; an ``OpenClaimPage`` is left alone) whose link and PIN
    will never be shown: a roster run that stops before its summary is written withdraws its pending pages
    (its re-run makes new ones either way). How many were deleted."""
    return claims.delete_offers(issuer, [p.offer_id for p in pages if isinstance(p, ClaimPage) and p.offer_id])


def find_claim_page(issuer: Issuer, secret: str, *, now: datetime | None = None) -> claims.Offer:
    """The claim page ``secret`` names, before its PIN is checked (OFFER_UNKNOWN for another kind of offer)."""
    offer = claims.find_offer(issuer, secret, now=now)
    if offer.protocol != LINK_PROTOCOL:
        claims.refuse_unknown_offer()
    return offer


def open_claim_page(issuer: Issuer, secret: str, pin: str | None, *, now: datetime | None = None) -> WalletLinks:
    """Fresh wallet links from the claim page ``secret`` once its ``pin`` is right (TX_CODE_REQUIRED,
    TX_CODE_WRONG; the fifth wrong PIN closes the page)."""
    find_claim_page(issuer, secret, now=now)
    offer = claims.open_offer(issuer, secret, tx_code=pin, now=now)
    return wallet_links(issuer, offer.credential_id, now=now)


__all__ = ["CLAIM_PATH", "ClaimPage", "EXCHANGE_PATH", "LINK_DAYS", "OpenClaimPage", "WalletLinks", "claim_page",
           "claim_pages", "exchange_url", "find_claim_page", "interaction_url", "lcw_links", "open_claim_page",
           "start_claim_pages", "summary_claim_pages", "wallet_links", "withdraw_claim_pages"]
