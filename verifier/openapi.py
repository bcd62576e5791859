"""The OpenAPI 3.1 description of the verification API, served at ``GET /api/openapi.json``.

Kept as Python so the size limit and the check names come from the running
configuration and ``verifier.report`` rather than a copy that could drift.
The component schemas are plain JSON Schema 2020-12 (OpenAPI 3.1 uses it as-is);
the tests validate real responses against them.
"""

from __future__ import annotations

from typing import Any

from errors import Code
from verifier.report import CHECK_ORDER, FAILED, PASSED, SKIPPED, WARNING

_NULLABLE_TEXT = {"type": ["string", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}

_CREDENTIAL_SUMMARY = {
    "type": ["object", "null"],
    "description": "What the credential says, taken from it (untrusted text: escape before display).",
    "properties": {
        "id": _NULLABLE_TEXT,
        "name": _NULLABLE_TEXT,
        "issuer": {"type": "object", "properties": {"id": _NULLABLE_TEXT, "name": _NULLABLE_TEXT}},
        "achievement": {
            "type": "object",
            "properties": {
                "id": _NULLABLE_TEXT, "name": _NULLABLE_TEXT, "achievementType": _NULLABLE_TEXT,
                "description": _NULLABLE_TEXT, "criteria": _NULLABLE_TEXT,
                "creditsAvailable": _NULLABLE_NUMBER, "image": _NULLABLE_TEXT,
            },
        },
        "recipient": {"type": "object", "properties": {"id": _NULLABLE_TEXT, "name": _NULLABLE_TEXT}},
        "creditsEarned": _NULLABLE_NUMBER,
        "validFrom": _NULLABLE_TEXT,
        "validUntil": _NULLABLE_TEXT,
    },
}

_SCHEMAS: dict[str, Any] = {
    "Check": {
        "type": "object",
        "required": ["check", "outcome", "code", "message"],
        "properties": {
            "check": {"type": "string", "enum": list(CHECK_ORDER)},
            "outcome": {"type": "string", "enum": [PASSED, FAILED, SKIPPED, WARNING]},
            "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$",
                     "description": "Stable code (SCREAMING_SNAKE_CASE)."},
            "message": {"type": "string", "description": "One sentence for people."},
        },
    },
    "Report": {
        "type": "object",
        "description": "The verification report. `verified` is true only when no check failed.",
        "required": ["verified", "format", "container", "credential", "checks", "warnings"],
        "properties": {
            "verified": {"type": "boolean"},
            "format": {"type": ["string", "null"],
                       "examples": ["di-eddsa-rdfc-2022", "ed25519-2020", "vc-jwt"]},
            "container": {"type": ["string", "null"], "enum": ["json", "jwt", "png", "svg", None]},
            "credential": _CREDENTIAL_SUMMARY,
            "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "embedded": {"type": "array",
                         "items": {"allOf": [{"$ref": "#/components/schemas/Report"}],
                                   "properties": {"id": {"type": "string"}}}},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": [code.value for code in Code]},
                    "message": {"type": "string"},
                    "retry_after": {"type": "integer", "description": "Seconds (429 only)."},
                },
            },
        },
    },
}


