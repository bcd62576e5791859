"""The verifying half of the W3C VC API: ``POST /credentials/verify`` and ``POST /presentations/verify``.

Public, like ``/api/verify``, and rate limited the same way. The answer is the
verification report (``verifier.report``) plus ``errors`` (the failed checks'
codes): 200 when verified, 422 when the credential was read but does not
verify, 400 when the request itself cannot be read (a ``verifiableCredential``
that is a string, not an object, included). Every check always runs;
``options.checks`` cannot switch the status or validity checks off.

The issuing half (and the OpenAPI text for it) is ``issuer.vc_api``; this
module only describes its paths, so ``verifier`` never imports ``issuer``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from errors import Code, InputError
from verifier.presentation import ENVELOPED_CREDENTIAL, envelope_payload, verify_presentation
from verifier.report import FAILED, Check, Report
from verifier.web import json_object_body, throttle

bp = Blueprint("vc_api_verify", __name__)



def _services() -> Any:
    return current_app.extensions["badgesmith"]


def _json_object() -> dict[str, Any]:
    body = json_object_body()
    options = body.get("options")
    if options is not None and not isinstance(options, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "options must be a JSON object.")
    return body


def _answer(report: Report) -> Response:
    body = report.to_dict()
    failed = [c for c in report.checks if c.outcome == FAILED]
    failed += [c for _, embedded in report.embedded for c in embedded.checks if c.outcome == FAILED]
    body["errors"] = [{"check": c.check, "code": c.code, "message": c.message} for c in failed]
    response = jsonify(body)
    response.status_code = 200 if report.verified else 422
    response.headers["Cache-Control"] = "no-store"
    return response


def verify_object(credential: dict[str, Any]) -> Report:
    """The app's verification of one credential object (embedded proof or envelope)."""
    data = envelope_payload(credential)
    return _services().verify(data if data is not None else json.dumps(credential).encode("utf-8"))


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    """Verify ``{verifiableCredential, options}``: 200 verified, 422 not verified, 400 unreadable."""
    throttle()
    credential = _json_object().get("verifiableCredential")
    if credential is None:
        raise InputError(Code.NO_CREDENTIAL, "The request needs {\"verifiableCredential\": {...}}.")
    if not isinstance(credential, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "verifiableCredential must be a JSON object with an embedded proof "
                                               "(a JWT goes in an EnvelopedVerifiableCredential).")
    return _answer(verify_object(credential))


@bp.post("/presentations/verify")
def verify_presentation_endpoint() -> Response:
    """Verify ``{verifiablePresentation, options: {challenge, domain}}`` and every credential in it."""
    throttle()
    body = _json_object()
    presentation = body.get("verifiablePresentation")
    if presentation is None:
        raise InputError(Code.NO_CREDENTIAL, "The request needs {\"verifiablePresentation\": {...}}.")
    if not isinstance(presentation, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "verifiablePresentation must be a JSON object.")
    options = body.get("options") or {}
    challenge, domain = options.get("challenge"), options.get("domain")
    if not all(v is None or isinstance(v, str) for v in (challenge, domain)):
        raise InputError(Code.USAGE, "options.challenge and options.domain must be strings.")
    loader, fetch = _collaborators()
    report = verify_presentation(presentation, loader=loader, fetch=fetch, verify_credential=_embedded,
                                 challenge=challenge, domain=domain)
    return _answer(report)


def _embedded(credential: dict[str, Any]) -> Report:
    try:
        return verify_object(credential)
    except InputError as error:  # one unreadable credential fails the presentation, it is not a bad request
        return Report(checks=(Check("container", FAILED, error.code.value, error.message),), container="json")


def _collaborators() -> tuple[Any, Any]:
    """The app's pinned loader and its fetch (for holder keys on did:web)."""
    services = _services()
    if getattr(services, "loader", None) is None:  # services a test built by hand
        from schemas.loader import offline_loader

        return offline_loader(), services.fetch
    return services.loader, services.fetch


__all__ = ["ENVELOPED_CREDENTIAL", "bp", "envelope_payload", "verify_object"]
