"""The learner's page, ``/learners/<token>``, and its transcript download (blueprint ``bp``).

What the page shows is ``issuer.records.learners.learner_view``; it is private
by design: ``no-store``, ``noindex``, and no referrer, since the token is in
the URL. Unknown and revoked tokens both answer 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, url_for

from issuer.awarding.issuing import Issuer
from issuer.records.learners import active_link, learner_view
from issuer.records.transcript import issue_transcript, transcript_json
from issuer.store.models import LearnerLinkRecord

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
    view = learner_view(issuer, link.lookup_key)
    html = render_template("learners/page.html", view=view, token=token, issuer_name=issuer.settings.name,
                           transcript_url=url_for("learners.learner_transcript", token=token))
    return _private(Response(html))


@bp.get("/learners/<token>/transcript.json")
def learner_transcript(token: str) -> Response:
    """The learner's signed CLR 2.0 transcript, made fresh (current credentials only)."""
    issuer, link = _link_or_404(token)
    transcript = issue_transcript(issuer, lookup_key=link.lookup_key)
    response = Response(transcript_json(transcript.document), mimetype="application/json")
    stem = f"transcript-{issuer.now().date().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}"'
    return _private(response)


__all__ = ["PRIVATE_HEADERS", "bp", "learner_page", "learner_transcript"]
