"""The one exception tree and the catalogue of stable error codes.

Every failure Badgesmith reports, on the command line or over HTTP, carries a
``Code`` (a stable SCREAMING_SNAKE string, documented in the README) and one
sentence for people. The tree::

    BadgesmithError                      (http 500, exit 2)
    ├── InputError(ValueError)           unreadable or invalid input (400)
    │   ├── InputTooLarge                size / depth / pixel limits (413)
    │   └── CredentialError              context, canonicalisation, proof format
    ├── NotFound(LookupError)            (404)
    ├── Conflict                         (409)
    ├── AuthError                        missing / bad credentials (401)
    │   └── Forbidden                    authenticated but not allowed (403)
    ├── ConfigError                      instance / settings / key problems (500)
    │   └── ServiceUnavailable           the database does not answer (503, Retry-After)
    └── UpstreamError                    a fetch failed or was refused (502)

Over HTTP a ``ConfigError``'s sentence, written for the operator (paths, hosts,
settings), is logged and replaced by a general one (``public_message``).

This module imports nothing of ours; everything may import it.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any


class Code(str, Enum):
    """Stable error and check codes. The value is always the name."""

    # checks that passed (or were skipped) in a verification report
    CONTAINER_OK = "CONTAINER_OK"
    JSON_OK = "JSON_OK"
    CONTEXT_OK = "CONTEXT_OK"
    SCHEMA_OK = "SCHEMA_OK"
    PROOF_OK = "PROOF_OK"
    PROOF_NOT_CHECKED = "PROOF_NOT_CHECKED"
    NOT_CHECKED = "NOT_CHECKED"
    VALIDITY_OK = "VALIDITY_OK"
    STATUS_OK = "STATUS_OK"
    NOT_SUSPENDED = "NOT_SUSPENDED"
    NO_STATUS = "NO_STATUS"
    STATUS_PURPOSE_OTHER = "STATUS_PURPOSE_OTHER"
    NO_TRUST_LIST = "NO_TRUST_LIST"
    ISSUER_KNOWN = "ISSUER_KNOWN"
    RECIPIENT_MATCH = "RECIPIENT_MATCH"
    # reading input
    INPUT_TOO_LARGE = "INPUT_TOO_LARGE"
    INPUT_UNREADABLE = "INPUT_UNREADABLE"
    JSON_MALFORMED = "JSON_MALFORMED"
    JSON_NOT_OBJECT = "JSON_NOT_OBJECT"
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    CONTAINER_UNKNOWN = "CONTAINER_UNKNOWN"
    PNG_MALFORMED = "PNG_MALFORMED"
    PNG_TOO_LARGE = "PNG_TOO_LARGE"
    SVG_MALFORMED = "SVG_MALFORMED"
    SVG_FORBIDDEN = "SVG_FORBIDDEN"
    NO_CREDENTIAL = "NO_CREDENTIAL"
    MULTIPLE_CREDENTIALS = "MULTIPLE_CREDENTIALS"
    TOML_MALFORMED = "TOML_MALFORMED"
    CSV_MALFORMED = "CSV_MALFORMED"
    SPREADSHEET_MALFORMED = "SPREADSHEET_MALFORMED"
    # JSON-LD and schema
    CONTEXT_NOT_ALLOWED = "CONTEXT_NOT_ALLOWED"
    CONTEXT_MISSING = "CONTEXT_MISSING"
    UNDEFINED_TERM = "UNDEFINED_TERM"
    JSONLD_INVALID = "JSONLD_INVALID"
    JSON_RESPELLED = "JSON_RESPELLED"
    CANONICALIZATION_LIMIT = "CANONICALIZATION_LIMIT"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    TYPE_INVALID = "TYPE_INVALID"
    SUBJECT_UNIDENTIFIED = "SUBJECT_UNIDENTIFIED"
    LEGACY_DATA_MODEL = "LEGACY_DATA_MODEL"
    # keys and proofs
    KEY_INVALID = "KEY_INVALID"
    KEY_LOCKED = "KEY_LOCKED"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    KEY_NOT_ISSUERS = "KEY_NOT_ISSUERS"
    KEY_UNRESOLVABLE = "KEY_UNRESOLVABLE"
    KEY_UNBOUND = "KEY_UNBOUND"
    KEY_EXISTS = "KEY_EXISTS"
    DID_INVALID = "DID_INVALID"
    DID_METHOD_UNSUPPORTED = "DID_METHOD_UNSUPPORTED"
    PROOF_MISSING = "PROOF_MISSING"
    PROOF_MALFORMED = "PROOF_MALFORMED"
    PROOF_INVALID = "PROOF_INVALID"
    PROOF_PURPOSE_INVALID = "PROOF_PURPOSE_INVALID"
    PROOF_TYPE_UNSUPPORTED = "PROOF_TYPE_UNSUPPORTED"
    JWT_MALFORMED = "JWT_MALFORMED"
    JWT_UNSIGNED = "JWT_UNSIGNED"
    JWT_ALG_REFUSED = "JWT_ALG_REFUSED"
    JWT_CLAIMS_MISMATCH = "JWT_CLAIMS_MISMATCH"
    # validity, status, trust, recipient
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    DATE_INVALID = "DATE_INVALID"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    STATUS_UNREACHABLE = "STATUS_UNREACHABLE"
    STATUS_LIST_INVALID = "STATUS_LIST_INVALID"
    STATUS_ENTRY_INVALID = "STATUS_ENTRY_INVALID"
    STATUS_TYPE_UNSUPPORTED = "STATUS_TYPE_UNSUPPORTED"
    ISSUER_UNKNOWN = "ISSUER_UNKNOWN"
    RECIPIENT_MISMATCH = "RECIPIENT_MISMATCH"
    # network
    FETCH_REFUSED = "FETCH_REFUSED"
    FETCH_FAILED = "FETCH_FAILED"
    OFFLINE = "OFFLINE"
    # issuing workflow
    INSTANCE_NOT_FOUND = "INSTANCE_NOT_FOUND"
    INSTANCE_EXISTS = "INSTANCE_EXISTS"
    CONFIG_INVALID = "CONFIG_INVALID"
    ACHIEVEMENT_INVALID = "ACHIEVEMENT_INVALID"
    ENDORSEMENT_INVALID = "ENDORSEMENT_INVALID"
    ACHIEVEMENT_NOT_FOUND = "ACHIEVEMENT_NOT_FOUND"
    ACHIEVEMENT_EXISTS = "ACHIEVEMENT_EXISTS"
    CREDENTIAL_NOT_FOUND = "CREDENTIAL_NOT_FOUND"
    CREDITS_EXCEEDED = "CREDITS_EXCEEDED"
    ALREADY_EXPIRED = "ALREADY_EXPIRED"
    ROSTER_INVALID = "ROSTER_INVALID"
    RECIPIENT_INVALID = "RECIPIENT_INVALID"
    STATUS_CHANGE_INVALID = "STATUS_CHANGE_INVALID"
    STATUS_LIST_FULL = "STATUS_LIST_FULL"
    SELF_CHECK_FAILED = "SELF_CHECK_FAILED"
    DATABASE_ERROR = "DATABASE_ERROR"
    # renewals and notices
    RENEWAL_NOT_MET = "RENEWAL_NOT_MET"
    RENEWAL_NOT_AVAILABLE = "RENEWAL_NOT_AVAILABLE"
    SMTP_FAILED = "SMTP_FAILED"
    # pathways and learner progress
    PATHWAY_INVALID = "PATHWAY_INVALID"
    PATHWAY_NOT_FOUND = "PATHWAY_NOT_FOUND"
    LEARNER_NOT_FOUND = "LEARNER_NOT_FOUND"
    # learner records: transcripts (CLR 2.0) and learner links
    TRANSCRIPT_EMPTY = "TRANSCRIPT_EMPTY"
    EMBEDDED_INVALID = "EMBEDDED_INVALID"
    LEARNER_LINK_NOT_FOUND = "LEARNER_LINK_NOT_FOUND"
    # the Open Badges 3.0 API (issue 19): serving learners' hosts, and pushing into them
    OB_QUERY_INVALID = "OB_QUERY_INVALID"
    OB_CREDENTIAL_REFUSED = "OB_CREDENTIAL_REFUSED"
    OB_PROFILE_INVALID = "OB_PROFILE_INVALID"
    OB_AUTHORIZATION_INVALID = "OB_AUTHORIZATION_INVALID"
    OB_SIGN_IN_INVALID = "OB_SIGN_IN_INVALID"
    OB_HOST_INVALID = "OB_HOST_INVALID"
    OB_HOST_REFUSED = "OB_HOST_REFUSED"
    OB_AUTHORIZATION_DENIED = "OB_AUTHORIZATION_DENIED"
    # W3C VC API (issue 8): data model rules, presentations, OAuth clients
    DATA_MODEL_INVALID = "DATA_MODEL_INVALID"
    RELATED_RESOURCE_MISMATCH = "RELATED_RESOURCE_MISMATCH"
    ISSUER_MISMATCH = "ISSUER_MISMATCH"
    PREVIOUS_PROOF_MISSING = "PREVIOUS_PROOF_MISSING"
    PRESENTATION_INVALID = "PRESENTATION_INVALID"
    CHALLENGE_MISMATCH = "CHALLENGE_MISMATCH"
    DOMAIN_MISMATCH = "DOMAIN_MISMATCH"
    CLIENT_NOT_FOUND = "CLIENT_NOT_FOUND"
    CLIENT_EXISTS = "CLIENT_EXISTS"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    # an association and its divisions (issue 18)
    ASSOCIATION_NOT_FOUND = "ASSOCIATION_NOT_FOUND"
    KEY_OF_ANOTHER_ISSUER = "KEY_OF_ANOTHER_ISSUER"
    # wallets (issue 20): claim offers for the Learner Credential Wallet and OID4VCI
    OFFER_UNKNOWN = "OFFER_UNKNOWN"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    OFFER_USED = "OFFER_USED"
    TX_CODE_REQUIRED = "TX_CODE_REQUIRED"
    TX_CODE_WRONG = "TX_CODE_WRONG"
    AWARD_NOT_CLAIMABLE = "AWARD_NOT_CLAIMABLE"
    HOLDER_INVALID = "HOLDER_INVALID"
    HOLDER_KEY_MISMATCH = "HOLDER_KEY_MISMATCH"
    # OpenID for Verifiable Credential Issuance (issue 20): the wallet's requests
    WALLET_PROOF_INVALID = "WALLET_PROOF_INVALID"
    NONCE_INVALID = "NONCE_INVALID"
    CREDENTIAL_CONFIGURATION_UNKNOWN = "CREDENTIAL_CONFIGURATION_UNKNOWN"
    # web
    CATALOG_QUERY_INVALID = "CATALOG_QUERY_INVALID"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    RATE_LIMIT_UNAVAILABLE = "RATE_LIMIT_UNAVAILABLE"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    USAGE = "USAGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class BadgesmithError(Exception):
    """Base of every error Badgesmith raises on purpose.

    ``str(error)`` is the sentence for people; ``code`` is the stable code;
    ``details`` holds machine fields (line, field, url), never key material.
    """

    http_status = 500

    def __init__(self, code: Code, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON for the HTTP API and ``--json`` output."""
        return {"code": self.code.value, "message": self.message, **self.details}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.message})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (a roster's worker processes). Exception's own pickling calls
        # cls(*args), which has no code or details: rebuild from the class and restore the attributes.
        return _rebuilt_error, (type(self), self.message), dict(self.__dict__)


def _rebuilt_error(cls: type[BadgesmithError], message: str) -> BadgesmithError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


class InputError(BadgesmithError, ValueError):
    """The input could not be read or is not acceptable."""

    http_status = 400


class InputTooLarge(InputError):
    """The input is over a size, depth or pixel limit."""

    http_status = 413


class CredentialError(InputError):
    """The credential's JSON-LD, canonical form or proof is not usable."""


class NotFound(BadgesmithError, LookupError):
    """A named thing (credential, achievement, key, instance) does not exist."""

    http_status = 404


class Conflict(BadgesmithError):
    """The request conflicts with what is already stored."""

    http_status = 409


class AuthError(BadgesmithError):
    """No or invalid authorisation."""

    http_status = 401


class Forbidden(AuthError):
    """Authorised, but not for this."""

    http_status = 403


class ConfigError(BadgesmithError):
    """The instance, its settings or its keys are not usable."""

    http_status = 500


class ServiceUnavailable(ConfigError):
    """Something the server needs, its database, is not answering (down, restarting, locked too long)."""

    http_status = 503
    retry_after = 5  # seconds, for the Retry-After header
    oauth_error = "temporarily_unavailable"  # RFC 6749 §4.1.2.1's name, where an OAuth endpoint answers


class UpstreamError(BadgesmithError):
    """A document could not be fetched, or fetching it was refused."""

    http_status = 502


_log = logging.getLogger("badgesmith")


def public_message(error: BadgesmithError) -> str:
    """``error``'s sentence for a web visitor.

    The server's own set-up and database problems are the operator's business, and their sentences
    name paths, database hosts and settings: the real sentence goes to the server's log (logger
    ``badgesmith``) and a visitor gets a general one. Every other error's sentence is about the
    visitor's own request, and is theirs.
    """
    if not isinstance(error, ConfigError):
        return error.message
    _log.error("%s: %s", error.code.value, error.message)
    if isinstance(error, ServiceUnavailable):
        return f"The site's database is not answering just now; please try again in {error.retry_after} seconds."
    return ("This site cannot do that just now because of a problem in its set-up; "
            "its staff can see the details in the server's log.")


def public_dict(error: BadgesmithError) -> dict[str, Any]:
    """``error.to_dict()`` for a web visitor: ``public_message``, and no details of a set-up problem."""
    if isinstance(error, ConfigError):
        return {"code": error.code.value, "message": public_message(error)}
    return error.to_dict()


__all__ = [
    "AuthError",
    "BadgesmithError",
    "Code",
    "Conflict",
    "ConfigError",
    "CredentialError",
    "Forbidden",
    "InputError",
    "InputTooLarge",
    "NotFound",
    "ServiceUnavailable",
    "UpstreamError",
    "public_dict",
    "public_message",
]
