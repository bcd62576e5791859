"""The issuer's public web side: badge pages learners share, and the published documents
(issuer Profile, Achievements, DID document, status lists) that credential ids point to.

Reads the registry through the app's ``Issuer`` (``app.extensions["badgesmith"].issuer``);
changes nothing, so no form here needs CSRF protection.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from errors import Code, NotFound
from issuer.association.setup import association_for, association_profile
from issuer.awarding.documents import signed_status_list
from issuer.awarding.endorsing import endorsement_summaries, stored_endorsements
from issuer.awarding.issuing import Issuer
from issuer.awarding.outputs import achievement_image, file_stem
from issuer.badge.bake import bake_png
from issuer.badge.qr import qr_png, qr_svg
from issuer.store.models import CredentialRecord
from issuer.web.badge_state import BadgeState, award_date, badge_state
from issuer.web.certificate import PAPERS, certificate_pdf, certificate_text, credential_code
from verifier.summary import summarize
from verifier.validity import parse_datetime
from verifier.wording import long_date

bp = Blueprint("issuer", __name__)

JSONLD = "application/ld+json"
PUBLIC_CACHE = "public, max-age=300"
OB_CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
               "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _issuer() -> Issuer:
    issuer = current_app.extensions["badgesmith"].issuer
    if issuer is None:
        abort(404)
    return issuer


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match([JSONLD, "application/json", "text/html"], default="text/html")
    return best in (JSONLD, "application/json") and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"]


def _jsonld(document: Any, *, cache: str = PUBLIC_CACHE) -> Response:
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype=JSONLD)
    response.headers["Cache-Control"] = cache
    response.headers["Access-Control-Allow-Origin"] = "*"  # public documents, read by wallets and verifiers
    return response


def _record(credential_uuid: str) -> CredentialRecord:
    try:
        value = uuid.UUID(credential_uuid)
    except ValueError:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND, "There is no badge at this address.") from None
    record = _issuer().registry.get_credential(f"urn:uuid:{value}", issuer_id=_issuer().issuer_id)
    if record is None:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND, "There is no badge at this address.")
    return record


def _credential_document(record: CredentialRecord) -> Any:
    return record.credential if record.format == "jwt" else json.loads(record.credential)


def _credential_dict(record: CredentialRecord) -> dict[str, Any]:
    if record.format != "jwt":
        return json.loads(record.credential)
    from keys.vc_jwt import decode_jwt
    from verifier.pipeline import credential_from_jwt_payload

    return credential_from_jwt_payload(decode_jwt(record.credential)[1])


def linkedin_url(summary: dict[str, Any], page_url: str, credential_id: str,
                 organization_id: str | None = None, *, awarded: date | None = None) -> str:
    """LinkedIn's add-to-profile link for a certification (name, organisation, dates, id, URL).

    With the brand's LinkedIn organization id the certification links to the association's page.
    The issue month is ``awarded`` (``badge_state.award_date``) when given, else validFrom: a renewal
    awarded today whose cycle starts next year was issued today, not in the future.
    """
    params: dict[str, Any] = {"startTask": "CERTIFICATION_NAME",
                              "name": summary.get("name") or (summary.get("achievement") or {}).get("name") or "",
                              "certUrl": page_url, "certId": credential_id}
    if organization_id:
        params["organizationId"] = organization_id
    else:
        params["organizationName"] = (summary.get("issuer") or {}).get("name") or ""
    start = awarded or parse_datetime(summary.get("validFrom"))
    if start:
        params.update(issueYear=start.year, issueMonth=start.month)
    end = parse_datetime(summary.get("validUntil"))
    if end:
        params.update(expirationYear=end.year, expirationMonth=end.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def _page_context(record: CredentialRecord) -> dict[str, Any]:
    issuer = _issuer()
    credential = _credential_dict(record)
    summary = summarize(credential)
    page_url = issuer.credential_page(record.id)
    standing = badge_state(record, issuer.now(), issuer.registry)
    # The page dates the start from what was signed, and never calls a badge valid before its signed validFrom.
    signed_from = parse_datetime(summary.get("validFrom"))
    if standing.is_active and signed_from is not None and signed_from > issuer.now():
        standing = BadgeState("pending", f"Not valid until {long_date(signed_from)}.", signed_from, None)
    uid = record.id.removeprefix("urn:uuid:")
    brand = issuer.settings.public_brand
    return {
        "record": record, "summary": summary, "page_url": page_url, "standing": standing,
        "starts_on": signed_from if standing.state == "pending" else None,
        "state": standing.state, "state_sentence": standing.sentence, "uid": uid,
        "code": credential_code(record.id),
        "linkedin": linkedin_url(summary, page_url, record.id, brand.linkedin_organization_id,
                                 awarded=award_date(record)),
        "awarded_on": award_date(record),
        "image_url": url_for("issuer.achievement_image_file", slug=record.achievement, kind="png",
                             _external=True),
        "verify_url": url_for("verify.verify_page", credential=uid),
        "issuer_name": issuer.settings.name,
    }


@bp.get("/credentials/<credential_uuid>")
def credential_page(credential_uuid: str) -> Any:
    """The public badge page (HTML), or the credential itself for JSON clients."""
    if credential_uuid.endswith(".json"):
        return credential_json(credential_uuid.removesuffix(".json"))
    record = _record(credential_uuid)
    if _wants_json() or record.achievement is None:  # a VC API credential is not a badge: its JSON is the page
        return credential_json(credential_uuid)
    response = Response(render_template("credentials/page.html", **_page_context(record)))
    response.headers["Cache-Control"] = "no-cache"  # live status
    response.vary.add("Accept")
    return response


def credential_json(credential_uuid: str) -> Response:
    record = _record(credential_uuid)
    if record.format == "jwt":
        response = Response(record.credential, mimetype="application/vc+jwt")
    else:
        response = _jsonld(json.loads(record.credential), cache="no-cache")
    response.vary.add("Accept")
    return response


@bp.get("/credentials/<credential_uuid>/credential.json")
def credential_download(credential_uuid: str) -> Response:
    """The signed credential as a download (for wallets)."""
    record = _record(credential_uuid)
    response = credential_json(credential_uuid)
    extension = "jwt" if record.format == "jwt" else "json"
    response.headers["Content-Disposition"] = f'attachment; filename="{file_stem(record)}.{extension}"'
    return response


@bp.get("/credentials/<credential_uuid>/badge.png")
def credential_badge(credential_uuid: str) -> Response:
    """The baked PNG: the badge image with the signed credential inside."""
    record = _record(credential_uuid)
    if record.achievement is None:
        abort(404)
    art = achievement_image(_issuer().settings, _issuer().achievement(record.achievement), "png")
    if art is None:
        abort(404)
    response = Response(bake_png(art, record.credential), mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_stem(record)}.png"'
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@lru_cache(maxsize=512)
def _qr(url: str, kind: str) -> bytes:
    return qr_svg(url) if kind == "svg" else qr_png(url)


@bp.get("/credentials/<credential_uuid>/qr.<kind>")
def credential_qr(credential_uuid: str, kind: str) -> Response:
    """A QR code of the badge page (PNG or SVG), cached."""
    if kind not in ("png", "svg"):
        abort(404)
    record = _record(credential_uuid)
    data = _qr(_issuer().credential_page(record.id), kind)
    response = Response(data, mimetype="image/svg+xml" if kind == "svg" else "image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/credentials/<credential_uuid>/certificate")
def credential_certificate(credential_uuid: str) -> Any:
    """The certificate as a web page (it matches the PDF; A4 or Letter landscape when printed)."""
    record = _record(credential_uuid)
    if record.achievement is None:
        abort(404)
    context = _page_context(record)
    context["certificate"] = certificate_text(context["summary"], record.id, context["page_url"])
    response = Response(render_template("credentials/certificate.html", **context))
    response.headers["Cache-Control"] = "no-cache"  # a revocation must show at once
    return response


@bp.get("/credentials/<credential_uuid>/certificate.pdf")
def credential_certificate_pdf(credential_uuid: str) -> Response:
    """The certificate as a PDF: ``?paper=a4`` (default) or ``letter``, landscape."""
    record = _record(credential_uuid)
    paper = request.args.get("paper", "a4").lower()
    if record.achievement is None or paper not in PAPERS:
        abort(404)
    context = _page_context(record)
    text = certificate_text(context["summary"], record.id, context["page_url"])
    data = certificate_pdf(text, _issuer().settings.public_brand, context["standing"], paper=paper)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{file_stem(record)}-certificate-{paper}.pdf"'
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/issuer")
def issuer_profile() -> Any:
    """The issuer's OB 3.0 Profile (JSON-LD; a short HTML page for browsers)."""
    issuer = _issuer()
    association = association_for(issuer)
    # An association's profile lists its divisions (issuer.association.setup.association_profile).
    profile = {"@context": OB_CONTEXTS,
               **(issuer.profile() if association is None else association_profile(association))}
    if _wants_json() or not request.accept_mimetypes.accept_html:
        return _jsonld(profile)
    achievements = issuer.registry.list_achievements(issuer.issuer_id)
    return render_template("issuer/profile.html", profile=profile, achievements=achievements)


