"""The learner's page, ``/learners/<token>``, and its transcript download (blueprint ``bp``).

What the page shows is ``issuer.records.learners.learner_view``; each badge's
state (``issuer.web.badge_state``) and LinkedIn link (``issuer.web.pages.linkedin_url``)
are the badge page's own. The page is not signed: it links to the signed CLR
transcript, and says so. It is private
by design: ``no-store``, ``noindex``, and no referrer, since the token is in
the URL. Unknown and revoked tokens both answer 404.

The page also lists the learner's **connected apps** (hosts holding access to
their badges through the Open Badges API, ``issuer.records.connected_apps``) with a
"Withdraw access" form each. The unguessable token in the form's address is what
stops another site from posting it (as on the claim and consent pages); a post a
browser marks as coming from another site is refused as well.
"""

from __future__ import annotations

import base64
from typing import Any

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from errors import BadgesmithError, Code, Forbidden
from issuer.association.learner_record import association_view
from issuer.association.setup import association_for
from issuer.association.transcript import issue_association_transcript
from issuer.awarding.issuing import Issuer
from issuer.awarding.wallet_links import CLAIM_PATH, WalletLinks, find_claim_page, open_claim_page, wallet_links
from issuer.badge.qr import qr_svg
from issuer.records.claim_mail import Mailer, email_claim_pin
from issuer.records.connected_apps import ALREADY_WITHDRAWN, connected_apps, withdraw_app
from issuer.records.learners import Entry, LearnerView, active_link, learner_page_url, learner_view
from issuer.records.transcript import issue_transcript, transcript_json
from issuer.store.models import LearnerLinkRecord
from issuer.web.badge_state import BadgeState, award_date, badge_state
from issuer.web.oauth_server import SCOPE_WORDS
from issuer.web.ob_api import authorization_server
from issuer.web.pages import linkedin_url
from issuer.web.wallet_exchange import spend_claim_budget
from verifier.ratelimit import Rate, RateLimiter

PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                   "X-Robots-Tag": "noindex, nofollow"}

bp = Blueprint("learners", __name__)


def _issuer() -> Issuer:
    issuer = current_app.extensions["badgesmith"].issuer
    if issuer is None:
        abort(404)
    return issuer


def _private(response: Response) -> Response:
    for name, value in PRIVATE_HEADERS.items():
        response.headers[name] = value
    return response


def _link_or_404(token: str) -> tuple[Issuer, LearnerLinkRecord]:
    issuer = _issuer()
    link = active_link(issuer, token)
    if link is None:
        abort(404)  # unknown and revoked look the same: a page that was never there
    return issuer, link


@bp.get("/learners/<token>")
def learner_page(token: str) -> Response:
    """The learner's page: current credentials by pathway and achievement, progress, CEUs per year."""
    issuer, link = _link_or_404(token)
    association = association_for(issuer)
    view = learner_view(issuer, link.lookup_key) if association is None else association_view(association,
                                                                                                  link.lookup_key)
    html = render_template("learners/page.html", view=view, token=token, issuer_name=issuer.settings.name,
                           page_url=learner_page_url(issuer, token), states=_states(issuer, view),
                           linkedin=_linkedin(issuer, view), wallet=True,
                           transcript_url=url_for("learners.learner_transcript", token=token),
                           apps=connected_apps(issuer, link.lookup_key, authorization_server().now()),
                           scope_words=SCOPE_WORDS)
    return _private(Response(html))


@bp.post("/learners/<token>/connected-apps/withdraw")
def withdraw_connected_app(token: str) -> Response:
    """Withdraw a host's access to this learner's badges: its tokens stop at once; saying so twice is fine."""
    issuer, link = _link_or_404(token)
    _refuse_other_sites()
    outcome, name = withdraw_app(issuer, link.lookup_key, request.form.get("client_id", ""),
                                 authorization_server().now())
    html = render_template("learners/app_withdrawn.html", name=name,
                           already=outcome == ALREADY_WITHDRAWN, back_url=url_for("learners.learner_page", token=token))
    return _private(Response(html))


def _refuse_other_sites() -> None:
    # A form posted from another site's page: Sec-Fetch-Site says so in current browsers, Origin in older
    # ones. (Our own form's Origin is "null": the page sends no referrer, and browsers then send no origin.)
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    own = {f"{p.scheme}://{p.netloc}" for p in (urlsplit(request.host_url), urlsplit(_issuer().settings.url))}
    if (site and site not in ("same-origin", "none")) or (origin and origin != "null" and origin not in own):
        raise Forbidden(Code.FORBIDDEN, "This form can only be sent from your own record page; open the page "
                                        "and use its button.")


def _entries(view: LearnerView) -> list[Entry]:
    return [entry for group in view.groups for entry in group.entries] + list(view.inactive)


def _states(issuer: Issuer, view: LearnerView) -> dict[str, BadgeState]:
    """Each badge's state in the badge page's words (the inactive ones with the date and reason)."""
    now = issuer.now()
    return {entry.id: badge_state(entry.record, now, issuer.registry) for entry in _entries(view)}


