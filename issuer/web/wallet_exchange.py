"""The VC-API exchange a wallet claims an award through (issue 20), as the Learner Credential Wallet does it.

``/wallet/exchanges/<secret>`` is a ``vcapi`` offer's exchange (the secret is
the offer's, ``issuer.awarding.claims``):

- ``POST`` with a **DIDAuth presentation** as the body, not wrapped (what the
  Learner Credential Wallet sends after opening the deep link): the
  presentation must name its ``holder``, hold no credentials, be signed by a
  key of that holder (``Ed25519Signature2020`` or ``eddsa-rdfc-2022``, purpose
  ``authentication``) over the offer's challenge; a ``domain``, when the
  proof has one, must be this site. The answer is the wallet copy itself,
  bound to the holder's DID.
- ``POST`` with ``{"verifiablePresentation": <DIDAuth>}`` (the VC-API form of
  the same): the same checks; the answer is ``{"verifiablePresentation": …}``
  holding the copy.
- ``POST`` with ``{}`` (the VC-API interaction flow's first request): the
  answer already holds the credential, because the wallet stores a credential
  only when its first answer holds one. No holder has proved anything yet, so
  this copy is not bound to a DID: it names the learner as the award does.
- ``GET`` (the interaction URL, ``?iuv=1``): ``{"protocols": {"vcapi": URL}}``.

Every request spends one of the client address's wallet requests
(``[web] claim_rate_limit``, shared with the OID4VCI endpoints). Answers are
``no-store`` JSON, errors too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from errors import Code, CredentialError, InputError
from issuer.awarding import claims
from issuer.awarding.issuing import Issuer
from issuer.awarding.wallet_links import EXCHANGE_PATH, exchange_url
from issuer.web.site import site_issuer, site_now
from verifier.data_model import as_list
from verifier.presentation import is_presentation, verify_presentation
from verifier.ratelimit import RateLimiter, limiter_from_config
from verifier.report import FAILED, Report
from verifier.web import json_object_body

bp = Blueprint("wallet_exchange", __name__)

CLAIM_RATE_LIMIT = "60/minute"  # per client address, shared with /oid4vci/* (a claim takes a request or three)
VP_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def claim_limiter() -> RateLimiter | None:
    """The wallet requests' limiter (``CLAIM_RATE_LIMIT``), built once per app in the shared storage."""
    limiter = current_app.extensions.get("badgesmith.claim_limiter", False)
    if limiter is False:
        limiter = limiter_from_config(current_app.config.get("CLAIM_RATE_LIMIT") or CLAIM_RATE_LIMIT,
                                      what="wallet requests", storage=current_app.config.get("RATE_LIMIT_STORAGE"))
        current_app.extensions["badgesmith.claim_limiter"] = limiter
    return limiter


def spend_claim_budget() -> None:
    """Spend one wallet request of this client address (RATE_LIMITED, 429, once the budget is gone)."""
    limiter = claim_limiter()
    if limiter is not None:
        limiter.take(request.remote_addr or "unknown")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"{EXCHANGE_PATH}<secret>")
def interaction(secret: str) -> Response:
    """The interaction URL: which protocol this offer speaks, and where (nothing is consumed)."""
    spend_claim_budget()
    issuer = site_issuer()
    _vcapi_offer(issuer, secret)
    return _no_store(jsonify({"protocols": {"vcapi": exchange_url(issuer, secret)}}))


@bp.post(f"{EXCHANGE_PATH}<secret>")
def exchange(secret: str) -> Response:
    """Claim the offer: a DIDAuth presentation (bare or wrapped) binds the copy to its holder; ``{}`` does not."""
    spend_claim_budget()
    issuer = site_issuer()
    now = site_now()
    offer = _vcapi_offer(issuer, secret, now=now)
    # An empty body is the interaction flow's {}; anything else is JSON, declared so (415 otherwise: a form
    # or text/plain is what a cross-site page can send without asking).
    body = json_object_body() if request.get_data(cache=True).strip() else {}
    wrapped = not is_presentation(body)
    presentation = body.get("verifiablePresentation") if wrapped else body
    if presentation is None and wrapped and set(body) - {"verifiablePresentation"}:
        raise InputError(Code.PRESENTATION_INVALID, "Send the DIDAuth presentation itself, {\"verifiablePresentation\": "
                         "…}, or {} to start the exchange.")
    holder = None if presentation is None else verify_didauth(issuer, presentation, challenge=offer.challenge)
    copy = claims.claim(issuer, secret, holder, format="ldp_vc", now=now, unbound=holder is None)
    if not wrapped:
        return _no_store(jsonify(copy))
    return _no_store(jsonify({"verifiablePresentation": {"@context": [VP_CONTEXT], "type": ["VerifiablePresentation"],
                                                         "verifiableCredential": [copy]}}))


def _vcapi_offer(issuer: Issuer, secret: str, *, now: datetime | None = None) -> claims.Offer:
    offer = claims.find_offer(issuer, secret, now=now or site_now())  # VC-API offers have no PIN
    if offer.protocol != "vcapi":
        claims.refuse_unknown_offer()
    return offer


def verify_didauth(issuer: Issuer, presentation: Any, *, challenge: str) -> str:
    """The holder DID a DIDAuth presentation proves, or the refusal (PRESENTATION_INVALID,
    CHALLENGE_MISMATCH, DOMAIN_MISMATCH, PROOF_INVALID, HOLDER_KEY_MISMATCH …)."""
    if not is_presentation(presentation):
        raise InputError(Code.PRESENTATION_INVALID, "The body is not a Verifiable Presentation.")
    if as_list(presentation.get("verifiableCredential")):
        raise InputError(Code.PRESENTATION_INVALID, "A DIDAuth presentation holds no credentials: send one with "
                         "only the holder and its proof.")
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    if not isinstance(holder, str) or not holder:
        raise InputError(Code.PRESENTATION_INVALID, "The DIDAuth presentation must name its holder (a DID).")
    claims.check_holder(holder)
    _check_domain(issuer, presentation)
    report = verify_presentation(presentation, loader=issuer.loader, fetch=current_app.extensions["badgesmith"].fetch,
                                 verify_credential=_no_credentials, challenge=challenge, require_proof=True)
    _raise_first_failure(report)
    return holder


def _check_domain(issuer: Issuer, presentation: dict[str, Any]) -> None:
    # The deep-link flow signs no domain: checked only when a proof names one, and then it must be this site.
    site = issuer.settings.url
    accepted = {site, site + "/", urlsplit(site).netloc}
    for proof in as_list(presentation.get("proof")):
        if isinstance(proof, dict) and "domain" in proof and not accepted & set(map(str, as_list(proof["domain"]))):
            raise CredentialError(Code.DOMAIN_MISMATCH, "The presentation's proof was made for another site "
                                  f"(domain), not {urlsplit(site).netloc}.")


def _no_credentials(credential: dict[str, Any]) -> Report:  # pragma: no cover - refused before verifying
    raise InputError(Code.PRESENTATION_INVALID, "A DIDAuth presentation holds no credentials.")


def _raise_first_failure(report: Report) -> None:
    for check in report.checks:
        if check.outcome == FAILED:
            raise CredentialError(Code(check.code), check.message)


__all__ = ["CLAIM_RATE_LIMIT", "bp", "claim_limiter", "spend_claim_budget", "verify_didauth"]
