"""Web verification for employers: the ``/verify`` page, ``POST /api/verify`` and its OpenAPI.

Everything a credential says is untrusted: templates autoescape it, no image
URL from a credential is loaded without the visitor's click, and uploaded
files are never served back. The services (``verify``, ``lookup``, the rate
limiter) come from ``current_app.extensions["badgesmith"]``, built by
``app.create_app``, so this module never imports ``issuer``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from errors import Code, InputError, NotFound
from verifier.endorsements import ENDORSEMENT_CONTAINER
from verifier.openapi import openapi_document
from verifier.report import FAILED, PASSED, SKIPPED, WARNING, Report
from verifier.sources import Limits as SourceLimits, parse_json
from verifier.wording import achievement_type_label, long_date

bp = Blueprint("verify", __name__)
bp.add_app_template_filter(long_date, "long_date")
bp.add_app_template_filter(achievement_type_label, "type_label")

JSON_TYPES = frozenset({"application/json", "application/ld+json", "application/vc+ld+json",
                        "application/vc+json", "application/vc"})
TEXT_TYPES = frozenset({"application/jwt", "application/vc+jwt", "application/vc+ld+json+jwt", "text/plain"})
IMAGE_TYPES = frozenset({"image/png", "image/svg+xml"})

CHECK_LABELS = {
    "container": "Badge file", "json": "Credential data", "context": "Vocabulary (JSON-LD contexts)",
    "schema": "Open Badges structure", "proof": "Signature", "validity": "Dates",
    "status": "Revocation status", "issuer_trust": "Known issuer", "recipient": "Recipient",
}
OUTCOMES = {PASSED: ("✓", "Passed"), FAILED: ("✗", "Failed"), WARNING: ("!", "Note"),
            SKIPPED: ("–", "Not checked")}


class UnsupportedMediaType(InputError):
    """The request body's Content-Type is not one the API reads."""

    http_status = 415


def _services() -> Any:
    return current_app.extensions["badgesmith"]


def _own_issuers() -> Mapping[str, str]:
    return getattr(_services(), "own_issuers", None) or {}


def throttle() -> None:
    """Apply the app's per-client rate limit (429 RATE_LIMITED when over it)."""
    limiter = _services().limiter
    if limiter is not None:
        limiter.take(request.remote_addr or "unknown")


def _no_store(response: Response) -> Response:
    # Results can name a person: keep them out of shared caches and the back-forward cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def read_email(value: str | None) -> str | None:
    """The optional recipient e-mail, trimmed; None when blank; ``RECIPIENT_INVALID`` when not an address."""
    value = (value or "").strip()
    if not value:
        return None
    local, _, domain = value.partition("@")
    if len(value) > 254 or not local or "." not in domain or "@" in domain or any(c.isspace() for c in value):
        raise InputError(Code.RECIPIENT_INVALID,
                         "The e-mail address to check is not an address such as name@example.org.")
    return value


# -- pages ----------------------------------------------------------------------------------


@bp.get("/verify")
def verify_page() -> Any:
    """The form; with ``?credential=<id>`` (a badge's QR code) the stored credential's result."""
    credential_id = request.args.get("credential", "").strip()
    if not credential_id:
        return render_template("verify/index.html", error=None, email="")
    throttle()
    report = _services().verify(_stored(credential_id))
    return _no_store(Response(render_template("verify/result.html", view=describe(report, email=None, own_issuers=_own_issuers(),
                                                                  site=request.host_url),
                                              stored_id=credential_id)))


@bp.post("/verify")
def verify_form() -> Any:
    """Verify what the form carries (an uploaded file or pasted text) and show the result page."""
    throttle()
    raw_email = request.form.get("email", "")
    try:
        email = read_email(raw_email)
        report = _services().verify(_form_input(), email=email)
    except InputError as error:  # the visitor can fix it: show the form again, saying what went wrong
        # The pasted text comes back with the error, so it can be fixed rather than pasted again.
        page = render_template("verify/index.html", error=error, email=raw_email[:254],
                               pasted=request.form.get("credential", ""))
        return _no_store(Response(page, status=error.http_status))
    return _no_store(Response(render_template("verify/result.html", view=describe(report, email=email, own_issuers=_own_issuers(),
                                                                  site=request.host_url),
                                              stored_id=None)))