def _linkedin(issuer: Issuer, view: LearnerView) -> dict[str, str]:
    """LinkedIn's add-to-profile link of each current badge, as its badge page makes it."""
    organization = issuer.settings.public_brand.linkedin_organization_id
    links = {}
    for group in view.groups:
        for entry in group.entries:
            record = entry.record
            summary: dict[str, Any] = {"name": entry.name, "issuer": {"name": entry.division or issuer.settings.name},
                                       "validFrom": _iso(record.valid_from),
                                       "validUntil": _iso(record.valid_until) if record.valid_until else None}
            links[entry.id] = linkedin_url(summary, entry.page or issuer.credential_page(entry.id), entry.id,
                                           organization, awarded=award_date(record))
    return links


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/learners/<token>/transcript.json")
def learner_transcript(token: str) -> Response:
    """The learner's signed CLR 2.0 transcript, made fresh (current credentials only)."""
    issuer, link = _link_or_404(token)
    association = association_for(issuer)
    if association is None:
        transcript = issue_transcript(issuer, lookup_key=link.lookup_key)
    else:
        transcript = issue_association_transcript(association, lookup_key=link.lookup_key)
    response = Response(transcript_json(transcript.document), mimetype="application/json")
    stem = f"transcript-{issuer.now().date().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}"'
    return _private(response)


# -- "Add to wallet" (issue 20): only where the recipient alone can reach it, never on the public badge page --


@bp.get("/learners/<token>/wallet/<credential_uuid>")
def learner_wallet(token: str, credential_uuid: str) -> Response:
    """Fresh single-use wallet offers (QR codes and links) for one of the learner's current badges."""
    issuer, link = _link_or_404(token)
    record = issuer.registry.get_credential(f"urn:uuid:{credential_uuid}", issuer_id=issuer.issuer_id)
    if record is None or record.lookup_key != link.lookup_key or record.achievement is None:
        abort(404)  # another learner's badge looks like no badge
    spend_claim_budget()
    links = wallet_links(issuer, record.id)
    html = render_template("learners/wallet.html", links=links, qr=_qr_codes(links),
                           badge_name=_badge_name(issuer, record.achievement),
                           back_url=url_for("learners.learner_page", token=token), back_label="your record")
    return _private(Response(html))


@bp.route(f"{CLAIM_PATH}<secret>", methods=["GET", "POST"])
def claim_page(secret: str) -> Response:
    """A claim page from an e-mail or a roster summary: the PIN sent separately (or e-mailed to the award's
    address on request) opens fresh wallet offers."""
    issuer = _issuer()
    spend_claim_budget()
    offer = find_claim_page(issuer, secret)
    name = _badge_name(issuer, issuer.registry.get_credential(offer.credential_id).achievement)
    context = {"badge_name": name, "action": url_for("learners.claim_page", secret=secret), "links": None,
               "error": None, "sent_to": None, "can_email": bool(issuer.settings.smtp.host and issuer.settings.email)
               or current_app.config.get("CLAIM_PIN_MAILER") is not None}
    status = 200
    if request.method == "POST" and request.form.get("action") == "email-pin":
        _pin_mail_limiter().take(offer.id)  # a few PIN e-mails per page, whoever asks
        context["sent_to"] = email_claim_pin(issuer, secret, send=_pin_mailer(issuer))
    elif request.method == "POST":
        pin = request.form.get("pin", "").strip()[:20]
        try:
            links = open_claim_page(issuer, secret, pin)
            context.update(links=links, qr=_qr_codes(links))
        except BadgesmithError as error:
            if error.code not in (Code.TX_CODE_REQUIRED, Code.TX_CODE_WRONG):
                raise
            context["error"], status = _PIN_WORDS.get(error.code, error.message), 400
    return _private(Response(render_template("learners/claim.html", **context), status=status))


PIN_MAIL_LIMIT = "3/hour"  # PIN e-mails per claim page: enough for a lost one, never a flood in someone's inbox


def _pin_mail_limiter() -> RateLimiter:
    limiter = current_app.extensions.get("badgesmith.pin_mail_limiter")
    if limiter is None:
        limiter = RateLimiter(Rate.from_text(current_app.config.get("CLAIM_PIN_MAIL_LIMIT") or PIN_MAIL_LIMIT),
                              what="PIN e-mails", storage=current_app.config.get("RATE_LIMIT_STORAGE"))
        current_app.extensions["badgesmith.pin_mail_limiter"] = limiter
    return limiter


def _pin_mailer(issuer: Issuer) -> Mailer:
    configured = current_app.config.get("CLAIM_PIN_MAILER")
    if configured is not None:
        return configured
    from issuer.records.notices import send_message, smtp_relay

    return lambda message: send_message(smtp_relay(issuer.settings.smtp), message)


# The claim page calls the transaction code what the learner was told it is: a PIN.
_PIN_WORDS = {Code.TX_CODE_REQUIRED: "Enter the six-digit PIN that came separately from this link.",
              Code.TX_CODE_WRONG: "That PIN does not match; after 5 wrong PINs this page closes."}


def _qr_codes(links: WalletLinks) -> dict[str, str]:
    # The OID4VCI offer by reference: the inline offer makes a denser code than phones read easily.
    return {name: base64.b64encode(qr_svg(url)).decode("ascii")
            for name, url in (("lcw", links.lcw), ("oid4vci", links.oid4vci_by_reference))}


def _badge_name(issuer: Issuer, slug: str | None) -> str:
    return str(issuer.achievement(slug)["ob"].get("name") or "your badge") if slug else "your badge"


__all__ = ["PRIVATE_HEADERS", "bp", "claim_page", "learner_page", "learner_transcript", "learner_wallet",
           "withdraw_connected_app"]