def _vc_api_paths() -> dict[str, Any]:
    """The W3C VC API endpoints (issue 8): issuing and status need an OAuth 2.0 token, verifying does not."""
    body = {"type": "object"}
    report = {"description": "The verification report plus `errors` (the failed checks' codes).",
              "content": {"application/json": {"schema": {
                  "allOf": [{"$ref": "#/components/schemas/Report"}],
                  "properties": {"errors": {"type": "array", "items": {"type": "object"}}}}}}}
    auth = {"401": _error("No, a forged, an expired (TOKEN_EXPIRED) or a revoked client's bearer token."),
            "403": _error("The token lacks the scope (FORBIDDEN).")}
    # Every JSON endpoint reads its body through one reader with one size cap.
    body_refusals = {"413": _error("The request body is too large (INPUT_TOO_LARGE)."),
                     "415": _error("Not application/json (UNSUPPORTED_MEDIA_TYPE).")}
    issued = {"description": "The signed credential.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["verifiableCredential"], "properties": {"verifiableCredential": body}}}}}

    def issue(operation: str, summary: str) -> dict[str, Any]:
        return {"post": {
            "operationId": operation, "summary": summary, "security": [{"oauth2": ["issue"]}],
            "description": ("Any VC 2.0 (or 1.1) credential. `issuer` and `id` are filled in when absent; the "
                            "issuer must be this instance's DID. `options.credentialStatus` "
                            "`{type: BitstringStatusListEntry, statusPurpose: revocation|suspension}` "
                            "allocates a random status index in the same transaction."),
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["credential"],
                "properties": {"credential": body, "options": body}}}}},
            "responses": {"201": issued, "400": _error("Unreadable request or JSON-LD (CONTEXT_NOT_ALLOWED, "
                                                      "UNDEFINED_TERM …)."),
                          **auth, "409": _error("A credential with this id was issued already."),
                          **body_refusals,
                          "422": _error("Breaks a VC Data Model rule (DATA_MODEL_INVALID, `rule` named) or "
                                        "names another issuer (ISSUER_MISMATCH).")}}}

    def verify(operation: str, summary: str, field: str) -> dict[str, Any]:
        return {"post": {
            "operationId": operation, "summary": summary,
            "description": "Public and rate limited. Every check always runs.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": [field], "properties": {field: body, "options": body}}}}},
            "responses": {"200": report, "400": _error(f"{field} is missing or not an object."),
                          **body_refusals, "422": report, "429": _error("Too many requests (RATE_LIMITED).")}}}

    return {
        "/credentials/issue": issue("issueCredential", "Sign a credential with eddsa-rdfc-2022."),
        "/ed25519-2020/credentials/issue": issue("issueCredentialEd25519Signature2020",
                                                 "Sign a credential with Ed25519Signature2020 (legacy verifiers)."),
        "/credentials/status": {"post": {
            "operationId": "updateCredentialStatus", "security": [{"oauth2": ["status"]}],
            "summary": "Revoke, suspend or reinstate a credential by id (logged with the client's name).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["credentialId", "credentialStatus"],
                "properties": {"credentialId": {"type": "string"}, "reason": {"type": "string"},
                               "credentialStatus": {"type": "array", "items": {"type": "object", "properties": {
                                   "type": {"const": "BitstringStatusListEntry"},
                                   "status": {"enum": ["revoked", "suspended", "active"]}}}}}}}}},
            "responses": {"200": {"description": "The new status.", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"credentialId": {"type": "string"},
                                                            "status": {"type": "string"}}}}}},
                          "400": _error("Unknown status."), **auth, "404": _error("No such credential here."),
                          "409": _error("Not possible from the current status (STATUS_CHANGE_INVALID)."),
                          **body_refusals}}},
        "/credentials/verify": verify("verifyCredentialVcApi", "Verify {verifiableCredential, options}.",
                                      "verifiableCredential"),
        "/presentations/verify": verify("verifyPresentation", "Verify a presentation's authentication proof "
                                        "(options.challenge, options.domain) and every credential in it.",
                                        "verifiablePresentation"),
        "/oauth/token": {"post": {
            "operationId": "token", "summary": "OAuth 2.0 client credentials grant: a 10-minute bearer token.",
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["grant_type"],
                "properties": {"grant_type": {"const": "client_credentials"}, "client_id": {"type": "string"},
                               "client_secret": {"type": "string"}, "scope": {"type": "string"},
                               "audience": {"type": "string"}}}}}},
            "responses": {"200": {"description": "access_token, token_type Bearer, expires_in, scope."},
                          "400": {"description": "RFC 6749 error (unsupported_grant_type, invalid_scope …)."},
                          "401": {"description": "invalid_client."}}}},
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def openapi_document(*, max_bytes: int) -> dict[str, Any]:
    """The OpenAPI 3.1 document for this server, with its request size limit."""
    email = {"name": "email", "in": "query", "required": False,
             "description": "Also check that the credential was awarded to this e-mail address.",
             "schema": {"type": "string", "format": "email"}}
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    verify_post = {
        "operationId": "verifyCredential",
        "summary": "Verify a credential: JSON, a compact VC-JWT, or a baked PNG/SVG badge image.",
        "description": ("A negative verdict is not an error: the answer is 200 with `verified: false` "
                        f"and the failed checks. Request bodies are limited to {max_bytes} bytes. "
                        "Rate limited per client address (429 with Retry-After)."),
        "parameters": [email],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"},
                                     "description": "The credential JSON (also application/ld+json, "
                                                    "application/vc+ld+json, application/vc+json)."},
                "application/jwt": {"schema": {"type": "string"},
                                    "description": "A compact VC-JWT (also application/vc+jwt)."},
                "text/plain": {"schema": {"type": "string"}, "description": "A compact VC-JWT or JSON text."},
                "image/png": {"schema": binary, "description": "A baked PNG badge."},
                "image/svg+xml": {"schema": binary, "description": "A baked SVG badge."},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                                     "description": "Badge image (PNG/SVG), credential JSON or JWT file."},
                            "email": {"type": "string", "format": "email"},
                        },
                    },
                },
            },
        },
        "responses": {
            "200": {"description": "The verification report (verified or not).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}},
            "400": _error("The input could not be read (no credential, malformed JSON/JWT/PNG/SVG)."),
            "413": _error(f"The request body is larger than {max_bytes} bytes (INPUT_TOO_LARGE)."),
            "415": _error("Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE)."),
            "429": _error("Too many requests (RATE_LIMITED); see the Retry-After header."),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Badgesmith verification API", "version": "1",
                 "description": "Verify Open Badges 3.0 credentials (W3C Verifiable Credentials)."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": {
            "/api/verify": {"post": verify_post},
            **_vc_api_paths(),
            "/api/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1 document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/verify": {
                "get": {"operationId": "verifyPage",
                        "summary": "The verification page for people; `?credential=<id>` verifies a "
                                   "credential stored on this site (the link in a badge's QR code).",
                        "parameters": [{"name": "credential", "in": "query", "required": False,
                                        "schema": {"type": "string"}}],
                        "responses": {"200": _html("The form, or the result page."),
                                      "404": _html("No stored credential has this id.")}},
                "post": {"operationId": "verifyForm",
                         "summary": "The form's submission (multipart: file, credential, email); "
                                    "answers with the result page.",
                         "requestBody": {"content": {"multipart/form-data": {"schema": {
                             "type": "object",
                             "properties": {"file": binary, "credential": {"type": "string"},
                                            "email": {"type": "string"}}}}}},
                         "responses": {"200": _html("The result page."),
                                       "400": _html("The form again, saying what could not be read.")}},
            },
        },
        "components": {"schemas": _SCHEMAS, "securitySchemes": {"oauth2": {
            "type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "/oauth/token", "scopes": {"issue": "Issue credentials.",
                                                       "status": "Revoke, suspend or reinstate credentials."}}}}}},
    }


__all__ = ["openapi_document"]