def _form_input() -> bytes:
    upload = request.files.get("file")
    file_data = upload.read() if upload is not None and upload.filename else b""
    pasted = request.form.get("credential", "").strip()
    if file_data and pasted:
        raise InputError(Code.USAGE, "Choose a badge image or paste a credential, not both.")
    if not file_data and not pasted:
        raise InputError(Code.NO_CREDENTIAL, "Choose a badge image or paste a credential to verify.")
    return file_data or pasted.encode("utf-8")


def _stored(credential_id: str) -> bytes:
    lookup = _services().lookup
    data = lookup(credential_id[:2000]) if lookup is not None else None
    if data is None:
        raise NotFound(Code.CREDENTIAL_NOT_FOUND,
                       "There is no badge with this link on this site. Check that the link or QR code "
                       "was copied completely, or ask the badge holder for the badge image.")
    return data.encode("utf-8") if isinstance(data, str) else data


# -- API ------------------------------------------------------------------------------------


@bp.post("/api/verify")
def verify_api() -> Any:
    """The report for a JSON, JWT, PNG or SVG body (or a multipart ``file``); 200 even when not verified."""
    throttle()
    data, email = _api_input()
    report = _services().verify(data, email=read_email(email))
    return _no_store(jsonify(report.to_dict()))


def _api_input() -> tuple[bytes, str | None]:
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InputError(Code.NO_CREDENTIAL, "Send the badge or credential in a form field named 'file'.")
        data, email = upload.read(), request.form.get("email") or request.args.get("email")
    elif mimetype in JSON_TYPES or mimetype in TEXT_TYPES or mimetype in IMAGE_TYPES:
        data, email = request.get_data(cache=False), request.args.get("email")
    else:
        shown = mimetype[:100] or "none"
        raise UnsupportedMediaType(Code.UNSUPPORTED_MEDIA_TYPE,
                                   f"Content-Type {shown} is not supported; send application/json, "
                                   "application/jwt, text/plain, image/png, image/svg+xml or "
                                   "multipart/form-data with a 'file' field.")
    if not data.strip():
        raise InputError(Code.NO_CREDENTIAL, "The request carries no credential: the body is empty.")
    return data, email