@bp.get("/achievements/<slug>")
def achievement(slug: str) -> Any:
    """An Achievement as published (JSON-LD), or its HTML page."""
    definition = _issuer().achievement(slug)
    document = {"@context": OB_CONTEXTS, **definition["ob"]}
    endorsements = [e for e in stored_endorsements(definition) if isinstance(e, dict)]  # `badgesmith endorse`
    if endorsements:
        document["endorsement"] = endorsements
    if _wants_json() or not request.accept_mimetypes.accept_html:
        return _jsonld(document)
    return render_template("issuer/achievement.html", achievement=definition["ob"], slug=slug,
                           issuer=_issuer().profile(), endorsements=endorsement_summaries(definition))


@bp.get("/achievements/<slug>/image")
@bp.get("/achievements/<slug>/image.<kind>")
def achievement_image_file(slug: str, kind: str | None = None) -> Response:
    """The achievement's badge art (PNG by default, SVG when asked and available)."""
    issuer = _issuer()
    definition = issuer.achievement(slug)
    wanted = kind or ("svg" if request.accept_mimetypes.best == "image/svg+xml" else "png")
    data = achievement_image(issuer.settings, definition, wanted) or achievement_image(
        issuer.settings, definition, "png")
    if data is None:
        abort(404)
    is_svg = data.lstrip()[:1] == b"<"
    response = Response(data, mimetype="image/svg+xml" if is_svg else "image/png")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    if is_svg:  # an SVG opened directly must not run anything
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.get("/brand/logo")
def brand_logo() -> Response:
    """The association's logo from ``[brand] logo`` (checked like badge art when the settings load)."""
    brand = _issuer().settings.public_brand
    data = brand.logo_bytes()
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/svg+xml" if brand.logo_type == "svg" else "image/png")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    if brand.logo_type == "svg":  # an SVG opened directly must not run anything
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.get("/brand/style.css")
def brand_stylesheet() -> Response:
    """The brand's colour as a stylesheet (the CSP allows no inline styles)."""
    color = _issuer().settings.public_brand.primary_color
    response = Response(f":root {{ --brand: {color}; --link: {color}; }}\n", mimetype="text/css")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    """The did:web DID document (every key, retired ones included, so old credentials verify)."""
    document = _issuer().did_document()
    if document is None:
        abort(404)
    return _jsonld(document)


@bp.get("/<path:did_path>/did.json")
def did_document_path(did_path: str) -> Response:
    """The did:web path form: did:web:host:a:b → https://host/a/b/did.json."""
    issuer = _issuer()
    if issuer.settings.did_method != "web" or ":".join(did_path.split("/")) != ":".join(
            (issuer.settings.did_web or "").split(":")[1:]):
        abort(404)
    return did_document()


# max: list numbers are small; a 30-digit one must be a 404, not an integer the database refuses.
@bp.get("/status/<purpose>/<int(max=999999999):seq>")
def status_list(purpose: str, seq: int) -> Response:
    """A signed BitstringStatusListCredential, at the URL the credentials name."""
    text = signed_status_list(_issuer(), purpose, seq)
    if text is None:
        abort(404)
    response = Response(text, mimetype=JSONLD)
    # Short cache: a revocation must reach verifiers quickly.
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


__all__ = ["bp", "linkedin_url"]