@bp.get("/api/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(max_bytes=current_app.config["MAX_CONTENT_LENGTH"]))


# -- the result page's view of a report ------------------------------------------------------


def describe(report: Report, *, email: str | None, own_issuers: Mapping[str, str] | None = None,
             site: str | None = None) -> dict[str, Any]:
    """What the result page shows, in the order people read it: verdict, achievement, issuer, dates, checks.

    ``own_issuers`` (issuer id → name) are this site's own issuers, shown as "issued by this site";
    images served from ``site`` (this site's base URL) are shown directly.
    """
    summary = report.credential or {}
    issuer = summary.get("issuer") or {}
    achievement = summary.get("achievement") or {}
    recipient = summary.get("recipient") or {}
    recipient_check = report.check("recipient")
    recipient_text = recipient.get("name") or (email if recipient_check and recipient_check.outcome == PASSED
                                               else None)
    issued = _date(summary.get("validFrom"))
    own_issuers = own_issuers or {}
    return {
        "verified": report.verified,
        "verdict": _verdict(report, summary, recipient_text, issued),
        "achievement": {
            "name": achievement.get("name") or summary.get("name"),
            "type": achievement_type_label(achievement.get("achievementType")),
            "description": achievement.get("description"),
            "criteria": achievement.get("criteria"),
            "credits_earned": _number(summary.get("creditsEarned")),
            "credits_available": _number(achievement.get("creditsAvailable")),
            "image": _image_link(achievement.get("image"), site),
        },
        "credential_id": summary.get("id"),
        "issuer": {"name": issuer.get("name"), "id": issuer.get("id"), "trust": _outcome(report, "issuer_trust"),
                   "this_site": own_issuers.get(issuer.get("id") or "")},
        "recipient": recipient_text or recipient.get("id"),
        "valid_from": issued,
        "valid_until": _date(summary.get("validUntil")),
        "status": _outcome(report, "status"),
        "format": report.format,
        "container": report.container,
        "checks": _checks(report),
        "warnings": list(report.warnings),
        "embedded": [_embedded(cid, nested) for cid, nested in report.embedded],
        "presentation": ({"holder": summary.get("holder"), "count": summary.get("credentials") or 0}
                         if summary.get("type") == "VerifiablePresentation" else None),
    }


def _checks(report: Report) -> list[dict[str, str]]:
    rows = [{"label": CHECK_LABELS.get(c.check, c.check), "outcome": c.outcome,
             "icon": OUTCOMES.get(c.outcome, ("?", c.outcome))[0],
             "word": OUTCOMES.get(c.outcome, ("?", c.outcome))[1],
             "code": c.code, "message": c.message} for c in report.checks]
    return rows


def _embedded(credential_id: str, report: Report) -> dict[str, Any]:
    """One credential inside this one (a transcript entry or an endorsement), with its own checks."""
    summary = report.credential or {}
    issuer = summary.get("issuer") or {}
    return {"id": credential_id, "verified": report.verified, "headline": report.headline(),
            "kind": "Endorsement" if report.container == ENDORSEMENT_CONTAINER else "Credential",
            "name": summary.get("name") or (summary.get("achievement") or {}).get("name"),
            "issuer": issuer.get("name") or issuer.get("id"),
            "checks": _checks(report), "warnings": list(report.warnings)}


def _verdict(report: Report, summary: dict[str, Any], recipient: str | None,
             issued: dict[str, str] | None) -> str:
    if not report.verified or summary.get("type") == "VerifiablePresentation":
        return report.headline()
    issuer = summary.get("issuer") or {}
    parts = [f"issued by {issuer.get('name') or issuer.get('id') or 'an unnamed issuer'}"]
    if recipient:
        parts.append(f"to {recipient}")
    if issued:
        parts.append(f"on {issued['text']}")
    name = summary.get("name") or (summary.get("achievement") or {}).get("name")
    return f"Verified: {name + ', ' if name else ''}{' '.join(parts)}."


def _outcome(report: Report, name: str) -> dict[str, str] | None:
    check = report.check(name)
    if check is None:
        return None
    return {"outcome": check.outcome, "code": check.code, "message": check.message,
            "icon": OUTCOMES.get(check.outcome, ("?", ""))[0]}


def _date(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return {"iso": text, "text": text}
    return {"iso": text, "text": long_date(moment)}


def _number(value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return f"{value:g}"


def _image_link(url: str | None, site: str | None) -> dict[str, Any] | None:
    # Loading a third-party image tells that host who is looking at the badge: link, never embed.
    # An image this site serves itself tells nobody anything new, so it is shown directly.
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    here = urlsplit(site or "")
    return {"url": url, "host": parts.hostname,
            "this_site": (parts.scheme, parts.netloc.lower()) == (here.scheme, here.netloc.lower())}


def json_object_body() -> dict[str, Any]:
    """The request body as a JSON object, or a 415/400 with its code (shared by the JSON APIs)."""
    if not request.is_json:
        raise UnsupportedMediaType(Code.UNSUPPORTED_MEDIA_TYPE, "Send the request as application/json.")
    return read_json_object(request.get_data(cache=True))


# A body wraps the credential ({"verifiableCredential": …}, a presentation around
# credentials): a few levels more than a credential alone may use.
_BODY_LIMITS = SourceLimits(max_json_depth=SourceLimits().max_json_depth + 4)


def read_json_object(data: bytes) -> dict[str, Any]:
    """``data`` as a JSON object through the credential reader's limits (depth, size, duplicates)."""
    try:
        return parse_json(data, limits=_BODY_LIMITS)
    except InputError as error:
        if error.code == Code.JSON_NOT_OBJECT:
            raise InputError(Code.JSON_NOT_OBJECT, "The request body must be a JSON object.") from error
        raise


__all__ = ["UnsupportedMediaType", "bp", "describe", "json_object_body", "read_email", "read_json_object",
           "throttle"]
